// ipcx on the native backend: the other side is an OS process started by processes.spawn.
import { IPC_PRIVATE } from '@ipcx/core';
import { createNativeBackend } from '@ipcx/adapter-native';
import { CHUNK_BYTES, PING_BYTES, gbPerSecond, receiveBytes, usPerRoundTrip } from './lib.mjs';
import { allSteps, spawnServing } from './serving.mjs';

const child = (name) => new URL(`./children/${name}`, import.meta.url);
const ipc = createNativeBackend();

/** Reads exactly `length` bytes (ping-pong messages may in principle arrive split). */
async function readExactly(reader, length) {
  let got = 0;
  while (got < length) {
    const chunk = await reader.read({ maxBytes: length - got });
    if (chunk === null) throw new Error('unexpected EOF');
    got += chunk.length;
  }
}

/** Round trips of 64 bytes: write `ping`, read the echo. */
async function pingPong(roundTrips, send, receive) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < roundTrips; i++) {
    await send();
    await receive();
  }
  return usPerRoundTrip(process.hrtime.bigint() - start, roundTrips);
}

/** A name for a kernel object, unique to this run. */
const uniqueName = (what) => `/ipcx-bench-${process.pid}-${what}`;

/** @type {import('./run.mjs').BenchCase[]} */
export const nativeCases = [
  {
    name: 'native.pipe.pingpong',
    unit: 'us',
    async setup({ roundTrips }) {
      const [toChildReader, toChild] = await ipc.pipes.create();
      const [fromChild, fromChildWriter] = await ipc.pipes.create();
      const proc = await ipc.processes.spawn(child('native-pipe-echo.mjs'), { args: [toChildReader, fromChildWriter] });
      await toChildReader.close();
      await fromChildWriter.close();
      const ping = new Uint8Array(PING_BYTES).fill(1);
      return {
        async measure() {
          const start = process.hrtime.bigint();
          for (let i = 0; i < roundTrips; i++) {
            await toChild.write(ping);
            await readExactly(fromChild, PING_BYTES);
          }
          return usPerRoundTrip(process.hrtime.bigint() - start, roundTrips);
        },
        async teardown() {
          await toChild.close();
          await proc.exited;
          await fromChild.close();
        },
      };
    },
  },
  {
    name: 'native.pipe.bulk',
    unit: 'GB/s',
    async setup({ bulkBytes }) {
      // One 1 MiB pipe and one sender process for the whole case, commanded per run (as the peers'
      // sides live for the whole case); this process reads.
      const [reader, writer] = await ipc.pipes.create({ capacity: 1 << 20 });
      let sender;
      try {
        sender = await spawnServing(ipc, child('pipe-bulk-sender.mjs'), [writer, CHUNK_BYTES]);
      } catch (error) {
        await reader.close();
        throw error;
      } finally {
        await writer.close(); // the sender holds its duplicate: its exit gives us EOF
      }
      const buffer = new Uint8Array(1 << 20);
      return {
        async measure() {
          // Timed from the command to the last byte, as every bulk case.
          const start = process.hrtime.bigint();
          const sending = sender.run(bulkBytes);
          sending.catch(() => {}); // reported by the Promise.all below
          const receiving = receiveBytes(reader, buffer, bulkBytes).then(() => process.hrtime.bigint() - start);
          const [ns] = await Promise.all([receiving, sending]);
          return gbPerSecond(ns, bulkBytes);
        },
        teardown: () => allSteps(() => sender.close(), () => reader.close()),
      };
    },
  },
  {
    name: 'native.unix-stream.pingpong',
    unit: 'us',
    async setup({ roundTrips }) {
      const [mine, theirs] = await ipc.unixSockets.pair('stream');
      const proc = await ipc.processes.spawn(child('native-pipe-echo.mjs'), { args: [theirs, theirs] });
      await theirs.close();
      const ping = new Uint8Array(PING_BYTES).fill(1);
      return {
        measure: () => pingPong(roundTrips, () => mine.write(ping), () => readExactly(mine, PING_BYTES)),
        async teardown() {
          // EOF ends the child's echo loop.
          await mine.close();
          await proc.exited;
        },
      };
    },
  },
  {
    name: 'native.sysv-mq.pingpong',
    unit: 'us',
    async setup({ roundTrips }) {
      // One private queue: pings are type 1, pongs type 2.
      const queue = await ipc.messageQueues.open(IPC_PRIVATE);
      try {
        const proc = await ipc.processes.spawn(child('native-sysv-mq-echo.mjs'), { args: [queue, 1, 2, PING_BYTES] });
        const ping = new Uint8Array(PING_BYTES).fill(1);
        return {
          measure: () => pingPong(roundTrips, () => queue.send(1, ping), () => queue.receive({ type: 2 })),
          async teardown() {
            await queue.send(1, new Uint8Array(1)); // any other length ends the child
            await proc.exited;
            await queue.remove();
            await queue.close();
          },
        };
      } catch (error) {
        await queue.remove();
        throw error;
      }
    },
  },
  {
    name: 'native.posix-mq.pingpong',
    unit: 'us',
    async setup({ roundTrips }) {
      const names = [uniqueName('ping'), uniqueName('pong')];
      const [toChild, fromChild] = await Promise.all(names.map((name) => ipc.posixMessageQueues.open(name, { create: true, exclusive: true, maxMessages: 10, messageSize: PING_BYTES })));
      const removeAll = async () => {
        await toChild.close();
        await fromChild.close();
        for (const name of names) await ipc.posixMessageQueues.unlink(name);
      };
      try {
        const proc = await ipc.processes.spawn(child('native-posix-mq-echo.mjs'), { args: [toChild, fromChild, PING_BYTES] });
        const ping = new Uint8Array(PING_BYTES).fill(1);
        return {
          measure: () => pingPong(roundTrips, () => toChild.send(ping), () => fromChild.receive()),
          async teardown() {
            await toChild.send(new Uint8Array(0)); // any other length ends the child
            await proc.exited;
            await removeAll();
          },
        };
      } catch (error) {
        await removeAll();
        throw error;
      }
    },
  },
  {
    name: 'native.sysv-sem.pingpong',
    unit: 'us',
    async setup({ roundTrips }) {
      // A set of two: the parent posts 0 and waits on 1, the child waits on 0 and posts 1. No
      // payload travels (a semaphore carries none): this is the cost of the wake-ups alone.
      const set = await ipc.semaphores.open('private', { size: 2 });
      try {
        const proc = await ipc.processes.spawn(child('native-sysv-sem-echo.mjs'), { args: [set] });
        return {
          measure: () => pingPong(roundTrips, async () => set.post(0), () => set.wait(1)),
          async teardown() {
            await set.remove(); // the child's wait fails with EIDRM and it ends
            await proc.exited;
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
  {
    name: 'native.eventfd.pingpong',
    unit: 'us',
    async setup({ roundTrips }) {
      // Two counters: the parent writes 1 to ping and reads pong, the child echoes. No payload
      // beyond the 8-byte count: the cost of the wake-ups, as native.sysv-sem.pingpong.
      const ping = await ipc.eventfds.create();
      const pong = await ipc.eventfds.create();
      const proc = await ipc.processes.spawn(child('eventfd-echo.mjs'), { args: [ping, pong] }).catch(async (error) => {
        await allSteps(() => ping.close(), () => pong.close());
        throw error;
      });
      return {
        measure: () => pingPong(roundTrips, () => ping.write(1n), () => pong.read()),
        teardown: () =>
          allSteps(
            () => ping.write(1n << 62n), // the echo's STOP
            () => proc.exited,
            () => ping.close(),
            () => pong.close(),
          ),
      };
    },
  },
  {
    name: 'native.shm-futex.pingpong',
    unit: 'us',
    async setup({ roundTrips }) {
      // Cell 0: the parent's sequence number, cell 1: the child's answer; the 64-byte payload goes
      // through the segment both ways (written in, copied across by the child, read out).
      const PING = 0;
      const PONG = 1;
      const pingOffset = 64;
      const pongOffset = 128;
      const segment = await ipc.sharedMemory.openSysv('private', { size: 4096 });
      try {
        const cells = new Int32Array(segment.buffer, 0, 2);
        const proc = await ipc.processes.spawn(child('native-shm-futex-echo.mjs'), { args: [segment, pingOffset, pongOffset, PING_BYTES] });
        const ping = new Uint8Array(PING_BYTES).fill(1);
        let seq = 0;
        return {
          async measure() {
            const start = process.hrtime.bigint();
            for (let i = 0; i < roundTrips; i++) {
              segment.write(ping, pingOffset);
              Atomics.store(cells, PING, ++seq);
              segment.notify(PING);
              for (let seen; (seen = Atomics.load(cells, PONG)) !== seq; ) await segment.wait(PONG, seen);
              segment.read(pongOffset, PING_BYTES);
            }
            return usPerRoundTrip(process.hrtime.bigint() - start, roundTrips);
          },
          async teardown() {
            Atomics.store(cells, PING, -1);
            segment.notify(PING);
            await proc.exited;
            await segment.remove();
            await segment.close();
          },
        };
      } catch (error) {
        await segment.remove();
        await segment.close();
        throw error;
      }
    },
  },
];
