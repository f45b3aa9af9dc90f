/**
 * The seed's message-queue example: a writer process puts 0..9 on a queue (pausing at random), a
 * reader process takes them off as they come. Here the queue is a System V message queue; message
 * types separate the kinds of message on one queue: 1 = value, 2 = end of values, 3 = the
 * reader's summary for the parent.
 */
import { IPC_PRIVATE, defineChild, type MessageQueue } from '@ipcx/core';
import { expectEqual, type ExampleMain, parentPid } from './example.js';

const VALUE = 1;
const END = 2;
const SUMMARY = 3;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Child side, in the role it is given: 'writer' or 'reader'. */
export default defineChild<[MessageQueue, 'writer' | 'reader']>(async ({ args: [queue, role], pid }) => {
  if (role === 'writer') {
    for (let value = 0; value < 10; value++) {
      await queue.send(VALUE, String(value));
      await sleep(Math.random() * 20);
    }
    await queue.send(END, '');
    return;
  }
  const values: number[] = [];
  for (;;) {
    // type -2: the lowest type <= 2, so values (1) come before the end marker (2).
    const message = await queue.receive({ type: -END });
    if (message.type === END) break;
    values.push(Number(new TextDecoder().decode(message.data)));
  }
  await queue.send(SUMMARY, JSON.stringify({ pid, values }));
});

/** Parent side: starts the writer and the reader, then reads the reader's summary. */
export const main: ExampleMain = async (backend) => {
  const queue = await backend.messageQueues.open(IPC_PRIVATE, { create: true, mode: 0o600 });
  try {
    const writer = await backend.processes.spawn(import.meta.url, { args: [queue, 'writer'] });
    const reader = await backend.processes.spawn(import.meta.url, { args: [queue, 'reader'] });
    expectEqual(await writer.exited, { code: 0, signal: null }, 'writer exit status');
    expectEqual(await reader.exited, { code: 0, signal: null }, 'reader exit status');
    const summary = JSON.parse(new TextDecoder().decode((await queue.receive({ type: SUMMARY, timeout: 5000 })).data)) as { pid: number; values: number[] };
    expectEqual(summary.values, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'values the reader took');
    return {
      outcome: summary.values,
      crossings: [
        { from: `writer ${writer.pid}`, to: `reader ${reader.pid}`, what: `values 0..9 as type-${VALUE} messages on queue ${queue.id}, then a type-${END} end marker` },
        { from: `reader ${summary.pid}`, to: `parent ${parentPid}`, what: `a type-${SUMMARY} summary: ${JSON.stringify(summary.values)}` },
      ],
    };
  } finally {
    await queue.remove();
    await queue.close();
  }
};
