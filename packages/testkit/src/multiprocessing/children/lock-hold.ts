/**
 * Child: acquires the lock (or RLock, twice), reports 'held', then releases after `hold` ms,
 * or once the parent sets `hold` when it is an Event (so a slow parent under load never sees
 * the lock released before it has looked), or (hold < 0) holds it until killed.
 */
import { defineChild, Event, type Lock, type Queue, type RLock } from '@ipcx/multiprocessing';

export default defineChild<[Lock | RLock, Queue<string>, number | Event]>(async ({ args: [lock, results, hold] }) => {
  await lock.acquire();
  await results.put('held');
  if (hold instanceof Event) await hold.wait();
  else if (hold < 0) await new Promise(() => setInterval(() => {}, 1000));
  else await new Promise((resolve) => setTimeout(resolve, hold));
  await lock.release();
  await results.put('released');
});
