// Child: sends `count` values, then the first half of a large frame's bytes is impossible to fake,
// so it sends 'ready' and waits forever (the parent kills it).
import { defineChild } from '@ipcx/multiprocessing';

export default defineChild(async ({ args: [conn, count] }) => {
  for (let i = 0; i < count; i++) await conn.send(i);
  await conn.send('ready');
  await new Promise(() => setInterval(() => {}, 1000));
});
