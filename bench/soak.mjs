// Soak: N create/use/close/remove cycles of each object kind in a tight async loop, printing the
// process's RSS every so often, to show that nothing grows per cycle (issue 10: a leak of a few
// KiB per cycle, or a reservation per object, ends a long-running program).
//
//   node bench/soak.mjs --backend native|worker [--cycles N] [--kind K[,K...]|all] [--every N] [--json]
//
// Kinds: pipe, duplex, fifo, sysv-queue, posix-queue, sysv-semaphore, posix-semaphore,
// sysv-shm, posix-shm, unix-socket, socket-pair. Each cycle makes one object (a pair, a FIFO with
// both ends, a listener with a connection), moves one byte or message or unit through it, closes
// it and removes its name, awaiting each step: a loop that never waits on anything but ipcx.
//
// Not a test and not timed against a target: it prints figures (RSS start, end, peak, growth, time)
// that docs/BENCHMARKS.md records ("Soak"). Every kernel object a cycle makes is registered in
// `live` until removed, and removed on Ctrl-C, SIGTERM or a failure before the process exits.
import os from 'node:os';
import path from 'node:path';
import { IPC_PRIVATE } from '@ipcx/core';

const args = parseArgs(process.argv.slice(2));
const backendName = args.backend ?? 'worker';
const cycles = Number(args.cycles ?? 1_000_000);
const every = Number(args.every ?? Math.max(1, Math.floor(cycles / 20)));
const KINDS = ['pipe', 'duplex', 'fifo', 'sysv-queue', 'posix-queue', 'sysv-semaphore', 'posix-semaphore', 'sysv-shm', 'posix-shm', 'unix-socket', 'socket-pair'];
const kinds = args.kind === undefined || args.kind === 'all' ? KINDS : args.kind.split(',');
for (const kind of kinds) if (!KINDS.includes(kind)) usage(`unknown kind '${kind}'`);
if (!Number.isSafeInteger(cycles) || cycles < 1 || !Number.isSafeInteger(every) || every < 1) usage('--cycles and --every take positive integers');

function parseArgs(list) {
  const parsed = {};
  for (let i = 0; i < list.length; i++) {
    const flag = list[i];
    if (flag === '--json') parsed.json = true;
    else if (flag.startsWith('--') && i + 1 < list.length) parsed[flag.slice(2)] = list[++i];
    else usage(`unexpected argument '${flag}'`);
  }
  return parsed;
}

function usage(message) {
  console.error(`soak: ${message}\nusage: node bench/soak.mjs --backend native|worker [--cycles N] [--kind K[,K...]|all] [--every N] [--json]`);
  process.exit(2);
}

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    // The loop sees `stopping` at its next step and cleans up; a second signal forces it.
    if (stopping) process.exit(130);
    stopping = true;
    console.error(`soak: ${signal}, cleaning up`);
  });
}

const backend =
  backendName === 'native'
    ? (await import('@ipcx/adapter-native')).createNativeBackend()
    : backendName === 'worker'
      ? (await import('@ipcx/adapter-worker')).createWorkerBackend()
      : usage(`unknown backend '${backendName}'`);

/** Names unique to this run, so parallel runs and other programs never collide with it. */
const tag = `ipcx-soak-${process.pid}`;
const fifoPath = path.join(os.tmpdir(), `${tag}.fifo`);
const socketPath = path.join(os.tmpdir(), `${tag}.sock`);

/** Cleanups of what the current cycle made and has not removed yet, by a label. */
const live = new Map();
/** Registers `cleanup` (idempotent) for the object `label` until {@link done}. */
function made(label, cleanup) {
  live.set(label, cleanup);
}
function done(label) {
  live.delete(label);
}
async function cleanupAll() {
  for (const [label, cleanup] of [...live]) {
    live.delete(label);
    await cleanup().catch((error) => console.error(`soak: cleanup of ${label}: ${error.code ?? error.message}`));
  }
}

const ignore = () => {};
const one = new Uint8Array([0x2a]);

