// The measuring side of an eventfd ping-pong (ipcx child, any backend), started once per case and
// commanded per run over `control` (see serve-runs.mjs): each run writes 1 to `ping` and reads
// `pong`, as many times as the command says, and answers the nanoseconds it took on `result`.
// EOF on `control` ends it.
import { serveRuns } from './serve-runs.mjs';

export default async function ({ args: [ping, pong, control, result] }) {
  await serveRuns(control, result, async (roundTrips) => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < roundTrips; i++) {
      await ping.write(1n);
      await pong.read();
    }
    return process.hrtime.bigint() - start;
  });
}
