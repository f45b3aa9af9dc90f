// The receiving side of a bulk transfer (ipcx child, any backend), started once per case and
// commanded per run over `control` (see serve-runs.mjs), as the peers' receiving thread lives for
// the whole case: each run reads exactly the commanded number of bytes from `input` into one
// reused buffer (readInto) and answers the nanoseconds from the command to the last byte (the
// sender gets its command at the same time).
import { receiveBytes } from '../lib.mjs';
import { serveRuns } from './serve-runs.mjs';

export default async function ({ args: [input, bufferBytes, control, result] }) {
  const buffer = new Uint8Array(bufferBytes);
  await serveRuns(control, result, async (bytes) => {
    const start = process.hrtime.bigint();
    await receiveBytes(input, buffer, bytes);
    return process.hrtime.bigint() - start;
  });
}
