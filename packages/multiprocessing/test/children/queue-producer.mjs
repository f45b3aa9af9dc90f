// Child: puts `count` values { p, i, pad } on the queue (pad: seeded random length, sometimes larger
// than the ring so the value streams in pieces), then ends.
import { defineChild } from '@ipcx/multiprocessing';

function seeded(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export default defineChild(async ({ args: [queue, producer, count, seed, bigEvery] }) => {
  const random = seeded(seed);
  for (let i = 0; i < count; i++) {
    const big = bigEvery > 0 && i % bigEvery === bigEvery - 1;
    const pad = 'x'.repeat(big ? 20_000 + Math.floor(random() * 20_000) : Math.floor(random() * 200));
    await queue.put({ p: producer, i, pad });
  }
  await queue.close();
});