/** One cycle of each kind: make, use, close, remove, registering the object until it is gone. */
const cycle = {
  async pipe() {
    const [reader, writer] = await backend.pipes.create();
    made('pipe', async () => Promise.all([reader.close(), writer.close()]));
    await writer.write(one);
    await reader.readInto(new Uint8Array(1));
    await writer.close();
    await reader.close();
    done('pipe');
  },
  async duplex() {
    const [a, b] = await backend.pipes.createDuplex();
    made('duplex', async () => Promise.all([a.close(), b.close()]));
    await a.write(one);
    await b.readInto(new Uint8Array(1));
    await a.close();
    await b.close();
    done('duplex');
  },
  async fifo() {
    await backend.fifos.create(fifoPath);
    made('fifo', () => backend.fifos.remove(fifoPath).catch(ignore));
    const reader = await backend.fifos.openReader(fifoPath, { nowait: true });
    const writer = await backend.fifos.openWriter(fifoPath, { nowait: true });
    made('fifo ends', async () => Promise.all([reader.close(), writer.close()]));
    await writer.write(one);
    await reader.readInto(new Uint8Array(1));
    await writer.close();
    await reader.close();
    done('fifo ends');
    await backend.fifos.remove(fifoPath);
    done('fifo');
  },
  async 'sysv-queue'() {
    const queue = await backend.messageQueues.open(IPC_PRIVATE, { create: true });
    made('sysv-queue', async () => {
      await queue.remove().catch(ignore);
      await queue.close();
    });
    await queue.send(1, one);
    await queue.receive();
    await queue.remove();
    await queue.close();
    done('sysv-queue');
  },
  async 'posix-queue'() {
    const name = `/${tag}-mq`;
    const queue = await backend.posixMessageQueues.open(name, { create: true, maxMessages: 1, messageSize: 64 });
    made('posix-queue', async () => {
      await queue.close();
      await backend.posixMessageQueues.unlink(name).catch(ignore);
    });
    await queue.send(one);
    await queue.receive();
    await queue.close();
    await backend.posixMessageQueues.unlink(name);
    done('posix-queue');
  },
  async 'sysv-semaphore'() {
    const set = await backend.semaphores.open('private', { create: true, size: 1 });
    made('sysv-semaphore', async () => {
      await set.remove().catch(ignore);
      await set.close();
    });
    set.post(0);
    await set.wait(0);
    await set.remove();
    await set.close();
    done('sysv-semaphore');
  },
  async 'posix-semaphore'() {
    const name = `/${tag}-sem`;
    const semaphore = await backend.posixSemaphores.open(name, { create: true, initial: 0 });
    made('posix-semaphore', async () => {
      await semaphore.close();
      await backend.posixSemaphores.unlink(name).catch(ignore);
    });
    semaphore.post();
    await semaphore.wait();
    await semaphore.close();
    await backend.posixSemaphores.unlink(name);
    done('posix-semaphore');
  },
  async 'sysv-shm'() {
    const segment = await backend.sharedMemory.openSysv('private', { create: true, size: 65536 });
    made('sysv-shm', async () => {
      await segment.close();
      await segment.remove().catch(ignore);
    });
    segment.write('x');
    await segment.close();
    await segment.remove();
    done('sysv-shm');
  },
  async 'posix-shm'() {
    const name = `/${tag}-shm`;
    const segment = await backend.sharedMemory.openPosix(name, { create: true, size: 65536 });
    made('posix-shm', async () => {
      await segment.close();
      await backend.sharedMemory.unlinkPosix(name).catch(ignore);
    });
    segment.write('x');
    await segment.close();
    await backend.sharedMemory.unlinkPosix(name);
    done('posix-shm');
  },
  async 'unix-socket'() {
    const server = await backend.unixSockets.listen(socketPath);
    // The server's close() removes the socket file.
    made('unix-socket', () => server.close());
    const [client, accepted] = await Promise.all([backend.unixSockets.connect(socketPath), server.accept()]);
    made('unix-socket ends', async () => Promise.all([client.close(), accepted.close()]));
    await client.write(one);
    await accepted.readInto(new Uint8Array(1));
    await client.close();
    await accepted.close();
    done('unix-socket ends');
    await server.close();
    done('unix-socket');
  },
  async 'socket-pair'() {
    const [a, b] = await backend.unixSockets.pair('datagram');
    made('socket-pair', async () => Promise.all([a.close(), b.close()]));
    await a.send(one);
    await b.receive();
    await a.close();
    await b.close();
    done('socket-pair');
  },
};

