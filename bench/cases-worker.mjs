// ipcx on the worker backend: the kernel emulated in shared WebAssembly memory. Both sides of every
// case are worker threads started by the backend's own `processes.spawn` (the main thread only
// sets up, commands runs and collects the results), so neither side shares its thread with the
// harness. The measuring worker of a case (a ping-pong's pinger, the bulk receiver) is started once
// per case and commanded per run, as the peers measure on one long-lived thread: the harness's
// warm-up run warms it too.
import { IPC_PRIVATE } from '@ipcx/core';
import { createWorkerBackend } from '@ipcx/adapter-worker';
import { CHUNK_BYTES, PING_BYTES, gbPerSecond, usPerRoundTrip } from './lib.mjs';
import { allSteps, checkExit, spawnServing } from './serving.mjs';

const child = (name) => new URL(`./children/${name}`, import.meta.url);
const ipc = createWorkerBackend({ memoryBytes: 64 << 20 });

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
      const endEcho = () =>
        allSteps(
          () => toEcho.close(), // EOF ends the echo once the pinger, which holds duplicates, is gone
          () => checkExit(echo, child('pipe-echo.mjs')),
          () => fromEcho.close(),
        );
      let pinger;
      try {
        // One pinger for every run: it holds duplicates of the ends and is commanded per run.
        pinger = await spawnServing(ipc, child('pipe-pinger.mjs'), [toEcho, fromEcho, PING_BYTES], echo);
      } catch (error) {
        await endEcho().catch(() => {});
        throw error;
      }
      return {
        measure: async () => usPerRoundTrip(BigInt(await pinger.run(roundTrips)), roundTrips),
        teardown: () => allSteps(() => pinger.close(), endEcho),
      };
    },
  },
  {
    name: 'worker.pipe.bulk',
    unit: 'GB/s',
    async setup({ bulkBytes }) {
      // One 1 MiB pipe (as native.pipe.bulk uses: the writer can run ahead of the reader), one
      // sender and one receiver for the whole case, commanded per run (as the peers' sides live
      // for the whole case). The receiver times from its command to the last byte.
      const [reader, writer] = await ipc.pipes.create({ capacity: 1 << 20 });
      let sender;
      let receiver;
      try {
        sender = await spawnServing(ipc, child('pipe-bulk-sender.mjs'), [writer, CHUNK_BYTES]);
        receiver = await spawnServing(ipc, child('pipe-bulk-receiver.mjs'), [reader, 1 << 20], sender);
      } catch (error) {
        await sender?.close().catch(() => {});
        throw error;
      } finally {
        // Only the children hold the ends now: if one dies, the other sees EOF or EPIPE.
        await allSteps(() => reader.close(), () => writer.close());
      }
      return {
        async measure() {
          const [ns] = await Promise.all([receiver.run(bulkBytes), sender.run(bulkBytes)]);
          return gbPerSecond(Number(ns), bulkBytes);
        },
        teardown: () => allSteps(() => sender.close(), () => receiver.close()),
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
      let echo;
      let pinger;
      try {
        echo = await ipc.processes.spawn(child('native-sysv-mq-echo.mjs'), { args: [queue, 1, 2, PING_BYTES] });
        pinger = await spawnServing(ipc, child('sysv-mq-pinger.mjs'), [queue, 1, 2, PING_BYTES], echo);
      } catch (error) {
        await queue.remove(); // a waiting echo's receive fails (EIDRM) and it ends
        await echo?.exited;
        await queue.close();
        throw error;
      }
      return {
        measure: async () => usPerRoundTrip(BigInt(await pinger.run(roundTrips)), roundTrips),
        teardown: () =>
          allSteps(
            () => pinger.close(),
            () => queue.send(1, new Uint8Array(1)), // any other length ends the echo
            () => checkExit(echo, child('native-sysv-mq-echo.mjs')),
            () => queue.remove(),
            () => queue.close(),
          ),
      };
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
      let echo;
      let pinger;
      try {
        echo = await ipc.processes.spawn(child('native-sysv-sem-echo.mjs'), { args: [set] });
        pinger = await spawnServing(ipc, child('sysv-sem-pinger.mjs'), [set], echo);
      } catch (error) {
        await set.remove(); // the echo's wait fails with EIDRM and it ends
        await echo?.exited;
        await set.close();
        throw error;
      }
      return {
        measure: async () => usPerRoundTrip(BigInt(await pinger.run(roundTrips)), roundTrips),
        teardown: () =>
          allSteps(
            () => pinger.close(),
            () => set.remove(), // the echo's wait fails with EIDRM and it ends
            () => checkExit(echo, child('native-sysv-sem-echo.mjs')),
            () => set.close(),
          ),
      };
    },
  },
  {
    name: 'worker.eventfd.pingpong',
    unit: 'us',
    skip: missing('eventfd'),
    async setup({ roundTrips }) {
      // Two counters between two workers: the pinger writes 1 to ping and reads pong, the echo
      // reads ping and writes pong (as native.eventfd.pingpong).
      const ping = await ipc.eventfds.create();
      const pong = await ipc.eventfds.create();
      let echo;
      let pinger;
      try {
        echo = await ipc.processes.spawn(child('eventfd-echo.mjs'), { args: [ping, pong] });
        pinger = await spawnServing(ipc, child('eventfd-pinger.mjs'), [ping, pong], echo);
      } catch (error) {
        await allSteps(
          async () => echo && (await ping.write(1n << 62n), await echo.exited),
          () => ping.close(),
          () => pong.close(),
        );
        throw error;
      }
      return {
        measure: async () => usPerRoundTrip(BigInt(await pinger.run(roundTrips)), roundTrips),
        teardown: () =>
          allSteps(
            () => pinger.close(),
            () => ping.write(1n << 62n), // the echo's STOP
            () => checkExit(echo, child('eventfd-echo.mjs')),
            () => ping.close(),
            () => pong.close(),
          ),
      };
    },
  },
];
