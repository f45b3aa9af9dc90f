/**
 * The ring's waits (src/wait.ts) on both backends: a tight ping-pong with a child makes every wait
 * path run (the spin, the worker backend's hand-off in `Atomics.wait`, the park on the segment's
 * futex), and afterwards no waiter may still be counted in the ring's waiters cells: a count left
 * behind (a hand-off sleeper's HANDOFF_UNIT or a parked waiter's 1) would make every later put and
 * get pay a notify for nobody.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { createNativeBackend } from '@ipcx/adapter-native';
import { createWorkerBackend } from '@ipcx/adapter-worker';
import type { IpcBackend } from '@ipcx/core';
import { Queue, RingField, spawn } from '@ipcx/multiprocessing';

const WAITER_CELLS = ['CONSUMER_WAITERS', 'PRODUCER_WAITERS', 'WRITE_LOCK_WAITERS', 'READ_LOCK_WAITERS', 'JOIN_WAITERS'] as const;
const backends: [string, () => IpcBackend][] = [
  ['native', createNativeBackend],
  ['worker', createWorkerBackend],
];

for (const [name, make] of backends) {
  describe(`multiprocessing ${name} waits`, () => {
    it(`multiprocessing ${name}: 500 values through a child and back come back in order, and no waiter is left counted in either ring`, async () => {
      const backend = make();
      const inbox = await Queue.create<{ i: number } | null>(backend, { capacity: 4096 });
      onTestFinished(() => inbox.close());
      const outbox = await Queue.create<{ i: number } | null>(backend, { capacity: 4096 });
      onTestFinished(() => outbox.close());
      const child = await spawn(backend, new URL('./fixtures/queue-echo.mjs', import.meta.url), [inbox, outbox]);
      onTestFinished(async () => {
        child.kill('SIGKILL');
        await child.exited;
      });
      for (let i = 0; i < 500; i++) {
        await inbox.put({ i });
        expect(await outbox.get({ timeout: 20_000 })).toEqual({ i });
      }
      await inbox.put(null);
      expect(await outbox.get({ timeout: 20_000 })).toBe(null);
      expect((await child.join()).code).toBe(0);
      for (const queue of [inbox, outbox]) {
        const cells = (queue as unknown as { ring: { cells: Int32Array } }).ring.cells;
        expect(WAITER_CELLS.map((field) => Atomics.load(cells, RingField[field] / 4))).toEqual([0, 0, 0, 0, 0]);
      }
    });
  });
}
