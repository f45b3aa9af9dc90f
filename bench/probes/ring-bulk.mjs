// `node bench/probes/ring-bulk.mjs [worker|native]`: native.ring.bulk's transfer (64 KiB values
// through a 4 MiB shared-memory ring Connection, producer and consumer children) on either
// backend; prints the median of 7 runs of 512 MiB in GB/s. On the worker backend the ring lives in
// a SharedArrayBuffer, which the engine copies into word by word (see adapter-worker's stream.ts,
// `copyIntoRing`): 5.6 against 20 GB/s natively on 2026-12-07 (docs/BENCHMARKS.md, ninth session).
import { createNativeBackend } from '@ipcx/adapter-native';
import { createWorkerBackend } from '@ipcx/adapter-worker';
import { Pipe, spawn } from '@ipcx/multiprocessing';
const which = process.argv[2] ?? 'worker';
const backend = which === 'native' ? createNativeBackend() : createWorkerBackend();
const child = new URL('../children/mp-conn-side.mjs', import.meta.url);
const [a, b] = await Pipe(backend, { capacity: 4 << 20 });
const sides = [];
for (const role of ['producer', 'consumer']) {
  const [mine, theirs] = await Pipe(backend);
  const proc = await spawn(backend, child, [role, role === 'producer' ? b : a, theirs, new Uint8Array(65536).fill(7)]);
  await theirs.close();
  sides.push({ conn: mine, proc });
}
await b.close();
const count = 8192;
const res = [];
for (let r = 0; r < 7; r++) {
  const start = process.hrtime.bigint();
  await sides[1].conn.send(count);
  await sides[0].conn.send(count);
  await sides[1].conn.recv();
  res.push((count * 65536) / Number(process.hrtime.bigint() - start));
}
for (const s of sides) { await s.conn.send(null); await s.proc.join(); await s.conn.close(); }
await a.close();
res.sort((x, y) => x - y);
console.log(which, 'GB/s median', res[3].toFixed(2), 'all', res.map((x) => x.toFixed(1)).join(' '));
