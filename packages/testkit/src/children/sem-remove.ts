/** Child: removes the System V semaphore set it was given (`IPC_RMID`). */
import { defineChild, type SemaphoreSet } from '@ipcx/core';

export default defineChild<[SemaphoreSet]>(async ({ args: [set] }) => {
  await set.remove();
});
