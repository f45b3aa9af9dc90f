// The sending side of a bulk transfer (ipcx child, any backend), started once per case and
// commanded per run over `control` (see serve-runs.mjs): each run writes the commanded number of
// bytes to `writer` in writes of `chunk` bytes and answers the nanoseconds it took.
import { serveRuns } from './serve-runs.mjs';

export default async function ({ args: [writer, chunk, control, result] }) {
  const data = new Uint8Array(chunk).fill(5);
  await serveRuns(control, result, async (bytes) => {
    const start = process.hrtime.bigint();
    for (let sent = 0; sent < bytes; sent += chunk) await writer.write(sent + chunk <= bytes ? data : data.subarray(0, bytes - sent));
    return process.hrtime.bigint() - start;
  });
}
