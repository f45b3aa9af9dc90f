/**
 * Child: opens the FIFO at `path` for reading (waiting for a writer), reads to EOF and writes what
 * it read to `report`.
 */
import { defineChild, type ByteWriter } from '@ipcx/core';

export default defineChild<[string, ByteWriter]>(async ({ backend, args: [path, report] }) => {
  const reader = await backend.fifos.openReader(path);
  for await (const chunk of reader) await report.write(chunk);
  await reader.close();
});
