/** Child: takes one value and puts it on the results queue (or waits forever to be killed mid-get). */
import { defineChild, type Queue } from '@ipcx/multiprocessing';

export default defineChild<[Queue<unknown>, Queue<unknown>]>(async ({ args: [queue, results] }) => {
  const value = await queue.get();
  await results.put(value);
});
