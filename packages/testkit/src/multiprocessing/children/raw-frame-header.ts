/**
 * Child: writes a bare frame header announcing `length` bytes (and a few of them) straight into
 * its end's underlying pipe, as a peer with a bug or a hostile one could, then stays alive so that
 * the receiver sees a frame in progress, not EOF.
 */
import type { ByteWriter } from '@ipcx/core';
import { defineChild, type Connection } from '@ipcx/multiprocessing';

export default defineChild<[Connection, number]>(async ({ args: [conn, length] }) => {
  const header = new Uint8Array(5 + 3);
  new DataView(header.buffer).setUint32(0, length, true);
  header[4] = 2; // raw bytes
  header.set([1, 2, 3], 5);
  await (conn as unknown as { writer: ByteWriter }).writer.write(header);
  await new Promise(() => setInterval(() => {}, 1000));
});
