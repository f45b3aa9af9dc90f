// The peers ipcx is measured against, run in the same invocation so that ratios hold on a noisy
// machine: worker_threads MessagePort, SharedArrayBuffer + Atomics.wait, child_process IPC,
// Node net over a Unix socket, transferred ArrayBuffers, and Python's multiprocessing.
import { fork, spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { CHUNK_BYTES, PING_BYTES, gbPerSecond, once, usPerRoundTrip } from './lib.mjs';

const child = (name) => new URL(`./children/${name}`, import.meta.url);

/** @type {import('./run.mjs').BenchCase[]} */
export const peerCases = [
  {
    name: 'peer.messageport.pingpong',
    unit: 'us',
    async setup({ roundTrips }) {
      const worker = new Worker(child('messageport-echo.mjs'));
      await once(worker, 'online');
      const ping = new Uint8Array(PING_BYTES);
      return {
        async measure() {
          const start = process.hrtime.bigint();
          for (let i = 0; i < roundTrips; i++) {
            const reply = once(worker, 'message');
            worker.postMessage(ping);
            await reply;
          }
          return usPerRoundTrip(process.hrtime.bigint() - start, roundTrips);
        },
        teardown: () => worker.terminate(),
      };
    },
  },
  {
    name: 'peer.sab-atomics.pingpong',
    unit: 'us',
    async setup({ roundTrips }) {
      // Both sides are workers blocking in Atomics.wait: the best case for plain SAB signalling.
      const shared = new SharedArrayBuffer(4 * 4 + PING_BYTES);
      const echo = new Worker(child('sab-side.mjs'), { workerData: { shared, role: 'echo' } });
      await once(echo, 'online');
      return {
        async measure() {
          const pinger = new Worker(child('sab-side.mjs'), { workerData: { shared, role: 'ping', roundTrips } });
          const ns = await once(pinger, 'message');
          await pinger.terminate();
          return usPerRoundTrip(ns, roundTrips);
        },
        teardown: () => echo.terminate(),
      };
    },
  },
  {
    name: 'peer.process-send.pingpong',
    unit: 'us',
    async setup({ roundTrips }) {
      const proc = fork(child('process-send-echo.mjs'), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      await once(proc, 'spawn');
      const ping = 'x'.repeat(PING_BYTES);
      return {
        async measure() {
          const start = process.hrtime.bigint();
          for (let i = 0; i < roundTrips; i++) {
            const reply = once(proc, 'message');
            proc.send(ping);
            await reply;
          }
          return usPerRoundTrip(process.hrtime.bigint() - start, roundTrips);
        },
        teardown: async () => {
          proc.kill();
          await once(proc, 'exit');
        },
      };
    },
  },
  netCase('peer.net-uds.pingpong', 'pingpong'),
  netCase('peer.net-uds.bulk', 'bulk'),
  {
    name: 'peer.postmessage-transfer.bulk',
    unit: 'GB/s',
    async setup({ bulkBytes }) {
      return {
        async measure() {
          const worker = new Worker(child('transfer-sender.mjs'), { workerData: { bytes: bulkBytes, chunk: CHUNK_BYTES } });
          // The clock starts at the first chunk, so the worker's start-up is not counted.
          let received = 0;
          let start = 0n;
          await new Promise((resolve, reject) => {
            worker.on('message', (buffer) => {
              if (received === 0) start = process.hrtime.bigint();
              received += buffer.byteLength;
              if (received >= bulkBytes) resolve();
            });
            worker.once('error', reject);
          });
          const ns = process.hrtime.bigint() - start;
          await worker.terminate();
          return gbPerSecond(ns, received - CHUNK_BYTES);
        },
        teardown: async () => {},
      };
    },
  },
  pythonCase('peer.python-mp-pipe.pingpong', 'pipe'),
  pythonCase('peer.python-mp-queue.pingpong', 'queue'),
];

function netCase(name, mode) {
  return {
    name,
    unit: mode === 'bulk' ? 'GB/s' : 'us',
    async setup({ roundTrips, bulkBytes }) {
      const socketPath = path.join(os.tmpdir(), `ipcx-bench-${process.pid}-${mode}.sock`);
      const proc = fork(child('net-uds-peer.mjs'), [socketPath, mode, String(bulkBytes)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      await once(proc, 'message'); // listening
      return {
        async measure() {
          const socket = net.connect(socketPath);
          await once(socket, 'connect');
          socket.setNoDelay?.(true);
          let result;
          if (mode === 'pingpong') {
            const ping = Buffer.alloc(PING_BYTES, 1);
            const start = process.hrtime.bigint();
            for (let i = 0; i < roundTrips; i++) {
              let got = 0;
              const reply = new Promise((resolve) => {
                const onData = (chunk) => {
                  got += chunk.length;
                  if (got >= PING_BYTES) {
                    socket.off('data', onData);
                    resolve();
                  }
                };
                socket.on('data', onData);
              });
              socket.write(ping);
              await reply;
            }
            result = usPerRoundTrip(process.hrtime.bigint() - start, roundTrips);
          } else {
            let received = 0;
            const start = process.hrtime.bigint();
            socket.write('go');
            await new Promise((resolve) => {
              socket.on('data', (chunk) => {
                received += chunk.length;
                if (received >= bulkBytes) resolve();
              });
            });
            result = gbPerSecond(process.hrtime.bigint() - start, received);
          }
          socket.destroy();
          return result;
        },
        teardown: async () => {
          proc.kill();
          await once(proc, 'exit');
        },
      };
    },
  };
}

function pythonCase(name, kind) {
  const available = spawnSync('python3', ['--version']).status === 0;
  return {
    name,
    unit: 'us',
    skip: available ? undefined : 'python3 is not on this machine',
    async setup({ roundTrips }) {
      return {
        async measure() {
          const proc = spawn('python3', [new URL('./children/python_mp.py', import.meta.url).pathname, kind, String(roundTrips)], {
            stdio: ['ignore', 'pipe', 'inherit'],
          });
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
