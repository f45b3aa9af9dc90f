// ipcx on the Redis backend and its Redis peers. Each case starts its own redis-server (from
// PATH, installed by scripts/redis.mjs when allowed) on a free port in a temporary folder with
// `--save '' --appendonly no`, and stops it in teardown. The other side is a local OS process.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { IPC_PRIVATE } from '@ipcx/core';
import { createRedisBackend } from '@ipcx/adapter-redis';
import { Redis } from 'ioredis';
import { Queue, QueueEvents } from 'bullmq';
import { PING_BYTES, once, usPerRoundTrip } from './lib.mjs';
import { startRedis } from '../scripts/redis.mjs';

const child = (name) => new URL(`./children/${name}`, import.meta.url);

async function pingPong(roundTrips, send, receive) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < roundTrips; i++) {
    await send();
    await receive();
  }
  return usPerRoundTrip(process.hrtime.bigint() - start, roundTrips);
}

/** Starts a plain Node child (a peer without ipcx) and resolves once it is running. */
async function spawnNode(name, args) {
  const proc = spawn(process.execPath, [fileURLToPath(child(name)), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  await once(proc, 'spawn');
  return proc;
}

/**
 * Starts the backend's lease renewal thread now: a process's first wait starts it, and its one-time
 * start (a worker thread loading the client library, about 0.2 s of CPU) is setup, not a message's
 * cost. (The child's thread starts in setup too: its first receive waits there.)
 */
async function startLeaseThread(ipc) {
  await ipc.connection.startLease();
  await ipc.connection.leaseThreadStarted();
}

/** @type {import('./run.mjs').BenchCase[]} */
export const redisCases = [
  {
    name: 'redis.sysv-mq.pingpong',
    unit: 'us',
    async setup({ roundTrips }) {
      const server = await startRedis();
      const ipc = createRedisBackend({ connection: { host: '127.0.0.1', port: server.port }, prefix: 'bench' });
      // One private queue: pings are type 1, pongs type 2 (the native case's echo child, unchanged).
      const queue = await ipc.messageQueues.open(IPC_PRIVATE);
      const proc = await ipc.processes.spawn(child('native-sysv-mq-echo.mjs'), { args: [queue, 1, 2, PING_BYTES] });
      await startLeaseThread(ipc);
      const ping = new Uint8Array(PING_BYTES).fill(1);
      const count = Math.max(200, roundTrips / 4);
      return {
        measure: () => pingPong(count, () => queue.send(1, ping), () => queue.receive({ type: 2 })),
        async teardown() {
          await queue.send(1, new Uint8Array(1));
          await proc.exited;
          await queue.remove();
          await queue.close();
          await ipc.close();
          await server.stop();
        },
      };
    },
  },
  {
    name: 'redis.sysv-mq.throughput',
    unit: 'msg/s',
    async setup({ roundTrips }) {
      const server = await startRedis();
      const ipc = createRedisBackend({ connection: { host: '127.0.0.1', port: server.port }, prefix: 'bench' });
      const control = await ipc.messageQueues.open(IPC_PRIVATE);
      const queue = await ipc.messageQueues.open(IPC_PRIVATE);
      await queue.set({ maxBytes: 1 << 20 });
      const window = 256;
      const proc = await ipc.processes.spawn(child('redis-sysv-mq-producer.mjs'), { args: [control, queue, window] });
      await startLeaseThread(ipc);
      const count = Math.max(2000, roundTrips * 2);
      return {
        async measure() {
          const start = process.hrtime.bigint();
          await control.send(1, String(count));
          // The consumer keeps `window` receives pending (one process's receives are unordered among themselves).
          let received = 0;
          const worker = async () => {
            while (received < count) {
              received++;
              await queue.receive({ type: 1 });
            }
          };
          await Promise.all(Array.from({ length: window }, worker));
          return count / (Number(process.hrtime.bigint() - start) / 1e9);
        },
        async teardown() {
          await control.send(1, new Uint8Array(0));
          await proc.exited;
          for (const q of [control, queue]) {
            await q.remove();
            await q.close();
          }
          await ipc.close();
          await server.stop();
        },
      };
    },
  },
  {
    name: 'peer.redis-list.pingpong',
    unit: 'us',
    async setup({ roundTrips }) {
      const server = await startRedis();
      const redis = new Redis({ host: '127.0.0.1', port: server.port });
      const proc = await spawnNode('redis-list-echo.mjs', [String(server.port), 'ping', 'pong', String(PING_BYTES)]);
      const ping = Buffer.alloc(PING_BYTES, 1);
      const count = Math.max(200, roundTrips / 4);
      return {
        measure: () => pingPong(count, () => redis.lpush('ping', ping), () => redis.brpopBuffer('pong', 0)),
        async teardown() {
          await redis.lpush('ping', Buffer.alloc(1));
          await once(proc, 'exit');
          redis.disconnect();
          await server.stop();
        },
      };
    },
  },
  {
    name: 'peer.bullmq.pingpong',
    unit: 'us',
    async setup({ roundTrips }) {
      const server = await startRedis();
      const connection = { host: '127.0.0.1', port: server.port, maxRetriesPerRequest: null };
      const queue = new Queue('bench', { connection });
      const events = new QueueEvents('bench', { connection });
      await events.waitUntilReady();
      const proc = await spawnNode('bullmq-worker.mjs', [String(server.port), 'bench']);
      await once(proc.stdout, 'data');
      const data = { ping: 'x'.repeat(PING_BYTES) };
      const count = Math.max(50, roundTrips / 40);
      return {
        async measure() {
          const start = process.hrtime.bigint();
          for (let i = 0; i < count; i++) {
            // Completed jobs are kept: waitUntilFinished reads the job after its completion event.
            const job = await queue.add('ping', data);
            await job.waitUntilFinished(events);
          }
          return usPerRoundTrip(process.hrtime.bigint() - start, count);
        },
        async teardown() {
          proc.kill('SIGTERM');
          await once(proc, 'exit');
          await events.close();
          await queue.close();
          await server.stop();
        },
      };
    },
  },
];
