/** Child: sends `seq:0`, `seq:1`, ... (type 1) to `queue` forever, waiting while it is full, until killed. */
import { defineChild, type MessageQueue } from '@ipcx/core';

export default defineChild<[MessageQueue]>(async ({ args: [queue] }) => {
  for (let i = 0; ; i++) await queue.send(1, `seq:${i}`);
});
