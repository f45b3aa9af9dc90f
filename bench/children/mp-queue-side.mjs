// Bench child serving runs: the producer puts `count` values per command, the consumer gets
// `count` values per command and answers when it has them all. Commands arrive on a Connection.
import { defineChild } from '@ipcx/multiprocessing';

export default defineChild(async ({ args: [role, queue, control, value] }) => {
  for (let count = await control.recv(); count !== null; count = await control.recv()) {
    if (role === 'producer') for (let i = 0; i < count; i++) await queue.put(value);
    else {
      let bytes = 0;
      for (let i = 0; i < count; i++) {
        const got = await queue.get();
        bytes += got.length ?? 0;
      }
      await control.send(bytes);
    }
  }
  await control.close();
});
