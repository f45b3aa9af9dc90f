/** Child: waits at the barrier and reports its arrival index, or the error code. */
import { defineChild, type Barrier, type Queue } from '@ipcx/multiprocessing';

export default defineChild<[Barrier, Queue<unknown>]>(async ({ args: [barrier, results] }) => {
  try {
    await results.put(await barrier.wait());
  } catch (error) {
    await results.put((error as { code?: unknown }).code);
  }
});
