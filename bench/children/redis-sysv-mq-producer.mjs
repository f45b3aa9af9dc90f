// Producer of redis.sysv-mq.throughput (ipcx child, any backend): for each command on `control`
// (a message whose data is the count as text), sends that many 64-byte messages of type 1 on
// `queue`, pipelined (up to `window` sends in flight, one handle: they arrive in call order).
// An empty command ends it.
export default async function ({ args: [control, queue, window] }) {
  const payload = new Uint8Array(64).fill(7);
  for (;;) {
    const { data } = await control.receive();
    if (data.length === 0) return;
    const count = Number(Buffer.from(data).toString());
    const inFlight = new Set();
    for (let i = 0; i < count; i++) {
      const sending = queue.send(1, payload).finally(() => inFlight.delete(sending));
      inFlight.add(sending);
      if (inFlight.size >= window) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  }
}
