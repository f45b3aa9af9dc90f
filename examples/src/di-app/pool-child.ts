/**
 * One child of the di-app's pool: takes a unit of the limit semaphore (with SEM_UNDO, so a crash
 * gives it back), takes one job off the queue, computes, writes the result into its slot of the
 * shared table, counts it and wakes the parent, and gives the unit back.
 *
 * The RUNNING cell holds "running now" in its low 16 bits and "most at once" in its high 16 bits,
 * updated with compare-and-swap so that several processes can update it at once.
 */
import { defineChild, type MessageQueue, type SemaphoreSet, type SysvSegment } from '@ipcx/core';
import { JOB, RESULT_BASE_BYTES, RESULT_BYTES, RESULT_COUNT_CELL, RUNNING_CELL } from './jobs.js';

function countPrimesBelow(n: number): number {
  const composite = new Uint8Array(Math.max(n, 2));
  let count = 0;
  for (let i = 2; i < n; i++) {
    if (composite[i]) continue;
    count++;
    for (let j = i * i; j < n; j += i) composite[j] = 1;
  }
  return count;
}

/** Adds `delta` to "running now" and raises "most at once" if needed, atomically. */
function trackRunning(cells: Int32Array, delta: number): void {
  for (;;) {
    const old = Atomics.load(cells, RUNNING_CELL);
    const running = (old & 0xffff) + delta;
    const most = Math.max(old >>> 16, running);
    if (Atomics.compareExchange(cells, RUNNING_CELL, old, (most << 16) | running) === old) return;
  }
}

export default defineChild<[MessageQueue, SemaphoreSet, SysvSegment]>(async ({ args: [queue, limit, table] }) => {
  await limit.wait(0, 1, { undo: true });
  const cells = new Int32Array(table.buffer, 0, 2);
  trackRunning(cells, +1);
  try {
    const job = JSON.parse(new TextDecoder().decode((await queue.receive({ type: JOB, nowait: true })).data)) as { slot: number; n: number };
    // Long enough that children overlap, so the limit is really exercised.
    await new Promise((resolve) => setTimeout(resolve, 30));
    new Float64Array(table.buffer, RESULT_BASE_BYTES + job.slot * RESULT_BYTES, 1)[0] = countPrimesBelow(job.n);
  } finally {
    trackRunning(cells, -1);
    limit.post(0, 1, { undo: true });
  }
  // Publish after the result is written: the parent reads the slot once the count covers it.
  Atomics.add(cells, RESULT_COUNT_CELL, 1);
  table.notify(RESULT_COUNT_CELL);
});
