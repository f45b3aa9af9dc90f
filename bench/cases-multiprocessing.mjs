// @ipcx/multiprocessing (issue 13) and its peers: Queue ping-pong and throughput, the ring's bulk
// rate, Pool.map of tiny tasks; Python's multiprocessing and piscina measured in the same run.
import { spawn as spawnProcess, spawnSync } from 'node:child_process';
import { createNativeBackend } from '@ipcx/adapter-native';
import { createWorkerBackend } from '@ipcx/adapter-worker';
import { Lock, Pipe, Pool, Queue, registerCodec, spawn, task } from '@ipcx/multiprocessing';
import { Piscina } from 'piscina';
import { CHUNK_BYTES, gbPerSecond, once, usPerRoundTrip } from './lib.mjs';

const child = (name) => new URL(`./children/${name}`, import.meta.url);
const native = createNativeBackend();

/** The small object. */
const SMALL = { id: 1, name: 'item', values: [1, 2, 3, 4, 5, 6, 7, 8] };
/** Values per throughput run; tasks per pool run (the 100,000). */
const VALUES = 200_000;
const TASKS = 100_000;

function queuePingPong(name, makeBackend) {
  return {
    name,
    unit: 'us',
    async setup({ roundTrips }) {
      const backend = makeBackend();
      const inbox = await Queue.create(backend, { capacity: 65536 });
      const outbox = await Queue.create(backend, { capacity: 65536 });
      const echo = await spawn(backend, child('mp-queue-echo.mjs'), [inbox, outbox]);
      return {
        async measure() {
          const start = process.hrtime.bigint();
          for (let i = 0; i < roundTrips; i++) {
            await inbox.put(SMALL);
            await outbox.get();
          }
          return usPerRoundTrip(process.hrtime.bigint() - start, roundTrips);
        },
        async teardown() {
          await inbox.put(null);
          await outbox.get();
          await echo.join();
          await inbox.close();
          await outbox.close();
        },
      };
    },
  };
}

/**
 * A producer child and a consumer child on one channel (a queue, or the two ends of a Pipe),
 * commanded per run over Connections.
 */
async function producerConsumer(channel, value, module = 'mp-queue-side.mjs') {
  const sides = [];
  for (const role of ['producer', 'consumer']) {
    const [mine, theirs] = await Pipe(native);
    const end = Array.isArray(channel) ? channel[role === 'producer' ? 0 : 1] : channel;
    const proc = await spawn(native, child(module), [role, end, theirs, value]);
    await theirs.close();
    sides.push({ conn: mine, proc });
  }
  const [producer, consumer] = sides;
  return {
    /** Commands `count` values through; resolves with ns from the command to the last value got. */
    async run(count) {
      const start = process.hrtime.bigint();
      await consumer.conn.send(count);
      await producer.conn.send(count);
      await consumer.conn.recv();
      return process.hrtime.bigint() - start;
    },
    async close() {
      for (const side of sides) {
        await side.conn.send(null);
        await side.proc.join();
        await side.conn.close();
      }
    },
  };
}

function pythonCase(name, kind, count, unit) {
  const available = spawnSync('python3', ['--version']).status === 0;
  return {
    name,
    unit,
    skip: available ? undefined : 'python3 is not on this machine',
    async setup({ roundTrips }) {
      return {
        async measure() {
          const proc = spawnProcess('python3', [child('python_mp.py').pathname, kind, String(count ?? roundTrips)], { stdio: ['ignore', 'pipe', 'inherit'] });
          let out = '';
          proc.stdout.on('data', (chunk) => (out += chunk));
          const code = await once(proc, 'exit');
          if (code !== 0) throw new Error(`${name}: python exited with ${code}`);
          return Number(out.trim());
        },
        teardown: async () => {},
      };
    },
  };
}