const MiB = 1024 * 1024;
const rss = () => process.memoryUsage.rss();
const results = [];
let failed = false;
try {
  for (const kind of kinds) {
    if (stopping) break;
    const run = cycle[kind];
    const start = rss();
    let peak = start;
    const started = performance.now();
    const curve = [];
    let completed = 0;
    if (!args.json) console.log(`${backendName} ${kind}: ${cycles} cycles, RSS every ${every}`);
    for (let i = 1; i <= cycles && !stopping; i++) {
      await run();
      completed = i;
      if (i % every === 0 || i === cycles) {
        const now = rss();
        peak = Math.max(peak, now);
        curve.push([i, now]);
        if (!args.json) console.log(`  ${String(i).padStart(9)}  ${(now / MiB).toFixed(1).padStart(7)} MiB  ${((performance.now() - started) / 1000).toFixed(1).padStart(7)} s`);
      }
    }
    const end = rss();
    const seconds = (performance.now() - started) / 1000;
    const result = { backend: backendName, kind, cycles: completed, seconds: +seconds.toFixed(1), usPerCycle: +((seconds * 1e6) / completed).toFixed(1), rssStartMiB: +(start / MiB).toFixed(1), rssEndMiB: +(end / MiB).toFixed(1), rssPeakMiB: +(Math.max(peak, end) / MiB).toFixed(1), growthMiB: +((end - start) / MiB).toFixed(1), growthAfterFirstSampleMiB: curve.length > 1 ? +((end - curve[0][1]) / MiB).toFixed(1) : null, curve: curve.map(([i, bytes]) => [i, +(bytes / MiB).toFixed(1)]) };
    results.push(result);
    if (!args.json) console.log(`  ${kind}: ${completed} cycles in ${result.seconds} s (${result.usPerCycle} µs each), RSS ${result.rssStartMiB} -> ${result.rssEndMiB} MiB (peak ${result.rssPeakMiB}), growth ${result.growthMiB} MiB (${result.growthAfterFirstSampleMiB} after the first sample)`);
  }
} catch (error) {
  failed = true;
  console.error('soak: failed:', error);
} finally {
  await cleanupAll();
}

// What this run left in the kernel (the kernel lists everyone's objects: keep those named by this run's tag).
const left = (await backend.diagnostics.kernelObjects()).filter((entry) => backendName === 'worker' || String(entry).includes(tag));
if (left.length > 0) {
  failed = true;
  console.error('soak: objects left behind:', left);
}
if (args.json) console.log(JSON.stringify({ backend: backendName, node: process.version, load: os.loadavg().map((x) => +x.toFixed(2)), results }));
else {
  console.log(`load average at the end: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  console.log('kind             cycles    seconds  µs/cycle  RSS start  end    peak   growth  after 1st sample (MiB)');
  for (const r of results) {
    console.log(`${r.kind.padEnd(16)} ${String(r.cycles).padStart(8)} ${String(r.seconds).padStart(9)} ${String(r.usPerCycle).padStart(9)}  ${String(r.rssStartMiB).padStart(9)} ${String(r.rssEndMiB).padStart(6)} ${String(r.rssPeakMiB).padStart(6)} ${String(r.growthMiB).padStart(7)} ${String(r.growthAfterFirstSampleMiB).padStart(7)}`);
  }
}
process.exit(failed || stopping ? 1 : 0);
