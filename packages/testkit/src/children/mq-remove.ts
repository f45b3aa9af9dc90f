/** Child: waits `ms` milliseconds, then removes `queue` from the kernel. */
import { defineChild, type MessageQueue } from '@ipcx/core';

export default defineChild<[MessageQueue, number]>(async ({ args: [queue, ms] }) => {
  await new Promise((resolve) => setTimeout(resolve, ms));
  await queue.remove();
});
