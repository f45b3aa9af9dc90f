// `node bench/probes/mp-queue-pingpong.mjs [native|worker]`: the Queue ping-pong of
// `native.mp-queue.pingpong` / `worker.mp-queue.pingpong` (the bench's echo child and object, the
// same capacities), 2 warm-up runs then 9 runs of 10,000 round trips in one process; prints the
// min, first quartile and median of the 9 (µs per round trip). The bench's median of 7 mixes
// runs where both sides spin with runs where one parked; the min of a probe run is what the code
// costs when both spin, and tells this host's "near" and "far" modes apart (docs/BENCHMARKS.md,
// eighth session). For A/B, run it from two checkouts in turn under `flock /tmp/ipcx-bench.lock`.
import { createNativeBackend } from '@ipcx/adapter-native';
import { createWorkerBackend } from '@ipcx/adapter-worker';
import { Queue, spawn } from '@ipcx/multiprocessing';

const SMALL = { id: 1, name: 'item', values: [1, 2, 3, 4, 5, 6, 7, 8] };
const which = process.argv[2] ?? 'native';
if (which !== 'native' && which !== 'worker') throw new TypeError('usage: mp-queue-pingpong.mjs [native|worker]');
const RUNS = 9;
const WARM_UP = 2;
const ROUND_TRIPS = 10_000;

const backend = which === 'native' ? createNativeBackend() : createWorkerBackend();
const inbox = await Queue.create(backend, { capacity: 65536 });
const outbox = await Queue.create(backend, { capacity: 65536 });
const echo = await spawn(backend, new URL('../children/mp-queue-echo.mjs', import.meta.url), [inbox, outbox]);
const runs = [];
for (let run = 0; run < WARM_UP + RUNS; run++) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < ROUND_TRIPS; i++) {
    await inbox.put(SMALL);
    await outbox.get();
  }
  if (run >= WARM_UP) runs.push(Number(process.hrtime.bigint() - start) / 1e3 / ROUND_TRIPS);
}
await inbox.put(null);
await outbox.get();
await echo.join();
await inbox.close();
await outbox.close();
runs.sort((a, b) => a - b);
console.log(`${which} min ${runs[0].toFixed(2)} q1 ${runs[2].toFixed(2)} med ${runs[4].toFixed(2)}`);
