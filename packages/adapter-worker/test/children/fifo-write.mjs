// Child: opens the FIFO at `path` for writing (waiting for a reader), writes each chunk, returns.
import { defineChild } from '@ipcx/core';

export default defineChild(async ({ backend, args: [path, chunks] }) => {
  const writer = await backend.fifos.openWriter(path);
  for (const chunk of chunks) await writer.write(chunk);
  await writer.close();
});
