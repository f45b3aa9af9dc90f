// Child of the permission tests: runs as the user it was spawned with, tries each step on a FIFO
// or a Unix socket path, and writes one line per step on `report`: 'ok' or the error's code.
// Steps: ['mkfifo', path, mode], ['read', path], ['write', path], ['listen', path, mode],
// ['connect', path], ['sendto', path], ['bind', path, mode], ['hold', ms].
import { defineChild } from '@ipcx/core';

export default defineChild(async ({ backend, args: [steps, report] }) => {
  const keep = [];
  const lines = [];
  for (const [op, path, mode] of steps) {
    try {
      if (op === 'mkfifo') await backend.fifos.create(path, { mode });
      else if (op === 'read') keep.push(await backend.fifos.openReader(path, { nowait: true }));
      else if (op === 'write') keep.push(await backend.fifos.openWriter(path, { nowait: true }));
      else if (op === 'listen') keep.push(await backend.unixSockets.listen(path, { mode }));
      else if (op === 'bind') keep.push(await backend.unixSockets.bind(path, { mode }));
      else if (op === 'connect') keep.push(await backend.unixSockets.connect(path, { timeout: 1000 }));
      else if (op === 'sendto') {
        const socket = await backend.unixSockets.bind();
        try {
          await socket.send('x', { to: path, nowait: true });
        } finally {
          await socket.close();
        }
      } else throw new Error(`unknown step ${op}`);
      lines.push('ok');
    } catch (error) {
      lines.push(error.code ?? String(error));
    }
  }
  for (const object of keep) await object.close();
  await report.write(lines.join('\n'));
  await report.close();
});
