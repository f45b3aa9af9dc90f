// Bench child: takes each value from `inbox` and puts it on `outbox`, until null.
import { defineChild } from '@ipcx/multiprocessing';

export default defineChild(async ({ args: [inbox, outbox] }) => {
  for (let value = await inbox.get(); value !== null; value = await inbox.get()) await outbox.put(value);
  await outbox.put(null);
});
