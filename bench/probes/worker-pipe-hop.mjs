// Raw hop cost of the worker kernel's pipes: two worker_threads ping-pong 64 bytes through two
// pipes with kernel calls and a pure spin on the wait cell (what CellSpin does, without the policy
// and without promises), in bursts; the minimum and low quantiles over bursts filter out
// preemptions on a loaded machine. `node bench/probes/worker-pipe-hop.mjs CHECKOUT [bursts]
// [roundTripsPerBurst]` (CHECKOUT: a built tree, e.g. this one and a base worktree in turn).
import { Worker, isMainThread, workerData, parentPort } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
if (isMainThread) {
  const [root, burstsArg = '400', perArg = '200'] = process.argv.slice(2);
  const module = new WebAssembly.Module(readFileSync(`${root}/packages/adapter-worker/dist/kernel.wasm`));
  const pages = 256; // 16 MiB
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  const k = new WebAssembly.Instance(module, { env: { memory } }).exports;
  if (k.kernel_init(pages * 65536) !== 0) throw new Error('init');
  const o1 = k.owner_create(65536); const o2 = k.owner_create(65536); const o3 = k.owner_create(65536);
  k.kernel_attach(o1);
  const r1 = k.pipe_create(0); const w1 = k.second_result();
  const r2 = k.pipe_create(0); const w2 = k.second_result();
  const dup = (h, o) => { const c = k.handle_dup(h, o); if (c <= 0) throw new Error('dup ' + c); return c; };
  // echo (owner 2): reads pipe 1, writes pipe 2; pinger (owner 3): writes pipe 1, reads pipe 2.
  const echo = { owner: o2, input: dup(r1, o2), output: dup(w2, o2) };
  const pinger = { owner: o3, output: dup(w1, o3), input: dup(r2, o3) };
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const url = new URL(import.meta.url);
  const we = new Worker(url, { workerData: { module, memory, role: 'echo', ...echo, stop } });
  const wp = new Worker(url, { workerData: { module, memory, role: 'pinger', ...pinger, stop, bursts: Number(burstsArg), per: Number(perArg) } });
  wp.on('message', (times) => {
    Atomics.store(stop, 0, 1);
    times.sort((a, b) => a - b);
    const q = (f) => times[Math.floor(f * (times.length - 1))].toFixed(3);
    console.log(`${root.split('/').pop()} us/round trip: min ${q(0)} p10 ${q(0.1)} p25 ${q(0.25)} median ${q(0.5)}`);
    setTimeout(() => process.exit(0), 100);
  });
} else {
  const { module, memory, role, owner, input, output, stop } = workerData;
  const k = new WebAssembly.Instance(module, { env: { memory } }).exports;
  if (k.kernel_attach(owner) !== 0) throw new Error('attach');
  k.lock_may_sleep(1);
  const cells = new Int32Array(memory.buffer);
  const scratch = k.scratch();
  const inCell = k.handle_wait_cell(input) >>> 2;
  const read = () => {
    for (;;) {
      const seen = Atomics.load(cells, inCell);
      const n = k.stream_read(input, scratch, 64);
      if (n > 0) return n;
      if (Atomics.load(stop, 0)) return -1;
      while (Atomics.load(cells, inCell) === seen) if (Atomics.load(stop, 0)) return -1;
    }
  };
  if (role === 'echo') {
    for (;;) {
      if (read() < 0) break;
      k.stream_write(output, scratch, 64, 0, 0);
    }
  } else {
    const times = [];
    for (let b = 0; b < workerData.bursts; b++) {
      const t0 = performance.now();
      for (let i = 0; i < workerData.per; i++) {
        k.stream_write(output, scratch, 64, 0, 0);
        read();
      }
      times.push(((performance.now() - t0) * 1000) / workerData.per);
    }
    parentPort.postMessage(times);
  }
}
