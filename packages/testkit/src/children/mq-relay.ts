/**
 * Child: receives `count` messages from `from` with `options` (type selection, maxBytes, ...) and,
 * if `to` is given, sends each one on to `to` unchanged, in the order it took them. With `to` null
 * it only drains.
 */
import { defineChild, type MessageQueue, type MessageQueueReceiveOptions } from '@ipcx/core';

export default defineChild<[MessageQueue, MessageQueue | null, number, MessageQueueReceiveOptions]>(async ({ args: [from, to, count, options] }) => {
  for (let i = 0; i < count; i++) {
    const message = await from.receive(options);
    if (to !== null) await to.send(message.type, message.data);
  }
});
