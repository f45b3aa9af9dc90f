/**
 * Child: gets values until the queue is shut down, then reports "p:i" of each value it took, in
 * the order it took them, on the results queue.
 */
import { defineChild, type Queue } from '@ipcx/multiprocessing';

interface Item {
  readonly p: number;
  readonly i: number;
  readonly pad: string;
}

export default defineChild<[Queue<Item>, Queue<unknown>, number]>(async ({ args: [queue, results, consumer] }) => {
  const taken: string[] = [];
  for await (const value of queue) {
    if (value.pad.length > 0 && value.pad !== 'x'.repeat(value.pad.length)) throw new Error('torn value');
    taken.push(`${value.p}:${value.i}`);
  }
  await results.put({ consumer, taken });
  await queue.close();
  await results.close();
});
