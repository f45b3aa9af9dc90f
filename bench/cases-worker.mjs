// ipcx on the worker backend: the kernel emulated in shared WebAssembly memory. Both sides of every
// case are worker threads started by the backend's own `processes.spawn` (the main thread only
// sets up and collects the result), so neither side shares its thread with the harness.
import { IPC_PRIVATE } from '@ipcx/core';
import { createWorkerBackend } from '@ipcx/adapter-worker';
import { CHUNK_BYTES, PING_BYTES, gbPerSecond, usPerRoundTrip } from './lib.mjs';

const child = (name) => new URL(`./children/${name}`, import.meta.url);
const ipc = createWorkerBackend({ memoryBytes: 64 << 20 });

/** Everything `reader` gives until EOF, as text (a child's result). */
async function readText(reader) {
  let text = '';
  const decoder = new TextDecoder();
  for await (const chunk of reader) text += decoder.decode(chunk, { stream: true });
  return text + decoder.decode();
}

/**
 * Starts `entry` in a worker with `args` plus a result pipe; resolves, once it started, with a
 * promise of what it writes there (rejected if it exits with another code than 0).
 */
async function spawnForResult(entry, args) {
  const [resultReader, resultWriter] = await ipc.pipes.create();
  let proc;
  try {
    proc = await ipc.processes.spawn(entry, { args: [...args, resultWriter] });
  } finally {
    await resultWriter.close();
  }
  const result = (async () => {
    try {
      const text = await readText(resultReader);
      const { code } = await proc.exited;
      if (code !== 0) throw new Error(`${entry.pathname}: exited with ${code}`);
      return text;
    } finally {
      await resultReader.close();
    }
  })();
  return { result };
}

/** Why a case cannot run on this worker backend, or undefined. */
function missing(primitive) {
  return ipc.capabilities.primitives.has(primitive) ? undefined : `the worker backend does not implement '${primitive}' yet`;
}

/** @type {import('./run.mjs').BenchCase[]} */
export const workerCases = [
  {
    name: 'worker.pipe.pingpong',
    unit: 'us',
    async setup({ roundTrips }) {
      const [toEchoReader, toEcho] = await ipc.pipes.create();
      const [fromEcho, fromEchoWriter] = await ipc.pipes.create();
      const echo = await ipc.processes.spawn(child('pipe-echo.mjs'), { args: [toEchoReader, fromEchoWriter, PING_BYTES] });
      await toEchoReader.close();
      await fromEchoWriter.close();
      return {
        async measure() {
          // A fresh pinger per run (its start-up is not timed): it holds duplicates of the ends.
          const { result } = await spawnForResult(child('pipe-pinger.mjs'), [toEcho, fromEcho, roundTrips, PING_BYTES]);
          const ns = await result;
          return usPerRoundTrip(BigInt(ns), roundTrips);
        },
        async teardown() {
          await toEcho.close(); // EOF ends the echo
          await echo.exited;
          await fromEcho.close();
        },
      };
    },
  },
  {
    name: 'worker.pipe.bulk',
    unit: 'GB/s',
    async setup({ bulkBytes }) {
      return {
        async measure() {
          // A 1 MiB pipe, as native.pipe.bulk uses: the writer can run ahead of the reader.
          const [reader, writer] = await ipc.pipes.create({ capacity: 1 << 20 });
          const sender = await ipc.processes.spawn(child('native-pipe-sender.mjs'), { args: [writer, bulkBytes, CHUNK_BYTES] });
          await writer.close();
          const { result } = await spawnForResult(child('pipe-receiver.mjs'), [reader, 1 << 20]);
          await reader.close();
          const [ns, timed, received] = (await result).split(' ').map(Number);
          await sender.exited;
          if (received !== bulkBytes) throw new Error(`worker.pipe.bulk: received ${received} of ${bulkBytes} bytes`);
          return gbPerSecond(ns, timed);
        },
        async teardown() {},
      };
    },
  },
  {
    name: 'worker.sysv-mq.pingpong',
    unit: 'us',
    skip: missing('message-queue'),
    async setup({ roundTrips }) {
      // One private queue: pings are type 1, pongs type 2 (as native.sysv-mq.pingpong).
      const queue = await ipc.messageQueues.open(IPC_PRIVATE);
      try {
        const echo = await ipc.processes.spawn(child('native-sysv-mq-echo.mjs'), { args: [queue, 1, 2, PING_BYTES] });
        return {
          async measure() {
            const { result } = await spawnForResult(child('sysv-mq-pinger.mjs'), [queue, 1, 2, PING_BYTES, roundTrips]);
            return usPerRoundTrip(BigInt(await result), roundTrips);
          },
          async teardown() {
            await queue.send(1, new Uint8Array(1)); // any other length ends the echo
            await echo.exited;
            await queue.remove();
            await queue.close();
          },
        };
      } catch (error) {
        await queue.remove();
        await queue.close();
        throw error;
      }
    },
  },
  {
    name: 'worker.sysv-sem.pingpong',
    unit: 'us',
    skip: missing('semaphore'),
    async setup({ roundTrips }) {
      // A set of two: the pinger posts 0 and waits on 1, the echo waits on 0 and posts 1 (as
      // native.sysv-sem.pingpong). No payload: the cost of the wake-ups alone.
      const set = await ipc.semaphores.open('private', { size: 2 });
      try {
        const echo = await ipc.processes.spawn(child('native-sysv-sem-echo.mjs'), { args: [set] });
        return {
          async measure() {
            const { result } = await spawnForResult(child('sysv-sem-pinger.mjs'), [set, roundTrips]);
            return usPerRoundTrip(BigInt(await result), roundTrips);
          },
          async teardown() {
            await set.remove(); // the echo's wait fails with EIDRM and it ends
            await echo.exited;
            await set.close();
          },
        };
      } catch (error) {
        await set.remove();
        await set.close();
        throw error;
      }
    },
  },
];
