// The measuring side of a System V semaphore ping-pong (ipcx child, any backend), started once per
// case and commanded per run over `control` (see serve-runs.mjs): each run posts semaphore 0 of
// `set` and waits on semaphore 1, as many times as the command says, and answers the nanoseconds
// it took on `result`. EOF on `control` ends it.
import { serveRuns } from './serve-runs.mjs';

export default async function ({ args: [set, control, result] }) {
  await serveRuns(control, result, async (roundTrips) => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < roundTrips; i++) {
      set.post(0);
      await set.wait(1);
    }
    return process.hrtime.bigint() - start;
  });
}
