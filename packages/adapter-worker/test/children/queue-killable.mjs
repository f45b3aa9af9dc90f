// Child of the termination stress test (delivery.test.ts): sends and receives on one queue (System V
// or POSIX, or a datagram socket bound to a path, which every worker sends to and receives from) at
// seeded random, and logs what completed in two plain SharedArrayBuffers of its own,
// which the parent reads after the worker is gone however it ended. A log entry is written before
// its count is published (Atomics.store), so a worker terminated between the two loses at most that
// one entry: the operation it was completing.
//
// args: [queue, kind ('sysv' | 'posix' | 'dgram'), serial, seed, sentLog, receivedLog, stop, path (dgram), go]
// Logs: Int32Array [count, id, id, ...]; `stop` is an Int32Array whose cell 0 becomes 1 to end;
// `go` (optional) an Int32Array whose cell 0 becomes 1 when the worker may begin: the test starts
// replacements ahead, idle, so that a replacement begins the moment its predecessor is gone.
// A worker told to stop before it began ends without an operation.
import { defineChild } from '@ipcx/core';

function mulberry32(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function log(entries, id) {
  const n = entries[0];
  if (n + 1 >= entries.length) throw new Error('log full');
  entries[n + 1] = id;
  // Publish after the entry: the parent never counts an entry that was not written.
  Atomics.store(entries, 0, n + 1);
}

export default defineChild(async ({ args: [queue, kind, serial, seed, sentBuffer, receivedBuffer, stopBuffer, path, goBuffer] }) => {
  if (goBuffer !== undefined) {
    // Idle (no CPU) until launched. A pending Atomics.waitAsync does not keep a Node event loop
    // alive (the worker would end with code 13, its top-level await unsettled): a timer does.
    const go = new Int32Array(goBuffer);
    const alive = setInterval(() => undefined, 60_000);
    while (Atomics.load(go, 0) === 0) await Atomics.waitAsync(go, 0, 0).value;
    clearInterval(alive);
  }
  const random = mulberry32(seed);
  const between = (low, high) => low + Math.floor(random() * (high - low + 1));
  const sent = new Int32Array(sentBuffer);
  const received = new Int32Array(receivedBuffer);
  const stop = new Int32Array(stopBuffer);
  let sequence = 0;
  while (Atomics.load(stop, 0) === 0) {
    if (random() < 0.5) {
      const id = serial * 1_000_000 + sequence;
      const body = new Uint8Array(4 + between(0, kind === 'sysv' ? 2000 : 500));
      new DataView(body.buffer).setInt32(0, id);
      const options = random() < 0.5 ? { nowait: true } : { timeout: between(1, 5) };
      try {
        if (kind === 'sysv') await queue.send(between(1, 3), body, options);
        else if (kind === 'dgram') await queue.send(body, { ...options, to: path });
        else await queue.send(body, { ...options, priority: between(0, 3) });
      } catch (error) {
        if (error.code !== 'EAGAIN' && error.code !== 'ETIMEDOUT') throw error;
        continue;
      }
      sequence++;
      log(sent, id);
    } else {
      const options = random() < 0.5 ? { nowait: true } : { timeout: between(1, 5) };
      let message;
      try {
        message = await queue.receive(options);
      } catch (error) {
        if (error.code !== 'ENOMSG' && error.code !== 'EAGAIN' && error.code !== 'ETIMEDOUT') throw error;
        continue;
      }
      log(received, new DataView(message.data.buffer, message.data.byteOffset, message.data.byteLength).getInt32(0));
    }
  }
});
