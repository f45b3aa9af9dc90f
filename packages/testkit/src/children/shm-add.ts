/**
 * Child: `Atomics.add(cells, sumIndex, 1)` `count` times on the segment. It first counts itself in
 * at `readyIndex` (and notifies it), then waits for `goIndex` to become non-zero, so that all the
 * adders run at the same time.
 */
import { defineChild, type SharedSegment } from '@ipcx/core';

export default defineChild<[SharedSegment, number, number, number, number]>(async ({ args: [segment, count, sumIndex, readyIndex, goIndex] }) => {
  const cells = new Int32Array(segment.buffer);
  // Publish readiness before sleeping on go: the parent counts ready children and then opens go.
  Atomics.add(cells, readyIndex, 1);
  segment.notify(readyIndex);
  while (Atomics.load(cells, goIndex) === 0) await segment.wait(goIndex, 0);
  for (let i = 0; i < count; i++) Atomics.add(cells, sumIndex, 1);
});
