// `node bench/probes/mp-queue-throughput.mjs [runs] [--prof DIR]`: the Queue throughput of
// `native.mp-queue.throughput` (the bench's producer and consumer children, the same object and
// 1 MiB ring), 200,000 values per run; prints values/s per run, the first run being the warm-up.
// `--prof DIR` starts both children with `--cpu-prof` (profiles in DIR/producer and DIR/consumer).
// The producer is the bottleneck here: its put (encode, then copy into the ring) costs ~0.6 µs
// alone and 0.7-1.2 µs beside a consumer that polls the ring's lines (docs/BENCHMARKS.md,
// session 10). For A/B, run it from two checkouts in turn and compare medians.
import { createNativeBackend } from '@ipcx/adapter-native';
import { Pipe, Queue, spawn } from '@ipcx/multiprocessing';

const SMALL = { id: 1, name: 'item', values: [1, 2, 3, 4, 5, 6, 7, 8] };
const VALUES = 200_000;
const args = process.argv.slice(2);
const profAt = args.indexOf('--prof');
const profDir = profAt >= 0 ? args.splice(profAt, 2)[1] : undefined;
if (profAt >= 0 && profDir === undefined) throw new TypeError('usage: mp-queue-throughput.mjs [runs] [--prof DIR]');
const runs = Number(args[0] ?? 8);

const native = createNativeBackend();
const queue = await Queue.create(native, { capacity: 1 << 20 });
const sides = [];
for (const role of ['producer', 'consumer']) {
  const [mine, theirs] = await Pipe(native);
  const options = profDir === undefined ? {} : { execArgv: ['--cpu-prof', `--cpu-prof-dir=${profDir}/${role}`] };
  const proc = await spawn(native, new URL('../children/mp-queue-side.mjs', import.meta.url), [role, queue, theirs, SMALL], options);
  await theirs.close();
  sides.push({ conn: mine, proc });
}
const [producer, consumer] = sides;
try {
  for (let run = 0; run < runs; run++) {
    const start = process.hrtime.bigint();
    await consumer.conn.send(VALUES);
    await producer.conn.send(VALUES);
    await consumer.conn.recv();
    console.log(Math.round(VALUES / (Number(process.hrtime.bigint() - start) / 1e9)));
  }
} finally {
  for (const side of sides) {
    await side.conn.send(null);
    await side.proc.join();
    await side.conn.close();
  }
  await queue.close();
}
