/** Child: sends one frame of `size` bytes (far more than a pipe holds), so its parent can kill it mid-frame. */
import { defineChild, type Connection } from '@ipcx/multiprocessing';

export default defineChild<[Connection, number]>(async ({ args: [conn, size] }) => {
  await conn.sendBytes(new Uint8Array(size).fill(7));
  await new Promise(() => setInterval(() => {}, 1000));
});
