// `node bench/probes/mp-queue-cpu.mjs [value]`: what one Queue put + get costs in CPU alone, in one
// thread (no other side, no cache line crossing between CPUs, no wait): the floor under
// `native.mp-queue.pingpong` (a round trip is two put + get pairs on its critical path, one per
// side) and under `native.mp-queue.throughput` (a producer pays the put, its consumer the get).
// Prints the best of 40 runs of 20,000 (ns per operation) of: put + get through a native Queue;
// the plain codec's encode and decode alone; the ring's send + receive of the encoded frame alone
// (no codec, no promise); and what is left, the queue's own code and its two awaits.
// `value`: small (the bench's `{ id, name, values: [8 numbers] }`, default), object (the same
// without the array), array (the 8 numbers), int, string.
// Session 11 (docs/BENCHMARKS.md): small 1.6 µs per pair (encode 0.34-0.37, decode 0.25-0.27, ring 0.3),
// int 0.66 µs; so a small-object round trip costs at least ~3.2 µs of CPU before any crossing.
// Reaches two internals on purpose: the codec's module in dist and the queue's ring.
import { createNativeBackend } from '@ipcx/adapter-native';
import { Queue } from '@ipcx/multiprocessing';
import { decodePlainAt, encodePlainInScratch, plainScratch } from '../../packages/multiprocessing/dist/plain-codec.js';

const VALUES = {
  small: { id: 1, name: 'item', values: [1, 2, 3, 4, 5, 6, 7, 8] },
  object: { id: 1, name: 'item', values: 7 },
  array: [1, 2, 3, 4, 5, 6, 7, 8],
  int: 5,
  string: 'item',
};
const which = process.argv[2] ?? 'small';
if (!(which in VALUES)) throw new TypeError(`usage: mp-queue-cpu.mjs [${Object.keys(VALUES).join('|')}]`);
const value = VALUES[which];
const RUNS = 40;
const PER_RUN = 20_000;

const queue = await Queue.create(createNativeBackend(), { capacity: 65536 });
try {
  const ring = queue.ring;
  await ring.claimSlot();
  const size = encodePlainInScratch(value);
  const frame = plainScratch().slice(0, 4096);
  const data = new Uint8Array(65536);
  data.set(frame.subarray(0, size), 64);
  const taken = () => 1;

  const best = { putGet: Infinity, encode: Infinity, decode: Infinity, ring: Infinity };
  const time = (key, loop) => {
    const start = process.hrtime.bigint();
    loop();
    best[key] = Math.min(best[key], Number(process.hrtime.bigint() - start) / PER_RUN);
  };
  for (let run = 0; run < RUNS; run++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < PER_RUN; i++) {
      await queue.put(value);
      await queue.get();
    }
    best.putGet = Math.min(best.putGet, Number(process.hrtime.bigint() - start) / PER_RUN);
    time('encode', () => {
      for (let i = 0; i < PER_RUN; i++) encodePlainInScratch(value);
    });
    time('decode', () => {
      for (let i = 0; i < PER_RUN; i++) decodePlainAt(data, 64, size);
    });
    time('ring', () => {
      for (let i = 0; i < PER_RUN; i++) {
        ring.trySend(frame, 0, false, size);
        ring.tryReceive(taken, taken);
      }
    });
  }
  const rest = best.putGet - best.encode - best.decode - best.ring;
  console.log(
    `${which} (${size} bytes): put+get ${best.putGet.toFixed(0)} ns = encode ${best.encode.toFixed(0)} + decode ${best.decode.toFixed(0)} + ring ${best.ring.toFixed(0)} + queue and awaits ${rest.toFixed(0)}`,
  );
} finally {
  await queue.close();
}
