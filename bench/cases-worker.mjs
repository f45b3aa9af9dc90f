// ipcx on the worker backend: the kernel emulated in shared WebAssembly memory. Both sides of every
// case are worker threads started by the backend's own `processes.spawn` (the main thread only
// sets up, commands runs and collects the results), so neither side shares its thread with the
// harness. A ping-pong's measuring worker (the pinger) is started once per case and commanded per
// run, as the peers measure on one long-lived thread: the harness's warm-up run warms it too.
import path from 'node:path';
import { IPC_PRIVATE } from '@ipcx/core';
import { createWorkerBackend } from '@ipcx/adapter-worker';
import { lineReader } from './children/serve-runs.mjs';
import { CHUNK_BYTES, PING_BYTES, gbPerSecond, usPerRoundTrip } from './lib.mjs';

const child = (name) => new URL(`./children/${name}`, import.meta.url);
const ipc = createWorkerBackend({ memoryBytes: 64 << 20 });

/** A child's exit status as text, for errors. */
const describeExit = ({ code, signal }) => (signal ? `killed by ${signal}` : `exit code ${code}`);

/** Awaits the end of `proc` (started from `entry`); throws unless it exited with code 0. */
async function checkExit(proc, entry) {
  const status = await proc.exited;
  if (status.code !== 0) throw new Error(`${path.basename(entry.pathname)}: ended with ${describeExit(status)}`);
}

/** Runs every step in order, even after one failed (teardown must release everything), then throws the first failure. */
async function allSteps(...steps) {
  let failed = false;
  let failure;
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      if (!failed) [failed, failure] = [true, error];
    }
  }
  if (failed) throw failure;
}

/** Everything `reader` gives until EOF, as text (a child's result). */
async function readText(reader) {
  let text = '';
  const decoder = new TextDecoder();
  for await (const chunk of reader) text += decoder.decode(chunk, { stream: true });
  return text + decoder.decode();
}

/**
 * Starts `entry` in a worker with `args` plus a result pipe; resolves, once it started, with a
 * promise of what it writes there (rejected if it exits with another code than 0). For children
 * that run once (the bulk receiver).
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
      await checkExit(proc, entry);
      return text;
    } finally {
      await resultReader.close();
    }
  })();
  return { result };
}

/**
 * Starts the measuring child `entry` (a pinger serving runs with children/serve-runs.mjs) once,
 * with `args` plus the reader end of a control pipe and the writer end of a result pipe.
 * `run(count)` commands one run of `count` round trips and resolves with the nanoseconds the child
 * measured (a bigint); `close()` ends it (EOF on the control pipe) and checks it exited with code
 * 0. `partner` is the child it plays against (the echo): if that ends during a run, the run fails
 * instead of waiting for an answer that cannot come. A failed run kills the measuring child.
 */
async function spawnMeasurer(entry, args, partner) {
  const name = path.basename(entry.pathname);
  const [controlReader, control] = await ipc.pipes.create();
  const [results, resultWriter] = await ipc.pipes.create();
  let proc;
  try {
    proc = await ipc.processes.spawn(entry, { args: [...args, controlReader, resultWriter] });
  } catch (error) {
    await control.close();
    await results.close();
    throw error;
  } finally {
    // Only the child holds these ends now: its exit closes them, so our reads see EOF then.
    await controlReader.close();
    await resultWriter.close();
  }
  const nextLine = lineReader(results);
  const partnerEnded = partner.exited.then((status) => {
    throw new Error(`${name}: its partner ended during a run (${describeExit(status)})`);
  });
  partnerEnded.catch(() => {}); // only a failure while a run waits on it
  let failed = false;
  return {
    async run(count) {
      try {
        await control.write(`${count}\n`);
        const line = await Promise.race([nextLine(), partnerEnded]);
        if (line === null) throw new Error(`${name}: ended without answering (${describeExit(await proc.exited)})`);
        return BigInt(line);
      } catch (error) {
        failed = true;
        proc.kill(); // it may be waiting on its partner forever
        throw error;
      }
    },
    async close() {
      await allSteps(
        () => control.close(), // EOF ends the child's serve loop
        async () => {
          const status = await proc.exited;
          // After a failed run the child was killed; that run's error is the one to report.
          if (!failed && status.code !== 0) throw new Error(`${name}: ended with ${describeExit(status)}`);
        },
        () => results.close(),
      );
    },
  };
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
      const endEcho = () =>
        allSteps(
          () => toEcho.close(), // EOF ends the echo once the pinger, which holds duplicates, is gone
          () => checkExit(echo, child('pipe-echo.mjs')),
          () => fromEcho.close(),
        );
      let pinger;
      try {
        // One pinger for every run: it holds duplicates of the ends and is commanded per run.
        pinger = await spawnMeasurer(child('pipe-pinger.mjs'), [toEcho, fromEcho, PING_BYTES], echo);
      } catch (error) {
        await endEcho().catch(() => {});
        throw error;
      }
      return {
        measure: async () => usPerRoundTrip(await pinger.run(roundTrips), roundTrips),
        teardown: () => allSteps(() => pinger.close(), endEcho),
      };
    },
  },
  {
    name: 'worker.pipe.bulk',
    unit: 'GB/s',
    async setup({ bulkBytes }) {
      return {
        async measure() {
          // A fresh sender and receiver per run (start-ups not timed: the receiver's clock starts
          // at the first chunk). A 1 MiB pipe, as native.pipe.bulk uses: the writer can run ahead
          // of the reader.
          const [reader, writer] = await ipc.pipes.create({ capacity: 1 << 20 });
          const sender = await ipc.processes.spawn(child('native-pipe-sender.mjs'), { args: [writer, bulkBytes, CHUNK_BYTES] });
          await writer.close();
          const { result } = await spawnForResult(child('pipe-receiver.mjs'), [reader, 1 << 20]);
          await reader.close();
          const [ns, timed, received] = (await result).split(' ').map(Number);
          await checkExit(sender, child('native-pipe-sender.mjs'));
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
      let echo;
      let pinger;
      try {
        echo = await ipc.processes.spawn(child('native-sysv-mq-echo.mjs'), { args: [queue, 1, 2, PING_BYTES] });
        pinger = await spawnMeasurer(child('sysv-mq-pinger.mjs'), [queue, 1, 2, PING_BYTES], echo);
      } catch (error) {
        await queue.remove(); // a waiting echo's receive fails (EIDRM) and it ends
        await echo?.exited;
        await queue.close();
        throw error;
      }
      return {
        measure: async () => usPerRoundTrip(await pinger.run(roundTrips), roundTrips),
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
        pinger = await spawnMeasurer(child('sysv-sem-pinger.mjs'), [set], echo);
      } catch (error) {
        await set.remove(); // the echo's wait fails with EIDRM and it ends
        await echo?.exited;
        await set.close();
        throw error;
      }
      return {
        measure: async () => usPerRoundTrip(await pinger.run(roundTrips), roundTrips),
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
];
