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
import { segmentYieldSymbol } from '@ipcx/core/backend';
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

describe('multiprocessing native waits', () => {
  it("multiprocessing native: a get's spin gives the CPU away through the segment's yield (segmentYieldSymbol), then times out as asked", async () => {
    // With both ends on one CPU a spin that never yields cannot catch: the peer runs only once it
    // stops. The ring takes the yield its backend's segment offers (native: sched_yield).
    const queue = await Queue.create<number>(createNativeBackend(), { capacity: 4096 });
    onTestFinished(() => queue.close());
    const segment = (queue as unknown as { ring: { segment: Record<typeof segmentYieldSymbol, () => void> } }).ring.segment;
    const offered = segment[segmentYieldSymbol];
    expect(typeof offered).toBe('function');
    let yields = 0;
    segment[segmentYieldSymbol] = () => {
      yields++;
      offered();
    };
    // Gets of an empty queue, each spinning before it parks until its timeout (a spin preempted
    // before its first yield on a loaded machine yields nothing: the next get spins again).
    for (let attempt = 0; attempt < 50 && yields === 0; attempt++) {
      await expect(queue.get({ timeout: 1 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    }
    expect(yields).toBeGreaterThan(0);
    await queue.put(7);
    expect(await queue.get({ timeout: 1000 })).toBe(7);
  });
});
