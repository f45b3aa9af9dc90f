/**
 * Child: receives `count` messages from `from` with `options` (type selection, maxBytes, ...) and,
 * if `to` is given, sends each one on to `to` unchanged, in the order it took them. With `to` null
 * it only drains. With `ready` given, it first sends `ready` a message (type 1, `'ready'`), so the
 * parent knows it is about to wait.
 */
import { defineChild, type MessageQueue, type MessageQueueReceiveOptions } from '@ipcx/core';

export default defineChild<[MessageQueue, MessageQueue | null, number, MessageQueueReceiveOptions, MessageQueue?]>(
  async ({ args: [from, to, count, options, ready] }) => {
    if (ready !== undefined) await ready.send(1, 'ready');
    for (let i = 0; i < count; i++) {
      const message = await from.receive(options);
      if (to !== null) await to.send(message.type, message.data);
    }
  },
);
