// Child of the message-queue stress test: for `durationMs`, sends messages of seeded random types
// (1..4) and sizes, each carrying (worker id, sequence number), and receives with seeded random
// type rules (0, >0, <0, MSG_EXCEPT; nowait or a short timeout). At the end it writes, on its own
// report pipe, the ids it sent and the ids it received: `{ id, sent: [..], received: [..] }`.
import { defineChild } from '@ipcx/core';

function mulberry32(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export default defineChild(async ({ args: [queue, report, id, seed, durationMs] }) => {
  const random = mulberry32(seed);
  const between = (low, high) => low + Math.floor(random() * (high - low + 1));
  const sent = [];
  const received = [];
  const deadline = Date.now() + durationMs;
  let sequence = 0;
  while (Date.now() < deadline) {
    if (random() < 0.55) {
      const body = new Uint8Array(8 + between(0, 200));
      const view = new DataView(body.buffer);
      view.setUint32(0, id);
      view.setUint32(4, sequence);
      try {
        await queue.send(between(1, 4), body, random() < 0.5 ? { nowait: true } : { timeout: between(1, 10) });
        sent.push(id * 1_000_000 + sequence);
        sequence++;
      } catch (error) {
        if (error.code !== 'EAGAIN' && error.code !== 'ETIMEDOUT') throw error;
      }
    } else {
      const rule = between(0, 3);
      const options = rule === 0 ? {} : rule === 1 ? { type: between(1, 4) } : rule === 2 ? { type: -between(1, 4) } : { type: between(1, 4), except: true };
      try {
        const message = await queue.receive({ ...options, ...(random() < 0.5 ? { nowait: true } : { timeout: between(1, 10) }) });
        const view = new DataView(message.data.buffer, message.data.byteOffset, message.data.byteLength);
        received.push(view.getUint32(0) * 1_000_000 + view.getUint32(4));
      } catch (error) {
        if (error.code !== 'ENOMSG' && error.code !== 'ETIMEDOUT') throw error;
      }
    }
  }
  await report.write(JSON.stringify({ id, sent, received }));
});
