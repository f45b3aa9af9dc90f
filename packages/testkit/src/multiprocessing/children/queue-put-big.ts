/**
 * Child: puts 'ready', then one value far larger than the ring, which blocks mid-value once the
 * ring is full (nobody takes it): the parent kills it there.
 */
import { defineChild, type Queue } from '@ipcx/multiprocessing';

export default defineChild<[Queue<unknown>, number]>(async ({ args: [queue, size] }) => {
  await queue.put('ready');
  await queue.put(new Uint8Array(size).fill(1));
});
