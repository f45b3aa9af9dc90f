/**
 * A POSIX message queue (the seed names it beside System V's): a child posts jobs with
 * priorities; the parent takes them highest priority first, FIFO within one priority — the order
 * `mq_receive` guarantees, whatever order they were sent in.
 */
import { defineChild, type PosixMessageQueue } from '@ipcx/core';
import { expectEqual, type ExampleMain } from './example.js';

const jobs = [
  { text: 'rotate logs', priority: 1 },
  { text: 'page the on-call engineer', priority: 9 },
  { text: 'refresh the cache', priority: 5 },
  { text: 'restart the database', priority: 9 },
  { text: 'compress old reports', priority: 1 },
  { text: 'renew the certificate', priority: 5 },
];

/** Child side: post every job with its priority. */
export default defineChild<[PosixMessageQueue]>(async ({ args: [queue] }) => {
  for (const job of jobs) await queue.send(job.text, { priority: job.priority });
});

/** Parent side. */
export const main: ExampleMain = async (backend, { uniqueName }) => {
  const name = uniqueName('jobs');
  const queue = await backend.posixMessageQueues.open(name, { create: true, exclusive: true, maxMessages: 10, messageSize: 256 });
  try {
    const child = await backend.processes.spawn(import.meta.url, { args: [queue] });
    expectEqual(await child.exited, { code: 0, signal: null }, 'child exit status');
    const taken: string[] = [];
    for (let i = 0; i < jobs.length; i++) {
      const message = await queue.receive({ timeout: 5000 });
      taken.push(`${message.priority}:${new TextDecoder().decode(message.data)}`);
    }
    const expected = [...jobs].sort((a, b) => b.priority - a.priority).map((job) => `${job.priority}:${job.text}`);
    expectEqual(taken, expected, 'order of receipt');
    return {
      outcome: taken,
      crossings: [
        { from: `child ${child.pid}`, to: `queue ${name}`, what: `6 jobs in the order ${jobs.map((j) => j.priority).join(',')}` },
        { from: `queue ${name}`, to: `parent ${process.pid}`, what: `the same jobs by priority: ${taken.map((t) => t.split(':')[0]).join(',')}` },
      ],
    };
  } finally {
    await queue.close();
    await backend.posixMessageQueues.unlink(name);
  }
};
