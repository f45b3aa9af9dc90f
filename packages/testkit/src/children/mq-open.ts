/**
 * Child: opens the queue of `key` with `options` and reports to `reply` (type 1) `'ok'` or the
 * error code. If it opened and `message` is not null, sends `message` (type 1) on the queue and
 * reports (type 2) `'sent'` or the error code. Used for permission checks (run as another user)
 * and for queues that outlive the process that made them.
 */
import { defineChild, type MessageQueue, type MessageQueueOpenOptions } from '@ipcx/core';

const codeOf = (error: unknown): string => (error as { code?: string }).code ?? String(error);

export default defineChild<[number, MessageQueueOpenOptions, MessageQueue, string | null]>(async ({ backend, args: [key, options, reply, message] }) => {
  let queue: MessageQueue;
  try {
    queue = await backend.messageQueues.open(key, options);
  } catch (error) {
    await reply.send(1, codeOf(error));
    return;
  }
  await reply.send(1, 'ok');
  if (message !== null) {
    const outcome = await queue.send(1, message).then(() => 'sent', codeOf);
    await reply.send(2, outcome);
  }
  await queue.close();
});
