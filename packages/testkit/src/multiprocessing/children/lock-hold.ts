/**
 * Child: acquires the lock (or RLock, twice), reports 'held', then either releases after
 * `holdMs` or (holdMs < 0) holds it until killed.
 */
import { defineChild, type Lock, type Queue, type RLock } from '@ipcx/multiprocessing';

export default defineChild<[Lock | RLock, Queue<string>, number]>(async ({ args: [lock, results, holdMs] }) => {
  await lock.acquire();
  await results.put('held');
  if (holdMs < 0) await new Promise(() => setInterval(() => {}, 1000));
  await new Promise((resolve) => setTimeout(resolve, holdMs));
  await lock.release();
  await results.put('released');
});
