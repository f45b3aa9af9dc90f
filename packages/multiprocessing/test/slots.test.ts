/**
 * A ring's liveness slots (src/ring.ts) are taken again once their process has ended, so a queue
 * serves any number of processes over its life, up to RING_SLOTS at once; a slot that a lock word
 * still names (its holder died holding the lock) is not taken again until a waiter has taken the
 * lock over. Both backends, with real children (`fixtures/queue-echo.mjs`).
 *
 * The state "every fresh slot has been handed out and their processes have ended" is reached by
 * writing NEXT_SLOT = RING_SLOTS into the new ring's header (the slots' semaphores are all 0, as
 * those processes' SEM_UNDO would have left them), rather than by running 256 processes first.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { createNativeBackend } from '@ipcx/adapter-native';
import { createWorkerBackend } from '@ipcx/adapter-worker';
import type { IpcBackend, SemaphoreSet } from '@ipcx/core';
import { Queue, RING_SLOTS, RingField, spawn } from '@ipcx/multiprocessing';

const backends: [string, () => IpcBackend][] = [
  ['native', createNativeBackend],
  ['worker', createWorkerBackend],
];

type RingInternals = { ring: { cells: Int32Array; locks: SemaphoreSet; claimSlot(): Promise<void> } };
const internals = (queue: Queue<unknown>) => (queue as unknown as RingInternals).ring;

/** The slots whose semaphore is raised (held by a live process). */
const heldSlots = (queue: Queue<unknown>): number[] =>
  internals(queue)
    .locks.values()
    .flatMap((value, slot) => (value > 0 ? [slot] : []));

for (const [name, make] of backends) {
  describe(`multiprocessing ${name} liveness slots`, () => {
    it(`multiprocessing ${name}: once every fresh slot is used up, new processes take the slots of ended ones (not ENOSPC), never a slot a lock word still names, and take that lock over from its dead holder`, { timeout: 60_000 }, async () => {
      const backend = make();
      const inbox = await Queue.create<{ i: number } | null>(backend, { capacity: 4096 });
      onTestFinished(() => inbox.close());
      const outbox = await Queue.create<{ i: number } | null>(backend, { capacity: 4096 });
      onTestFinished(() => outbox.close());
      for (const queue of [inbox, outbox]) Atomics.store(internals(queue).cells, RingField.NEXT_SLOT / 4, RING_SLOTS);
      // The outbox's write lock is held by slot 0's process, which has ended (its semaphore is 0).
      Atomics.store(internals(outbox).cells, RingField.WRITE_LOCK / 4, 0 + 1);
      // This process claims its slots now (while slot 0 is named), the child when it first uses each ring.
      for (const queue of [inbox, outbox]) await internals(queue).claimSlot();
      expect(heldSlots(outbox)).toHaveLength(1);
      expect(heldSlots(outbox)).not.toContain(0);

      for (let round = 0; round < 3; round++) {
        const child = await spawn(backend, new URL('./fixtures/queue-echo.mjs', import.meta.url), [inbox, outbox]);
        onTestFinished(async () => {
          child.kill('SIGKILL');
          await child.exited;
        });
        await inbox.put({ i: round });
        // The child (the outbox's producer) took the write lock over from the dead slot 0.
        expect(await outbox.get({ timeout: 20_000 })).toEqual({ i: round });
        // This process and the child each hold one slot of each ring; slot 0 stayed out of the
        // outbox's while its write lock named it (the first round), and the child's slot is free
        // again after each round.
        const inboxHeld = heldSlots(inbox);
        const outboxHeld = heldSlots(outbox);
        expect(inboxHeld).toHaveLength(2);
        expect(outboxHeld).toHaveLength(2);
        if (round === 0) expect(outboxHeld).not.toContain(0);
        await inbox.put(null);
        expect(await outbox.get({ timeout: 20_000 })).toBe(null);
        expect((await child.join()).code).toBe(0);
        // The child's slots come back to 0 when it ends (SEM_UNDO; the worker backend's reaper).
        for (const queue of [inbox, outbox]) {
          const until = performance.now() + 10_000;
          while (heldSlots(queue).length !== 1 && performance.now() < until) await new Promise((resolve) => setTimeout(resolve, 10));
          expect(heldSlots(queue)).toHaveLength(1);
        }
      }
      // Every claim came from a slot of an ended process: NEXT_SLOT moved no further.
      for (const queue of [inbox, outbox]) expect(Atomics.load(internals(queue).cells, RingField.NEXT_SLOT / 4)).toBe(RING_SLOTS);
    });
  });
}
