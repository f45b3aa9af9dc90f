/**
 * Child: sends each `[text, priority]` of `messages` to `queue`, in order (waiting while it is
 * full), after waiting `delayMs` milliseconds first.
 */
import { defineChild, type PosixMessageQueue } from '@ipcx/core';

export default defineChild<[PosixMessageQueue, Array<[string, number]>, number]>(async ({ args: [queue, messages, delayMs] }) => {
  if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
  for (const [text, priority] of messages) await queue.send(text, { priority });
});
