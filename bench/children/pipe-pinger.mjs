// The measuring side of a pipe ping-pong (ipcx child, any backend), started once per case and
// commanded per run over `control` (see serve-runs.mjs): each run writes `length` bytes to
// `output` and reads `length` bytes back from `input` (readInto, one buffer), as many times as the
// command says, and answers the nanoseconds it took on `result`. EOF on `control` ends it.
import { serveRuns } from './serve-runs.mjs';

export default async function ({ args: [output, input, length, control, result] }) {
  const ping = new Uint8Array(length).fill(1);
  const pong = new Uint8Array(length);
  await serveRuns(control, result, async (roundTrips) => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < roundTrips; i++) {
      await output.write(ping);
      for (let got = 0; got < length; ) {
        const n = await input.readInto(got === 0 ? pong : pong.subarray(got));
        if (n === 0) throw new Error('pipe-pinger: unexpected EOF');
        got += n;
      }
    }
    return process.hrtime.bigint() - start;
  });
}
