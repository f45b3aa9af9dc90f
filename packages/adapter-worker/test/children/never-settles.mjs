// Child of the lifetime test: its main awaits a promise that nothing settles and that keeps
// nothing pending in its thread, so the thread's event loop empties with the main unfinished.
import { defineChild } from '@ipcx/core';

export default defineChild(async () => {
  await new Promise(() => {});
});
