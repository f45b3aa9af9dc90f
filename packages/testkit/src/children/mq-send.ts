/** Child: sends each `[type, text]` of `messages` to `queue`, in order, then returns. */
import { defineChild, type MessageQueue } from '@ipcx/core';

export default defineChild<[MessageQueue, Array<[number, string]>]>(async ({ args: [queue, messages] }) => {
  for (const [type, text] of messages) await queue.send(type, text);
});
