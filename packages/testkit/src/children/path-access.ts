/**
 * Child: as the user it was spawned with, tries one access to a path and writes 'ok' or the
 * error's code to `report`: `read`/`write` open the FIFO there without waiting, `connect`
 * connects a stream socket to the path.
 */
import { defineChild, type ByteWriter } from '@ipcx/core';

export default defineChild<['read' | 'write' | 'connect', string, ByteWriter]>(async ({ backend, args: [access, path, report] }) => {
  let outcome = 'ok';
  try {
    const opened =
      access === 'read'
        ? await backend.fifos.openReader(path, { nowait: true })
        : access === 'write'
          ? await backend.fifos.openWriter(path, { nowait: true })
          : await backend.unixSockets.connect(path, { timeout: 5000 });
    await opened.close();
  } catch (error) {
    outcome = (error as { code?: string }).code ?? String(error);
  }
  await report.write(outcome);
});
