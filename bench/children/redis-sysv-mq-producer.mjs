// Producer of redis.sysv-mq.throughput (ipcx child, any backend): for each command on `control`
// (a message whose data is the count as text), sends that many 64-byte messages of type 1 on
// `queue`, pipelined (up to `window` sends in flight, one handle: they arrive in call order).
// An empty command ends it.
//
// The window is a counter and one waiting promise: a `Promise.race` over the sends in flight
// would add a reaction to each of them per send (quadratic in the window; with a window of 256 it
// cost the producer more CPU and garbage than the sends themselves).
export default async function ({ args: [control, queue, window] }) {
  const payload = new Uint8Array(64).fill(7);
  for (;;) {
    const { data } = await control.receive();
    if (data.length === 0) return;
    const count = Number(Buffer.from(data).toString());
    let inFlight = 0;
    let failure;
    let wake;
    const settled = () => {
      inFlight--;
      const w = wake;
      wake = undefined;
      w?.();
    };
    const failed = (error) => {
      failure ??= error;
      settled();
    };
    for (let i = 0; i < count && failure === undefined; i++) {
      while (inFlight >= window) await new Promise((resolve) => (wake = resolve));
      inFlight++;
      queue.send(1, payload).then(settled, failed);
    }
    while (inFlight > 0) await new Promise((resolve) => (wake = resolve));
    if (failure !== undefined) throw failure;
  }
}
