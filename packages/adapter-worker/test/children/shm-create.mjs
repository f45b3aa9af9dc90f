// Child: creates the System V segment of `key` (or maps it), writes `text` at byte 0, closes it and returns.
import { defineChild } from '@ipcx/core';

export default defineChild(async ({ backend, args: [key, text] }) => {
  const segment = await backend.sharedMemory.openSysv(key, { create: true, size: 4096 });
  segment.write(text);
  await segment.close();
});
