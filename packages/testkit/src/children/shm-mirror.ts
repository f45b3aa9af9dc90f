/**
 * Child: waits until cell `goIndex` (if given) is non-zero, then reads `length` bytes at `offset`
 * of the segment and writes them back inverted (each byte XOR 0xff) right after them, so the
 * parent sees both that the child read its bytes and that the child's writes reach it.
 */
import { defineChild, type SharedSegment } from '@ipcx/core';

export default defineChild<[SharedSegment, number, number, number?]>(async ({ args: [segment, offset, length, goIndex] }) => {
  if (goIndex !== undefined) {
    const cells = new Int32Array(segment.buffer);
    // Re-check after every wake: a futex wake is not tied to a change of the value.
    while (Atomics.load(cells, goIndex) === 0) await segment.wait(goIndex, 0);
  }
  const bytes = segment.read(offset, length).map((byte) => byte ^ 0xff);
  segment.write(bytes, offset + length);
});
