// The measuring side of a System V semaphore ping-pong (ipcx child, any backend): posts semaphore
// 0 of `set` and waits on semaphore 1, `roundTrips` times; writes the nanoseconds it took, as
// decimal text, to `result` and closes it.
export default async function ({ args: [set, roundTrips, result] }) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < roundTrips; i++) {
    set.post(0);
    await set.wait(1);
  }
  const ns = process.hrtime.bigint() - start;
  await result.write(String(ns));
  await result.close();
}
