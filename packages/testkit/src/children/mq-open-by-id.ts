/**
 * Child: opens the queue `id` with `messageQueues.openById` and reports to `reply` (type 1) `'ok'`
 * or the error code. If it opened and `message` is not null, sends `message` (type 1) on the queue
 * and reports (type 2) `'sent'` or the error code. Used for the permission checks of `openById`
 * (run as another user).
 */
import { defineChild, type MessageQueue } from '@ipcx/core';

const codeOf = (error: unknown): string => (error as { code?: string }).code ?? String(error);

export default defineChild<[number, MessageQueue, string | null]>(async ({ backend, args: [id, reply, message] }) => {
  let queue: MessageQueue;
  try {
    queue = await backend.messageQueues.openById(id);
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
