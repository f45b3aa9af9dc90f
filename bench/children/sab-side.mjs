// One side of the SharedArrayBuffer + Atomics.wait/notify peer. Cell 0 is the turn: 1 = ping
// posted (echo's turn), 2 = pong posted (pinger's turn). The payload is copied each way. The
// pinger is started once per case and commanded per run: each message from the parent is a number
// of round trips; it answers with the nanoseconds they took (a bigint).
import { parentPort, workerData } from 'node:worker_threads';

const { shared, role } = workerData;
const cells = new Int32Array(shared, 0, 4);
const payload = new Uint8Array(shared, 16);
const message = new Uint8Array(payload.length).fill(7);
const local = new Uint8Array(payload.length);

if (role === 'echo') {
  for (;;) {
    Atomics.wait(cells, 0, 0);
    if (Atomics.load(cells, 0) !== 1) {
      Atomics.wait(cells, 0, 2);
      continue;
    }
    local.set(payload);
    payload.set(local);
    Atomics.store(cells, 0, 2);
    Atomics.notify(cells, 0);
  }
} else {
  parentPort.on('message', (roundTrips) => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < roundTrips; i++) {
      payload.set(message);
      Atomics.store(cells, 0, 1);
      Atomics.notify(cells, 0);
      while (Atomics.load(cells, 0) !== 2) Atomics.wait(cells, 0, 1);
      local.set(payload);
      Atomics.store(cells, 0, 0);
    }
    parentPort.postMessage(process.hrtime.bigint() - start);
  });
}
