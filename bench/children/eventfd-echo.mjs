// eventfd echo (ipcx child, any backend): reads `ping` (waiting while it is zero) and writes what
// it read to `pong`, until it reads STOP (2^62, far above any count a run reaches).
const STOP = 1n << 62n;

export default async function ({ args: [ping, pong] }) {
  for (;;) {
    const value = await ping.read();
    if (value >= STOP) return;
    await pong.write(value);
  }
}
