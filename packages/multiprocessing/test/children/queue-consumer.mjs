// Child: gets values until the queue is shut down, then reports "p:i" of each value it took, in
// the order it took them, on the results queue.
import { defineChild } from '@ipcx/multiprocessing';

export default defineChild(async ({ args: [queue, results, consumer] }) => {
  const taken = [];
  for await (const value of queue) {
    if (value.pad.length > 0 && value.pad !== 'x'.repeat(value.pad.length)) throw new Error('torn value');
    taken.push(`${value.p}:${value.i}`);
  }
  await results.put({ consumer, taken });
  await queue.close();
  await results.close();
});
