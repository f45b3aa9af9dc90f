// Child of the termination stress test (delivery.test.ts): reads 8-byte records (each written
// whole: at most PIPE_BUF bytes) from a pipe shared with other readers until EOF, and logs each
// record's id in a SharedArrayBuffer of its own, as queue-killable.mjs does (entry first, then the
// count), so the log survives its termination.
//
// args: [reader, log] (log: Int32Array [count, id, id, ...])
import { defineChild } from '@ipcx/core';

export default defineChild(async ({ args: [reader, logBuffer] }) => {
  const log = new Int32Array(logBuffer);
  const record = new Uint8Array(8);
  const view = new DataView(record.buffer);
  for (;;) {
    const n = await reader.readInto(record);
    if (n === 0) break;
    if (n !== 8) throw new Error(`read ${n} bytes of a record`);
    const count = log[0];
    if (count + 1 >= log.length) throw new Error('log full');
    log[count + 1] = view.getInt32(0);
    Atomics.store(log, 0, count + 1);
  }
});
