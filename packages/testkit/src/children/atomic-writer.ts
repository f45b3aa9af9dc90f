/**
 * Child: writes `count` records of `size` bytes, each filled with the byte `id`, as separate
 * write calls, so a reader can check that no record was interleaved with another's bytes.
 */
import { defineChild, type ByteWriter } from '@ipcx/core';

export default defineChild<[ByteWriter, number, number, number]>(async ({ args: [writer, id, count, size] }) => {
  const record = new Uint8Array(size).fill(id);
  for (let i = 0; i < count; i++) await writer.write(record);
});
