/** Child: writes each string of `chunks` to `writer`, in order, then returns (closing it). */
import { defineChild, type ByteWriter } from '@ipcx/core';

export default defineChild<[ByteWriter, string[]]>(async ({ args: [writer, chunks] }) => {
  for (const chunk of chunks) await writer.write(chunk);
});
