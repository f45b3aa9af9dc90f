// Child: writes `count` records of seeded random sizes (8..PIPE_BUF bytes), each one write call:
//   byte 0: writer id, bytes 1-4: sequence number (u32 LE), bytes 5-6: record length (u16 LE),
//   bytes 7..: (sequence + id) & 255.
import { defineChild } from '@ipcx/core';

function mulberry32(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export default defineChild(async ({ args: [writer, id, count, seed] }) => {
  const random = mulberry32(seed);
  for (let seq = 0; seq < count; seq++) {
    const length = 8 + Math.floor(random() * (4096 - 8 + 1));
    const record = new Uint8Array(length).fill((seq + id) & 255);
    const view = new DataView(record.buffer);
    record[0] = id;
    view.setUint32(1, seq, true);
    view.setUint16(5, length, true);
    await writer.write(record);
  }
});