/** @type {import('./run.mjs').BenchCase[]} */
export const multiprocessingCases = [
  queuePingPong('native.mp-queue.pingpong', () => native),
  queuePingPong('worker.mp-queue.pingpong', () => createWorkerBackend()),
  {
    name: 'native.mp-queue.throughput',
    unit: 'values/s',
    async setup() {
      const queue = await Queue.create(native, { capacity: 1 << 20 });
      const sides = await producerConsumer(queue, SMALL);
      return {
        async measure() {
          return VALUES / (Number(await sides.run(VALUES)) / 1e9);
        },
        async teardown() {
          await sides.close();
          await queue.close();
        },
      };
    },
  },
  {
    name: 'native.ring.bulk',
    unit: 'GB/s',
    async setup({ bulkBytes }) {
      // 64 KiB messages between two processes over the shared-memory ring that Pipe() picks on
      // this backend: sendBytes copies each into the ring, recvBytesInto out into a reused buffer.
      // 4 MiB (64 values): a side that sleeps on a full or empty ring is back after a futex wake
      // and a waiter thread's hop (50-100 us here); a 1 MiB ring (16 values) drains in about that
      // time, so the two sides took turns instead of overlapping (docs/BENCHMARKS.md).
      const [a, b] = await Pipe(native, { capacity: 4 << 20 });
      const sides = await producerConsumer([b, a], new Uint8Array(CHUNK_BYTES).fill(7), 'mp-conn-side.mjs');
      await b.close();
      const count = Math.floor(bulkBytes / CHUNK_BYTES);
      return {
        async measure() {
          return gbPerSecond(await sides.run(count), count * CHUNK_BYTES);
        },
        async teardown() {
          await sides.close();
          await a.close();
        },
      };
    },
  },
  {
    name: 'native.mp-lock.death-release',
    unit: 'ms',
    async setup() {
      // From kill -9 of a Lock's holder to the waiting acquirer holding it (told the holder died).
      const lock = await Lock.create(native);
      const said = await Queue.create(native);
      return {
        async measure() {
          const holder = await spawn(native, child('mp-lock-hold.mjs'), [lock, said]);
          await said.get();
          const acquired = lock.acquire({ timeout: 10_000 });
          const start = process.hrtime.bigint();
          holder.kill('SIGKILL');
          if (!(await acquired) || !lock.previousOwnerDied) throw new Error('native.mp-lock.death-release: the lock was not handed over as a dead holder\'s');
          const ms = Number(process.hrtime.bigint() - start) / 1e6;
          await holder.join();
          await lock.release();
          return ms;
        },
        async teardown() {
          await lock.close();
          await said.close();
        },
      };
    },
  },
  {
    name: 'native.mp-pool.map',
    unit: 'tasks/s',
    async setup() {
      const pool = await Pool.create(native, { processes: 2 });
      const double = task(child('mp-tasks.mjs'), 'double');
      const items = Array.from({ length: TASKS }, (_, i) => i);
      return {
        async measure() {
          const start = process.hrtime.bigint();
          await pool.map(double, items);
          return TASKS / (Number(process.hrtime.bigint() - start) / 1e9);
        },
        async teardown() {
          pool.close();
          await pool.join();
        },
      };
    },
  },
  pythonCase('peer.python-mp-queue.throughput', 'queue-throughput', VALUES, 'values/s'),
  pythonCase('peer.python-mp-pool.map', 'pool-map', TASKS, 'tasks/s'),
  {
    name: 'peer.piscina.map',
    unit: 'tasks/s',
    async setup() {
      const pool = new Piscina({ filename: child('piscina-double.mjs').href, minThreads: 2, maxThreads: 2 });
      const items = Array.from({ length: TASKS }, (_, i) => i);
      return {
        async measure() {
          const start = process.hrtime.bigint();
          await Promise.all(items.map((x) => pool.run(x)));
          return TASKS / (Number(process.hrtime.bigint() - start) / 1e9);
        },
        teardown: () => pool.destroy(),
      };
    },
  },
];

/** The speed targets: [mine, peer, factor] (ratios of medians, higher is better). */
export const multiprocessingTargets = [
  ['native.mp-queue.pingpong', 'peer.python-mp-queue.pingpong', 20],
  ['native.mp-queue.pingpong', 'peer.process-send.pingpong', 15],
  ['worker.mp-queue.pingpong', 'peer.messageport.pingpong', 20],
  ['native.mp-queue.throughput', 'peer.python-mp-queue.throughput', 10],
  ['native.ring.bulk', 'native.pipe.bulk', 2.5],
  ['native.mp-pool.map', 'peer.python-mp-pool.map', 3],
  ['native.mp-pool.map', 'peer.piscina.map', 1],
];
