// The measuring side of a System V message queue ping-pong (ipcx child, any backend), started once
// per case and commanded per run over `control` (see serve-runs.mjs): each run sends `length`
// bytes as type `pingType` and receives the echo of type `pongType`, as many times as the command
// says, and answers the nanoseconds it took on `result`. EOF on `control` ends it.
import { serveRuns } from './serve-runs.mjs';

export default async function ({ args: [queue, pingType, pongType, length, control, result] }) {
  const ping = new Uint8Array(length).fill(1);
  await serveRuns(control, result, async (roundTrips) => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < roundTrips; i++) {
      await queue.send(pingType, ping);
      await queue.receive({ type: pongType });
    }
    return process.hrtime.bigint() - start;
  });
}
