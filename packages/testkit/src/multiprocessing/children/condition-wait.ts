/** Child: under the condition's lock, reports 'waiting <id>', waits for a notify, reports 'woken <id>'. */
import { defineChild, type Condition, type Queue } from '@ipcx/multiprocessing';

export default defineChild<[Condition, Queue<string>, number]>(async ({ args: [condition, results, id] }) => {
  await condition.acquire();
  await results.put(`waiting ${id}`);
  const notified = await condition.wait();
  await results.put(notified ? `woken ${id}` : `timed out ${id}`);
  await condition.release();
});
