// The measuring side of a pipe ping-pong (ipcx child, any backend): `roundTrips` times, writes
// `length` bytes to `output` and reads `length` bytes back from `input` (readInto, one buffer),
// then writes the nanoseconds it took, as decimal text, to `result` and closes it.
export default async function ({ args: [output, input, roundTrips, length, result] }) {
  const ping = new Uint8Array(length).fill(1);
  const pong = new Uint8Array(length);
  const start = process.hrtime.bigint();
  for (let i = 0; i < roundTrips; i++) {
    await output.write(ping);
    for (let got = 0; got < length; ) {
      const n = await input.readInto(got === 0 ? pong : pong.subarray(got));
      if (n === 0) throw new Error('pipe-pinger: unexpected EOF');
      got += n;
    }
  }
  const ns = process.hrtime.bigint() - start;
  await result.write(String(ns));
  await result.close();
}
