/**
 * Child (the seed's Semaphore(3) example): inside the semaphore, counts itself in cell 0 of the
 * segment, records the most seen inside at once in cell 1, works 40 ms, counts itself out.
 */
import type { SharedSegment } from '@ipcx/core';
import { defineChild, type Semaphore } from '@ipcx/multiprocessing';

export default defineChild<[Semaphore, SharedSegment]>(async ({ args: [semaphore, segment] }) => {
  const cells = new Int32Array(segment.buffer);
  await semaphore.acquire();
  const inside = Atomics.add(cells, 0, 1) + 1;
  for (let seen = Atomics.load(cells, 1); inside > seen; seen = Atomics.load(cells, 1)) Atomics.compareExchange(cells, 1, seen, inside);
  await new Promise((resolve) => setTimeout(resolve, 40));
  Atomics.sub(cells, 0, 1);
  Atomics.add(cells, 2, 1);
  await semaphore.release();
  await segment.close();
});
