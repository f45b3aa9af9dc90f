/**
 * Child: calls `notify(index, 1)` until it has woken one waiter (the parent's), without changing
 * the cell, then stores how many that call woke at `reportIndex`.
 */
import { defineChild, type SharedSegment } from '@ipcx/core';

export default defineChild<[SharedSegment, number, number]>(async ({ args: [segment, index, reportIndex] }) => {
  let woken = 0;
  // The parent's waiter may not have reached the kernel yet: a wake before that finds nobody.
  while ((woken = segment.notify(index, 1)) === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  Atomics.store(new Int32Array(segment.buffer), reportIndex, woken);
});
