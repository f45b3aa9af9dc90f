/**
 * Child: puts `count` values { p, i, pad } on the queue (pad: seeded random length, sometimes larger
 * than the ring so the value streams in pieces), then ends.
 */
import { defineChild, type Queue } from '@ipcx/multiprocessing';
import { seeded } from '../context.js';

export default defineChild<[Queue<unknown>, number, number, number, number]>(async ({ args: [queue, producer, count, seed, bigEvery] }) => {
  const random = seeded(seed);
  for (let i = 0; i < count; i++) {
    const big = bigEvery > 0 && i % bigEvery === bigEvery - 1;
    const pad = 'x'.repeat(big ? 20_000 + Math.floor(random() * 20_000) : Math.floor(random() * 200));
    await queue.put({ p: producer, i, pad });
  }
  await queue.close();
});
