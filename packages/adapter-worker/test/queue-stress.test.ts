/**
 * 8 workers hammer one System V message queue with a seeded random mix of sends and receives
 * (every type rule, nowait and timed) for several seconds; afterwards this thread drains the
 * queue. Every message sent is received exactly once: none lost, none duplicated.
 */
import { describe, expect, it } from 'vitest';
import { createWorkerBackend } from '@ipcx/adapter-worker';
import { IPC_PRIVATE } from '@ipcx/core';
import { closeAfter, closeAllAfter, readToEnd } from '@ipcx/testkit';

const backend = createWorkerBackend({ memoryBytes: 16 * 1024 * 1024 });
const hammer = new URL('./children/mq-hammer.mjs', import.meta.url);
const SEED = 20261124;
const WORKERS = 8;
const DURATION_MS = 3000;

describe('worker message queue stress', () => {
  it(`loses and duplicates no message with ${WORKERS} workers sending and receiving at random`, { timeout: 60_000 }, async () => {
    const queue = closeAfter(await backend.messageQueues.open(IPC_PRIVATE, { create: true }));
    try {
      const reports = await Promise.all(Array.from({ length: WORKERS }, () => backend.pipes.create()));
      for (const pair of reports) closeAllAfter(pair);
      const children = await Promise.all(
        reports.map(([, writer], i) => backend.processes.spawn(hammer, { args: [queue, writer, i + 1, SEED + i, DURATION_MS] })),
      );
      for (const [, writer] of reports) await writer.close();
      const results = await Promise.all(reports.map(async ([reader]) => JSON.parse(new TextDecoder().decode(await readToEnd(reader))) as { sent: number[]; received: number[] }));
      for (const child of children) expect((await child.exited).code).toBe(0);
      const sent = results.flatMap((result) => result.sent);
      const received = results.flatMap((result) => result.received);
      // What is still in the queue belongs to nobody yet: drain it.
      for (;;) {
        const message = await queue.receive({ nowait: true }).catch((error: { code: string }) => {
          if (error.code === 'ENOMSG') return null;
          throw error;
        });
        if (message === null) break;
        const view = new DataView(message.data.buffer, message.data.byteOffset, message.data.byteLength);
        received.push(view.getUint32(0) * 1_000_000 + view.getUint32(4));
      }
      expect(sent.length).toBeGreaterThan(1000);
      expect(new Set(received).size).toBe(received.length); // no duplicate
      expect([...received].sort((a, b) => a - b)).toEqual([...sent].sort((a, b) => a - b)); // none lost
    } finally {
      await queue.remove();
    }
  });
});
