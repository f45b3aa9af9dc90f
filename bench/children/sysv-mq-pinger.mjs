// The measuring side of a System V message queue ping-pong (ipcx child, any backend): sends
// `length` bytes as type `pingType` and receives the echo of type `pongType`, `roundTrips` times;
// writes the nanoseconds it took, as decimal text, to `result` and closes it.
export default async function ({ args: [queue, pingType, pongType, length, roundTrips, result] }) {
  const ping = new Uint8Array(length).fill(1);
  const start = process.hrtime.bigint();
  for (let i = 0; i < roundTrips; i++) {
    await queue.send(pingType, ping);
    await queue.receive({ type: pongType });
  }
  const ns = process.hrtime.bigint() - start;
  await result.write(String(ns));
  await result.close();
}
