// ipcx on the native backend: the other side is an OS process started by processes.spawn.
import { createNativeBackend } from '@ipcx/adapter-native';
import { CHUNK_BYTES, PING_BYTES, gbPerSecond, usPerRoundTrip } from './lib.mjs';

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
      return {
        async measure() {
          const [reader, writer] = await ipc.pipes.create({ capacity: 1 << 20 });
          const proc = await ipc.processes.spawn(child('native-pipe-sender.mjs'), { args: [writer, bulkBytes, CHUNK_BYTES] });
          await writer.close();
          // The clock starts at the first chunk, so the child's start-up is not counted. One buffer
          // is reused for every read (readInto): no allocation per chunk.
          const buffer = new Uint8Array(1 << 20);
          let received = await reader.readInto(buffer);
          const start = process.hrtime.bigint();
          let timed = 0;
          for (;;) {
            const n = await reader.readInto(buffer);
            if (n === 0) break;
            received += n;
            timed += n;
          }
          const ns = process.hrtime.bigint() - start;
          await reader.close();
          await proc.exited;
          if (received !== bulkBytes) throw new Error(`native.pipe.bulk: received ${received} of ${bulkBytes} bytes`);
          return gbPerSecond(ns, timed);
        },
        async teardown() {},
      };
    },
  },
];
