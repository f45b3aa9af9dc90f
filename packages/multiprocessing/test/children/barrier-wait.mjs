// Child: waits at the barrier and reports its arrival index, or the error code.
import { defineChild } from '@ipcx/multiprocessing';

export default defineChild(async ({ args: [barrier, results] }) => {
  try {
    await results.put(await barrier.wait());
  } catch (error) {
    await results.put(error.code);
  }
});
