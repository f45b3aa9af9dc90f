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
      // Both are started once; each run is commanded to the pinger, which answers its nanoseconds.
      const shared = new SharedArrayBuffer(4 * 4 + PING_BYTES);
      const echo = new Worker(child('sab-side.mjs'), { workerData: { shared, role: 'echo' } });
      const pinger = new Worker(child('sab-side.mjs'), { workerData: { shared, role: 'ping' } });
      try {
        await Promise.all([once(echo, 'online'), once(pinger, 'online')]);
      } catch (error) {
        await Promise.all([echo.terminate(), pinger.terminate()]);
        throw error;
      }
      // The echo must outlive every run: if it ends, the pinger would wait for it forever.
      const echoEnded = ended(echo, 'peer.sab-atomics.pingpong: the echo worker');
      return {
        async measure() {
          const ns = await Promise.race([ask(pinger, roundTrips, 'peer.sab-atomics.pingpong: the pinger worker'), echoEnded]);
          return usPerRoundTrip(ns, roundTrips);
        },
        teardown: () => Promise.all([pinger.terminate(), echo.terminate()]),
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
      // One sender worker for the whole case, told per run how much to send (as the ipcx bulk
      // cases keep theirs); this thread receives.
      const worker = new Worker(child('transfer-sender.mjs'), { workerData: { chunk: CHUNK_BYTES } });
      await once(worker, 'online');
      return {
        async measure() {
          // Timed from the command to the last byte, as every bulk case (timing from the first
          // chunk would miss the chunks queued on the port before this thread took the first).
          let received = 0;
          const start = process.hrtime.bigint();
          await new Promise((resolve, reject) => {
            const onMessage = (buffer) => {
              received += buffer.byteLength;
              if (received >= bulkBytes) done(resolve);
            };
            const onExit = (code) => done(() => reject(new Error(`peer.postmessage-transfer.bulk: the sender exited (${code})`)));
            const done = (settle) => {
              worker.off('message', onMessage);
              worker.off('exit', onExit);
              worker.off('error', reject);
              settle();
            };
            worker.on('message', onMessage);
            worker.once('exit', onExit);
            worker.once('error', reject);
            worker.postMessage(bulkBytes);
          });
          return gbPerSecond(process.hrtime.bigint() - start, received);
        },
        teardown: () => worker.terminate(),
      };
    },
  },
  pythonCase('peer.python-mp-pipe.pingpong', 'pipe'),
  pythonCase('peer.python-mp-queue.pingpong', 'queue'),
];

/** Posts `message` to `worker` and resolves with its answer; rejects if it fails or exits first. */
function ask(worker, message, name) {
  return new Promise((resolve, reject) => {
    const settle = (settler, value) => {
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      settler(value);
    };
    const onMessage = (value) => settle(resolve, value);
    const onError = (error) => settle(reject, error);
    const onExit = (code) => settle(reject, new Error(`${name} exited with code ${code} instead of answering`));
    worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    worker.postMessage(message);
  });
}

/** A promise that rejects when `worker` fails or exits (for a worker that must outlive every run). */
function ended(worker, name) {
  const promise = new Promise((_, reject) => {
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`${name} exited with code ${code}`)));
  });
  promise.catch(() => {}); // only a failure while a run waits on it
  return promise;
}

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
