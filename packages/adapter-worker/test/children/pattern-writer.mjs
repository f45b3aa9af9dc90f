// Child: writes the pattern stream (byte at stream position p is patternByte(p)) to `writer` in
// writes of seeded random sizes up to `maxWrite` bytes, `total` bytes in all (0: until killed).
import { defineChild } from '@ipcx/core';

/** The byte at stream position `p`: changes with every position and every 4 KiB page. */
export const patternByte = (p) => (p * 7 + Math.floor(p / 4096)) & 255;

export default defineChild(async ({ args: [writer, total, maxWrite, seed] }) => {
  let state = seed >>> 0;
  const buffer = new Uint8Array(maxWrite);
  for (let position = 0; total === 0 || position < total; ) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    const size = Math.min(1 + (state % maxWrite), total === 0 ? maxWrite : total - position);
    const piece = buffer.subarray(0, size);
    for (let i = 0; i < size; i++) piece[i] = patternByte(position + i);
    await writer.write(piece);
    position += size;
  }
});
