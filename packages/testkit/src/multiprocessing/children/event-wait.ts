/** Child: reports 'waiting', waits for the event, reports 'woken'. */
import { defineChild, type Event, type Queue } from '@ipcx/multiprocessing';

export default defineChild<[Event, Queue<string>]>(async ({ args: [event, results] }) => {
  await results.put('waiting');
  const set = await event.wait();
  await results.put(set ? 'woken' : 'timed out');
});
