// Bench child: takes the lock, says so on the queue, and holds it until killed.
import { defineChild } from '@ipcx/multiprocessing';

export default defineChild(async ({ args: [lock, said] }) => {
  await lock.acquire();
  await said.put('held');
  await new Promise(() => setInterval(() => {}, 1000));
});
