// Child of the browser stress test (a module Web Worker): for `durationMs`, a seeded random mix on
// one System V message queue and one semaphore set.
// - Queue: sends messages of random types (1..4) carrying (worker id, sequence number), nowait or
//   with a short timeout; receives with random type rules (any, exact, <=, except), likewise.
// - Semaphores: moves 1..3 units from one semaphore to another in one atomic operate(), or takes
//   units with SEM_UNDO and gives some back, so that the set's total plus what the live workers
//   hold through SEM_UNDO stays what it was, whatever interleaves; each exit's undo returns the rest.
// At the end it writes `{ id, sent, received, moves }` on its report pipe. As 'victim' it then
// takes units with SEM_UNDO, reports, and waits on the gate (the last semaphore, never posted)
// until it is terminated: its undo must give the units back.
import { defineChild } from '@ipcx/core';

function mulberry32(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export default defineChild(async ({ args: [queue, set, report, id, seed, durationMs, role] }) => {
  const random = mulberry32(seed);
  const between = (low, high) => low + Math.floor(random() * (high - low + 1));
  const wait = () => (random() < 0.5 ? { nowait: true } : { timeout: between(1, 10) });
  const gate = set.size - 1;
  const sent = [];
  const received = [];
  let moves = 0;
  const held = new Array(set.size).fill(0);
  let sequence = 0;
  const deadline = Date.now() + durationMs;
  while (Date.now() < deadline) {
    const dice = random();
    if (dice < 0.35) {
      const body = new Uint8Array(8 + between(0, 120));
      const view = new DataView(body.buffer);
      view.setUint32(0, id);
      view.setUint32(4, sequence);
      try {
        await queue.send(between(1, 4), body, wait());
        sent.push(id * 1_000_000 + sequence++);
      } catch (error) {
        if (error.code !== 'EAGAIN' && error.code !== 'ETIMEDOUT') throw error;
      }
    } else if (dice < 0.7) {
      const rule = between(0, 3);
      const options = rule === 0 ? {} : rule === 1 ? { type: between(1, 4) } : rule === 2 ? { type: -between(1, 4) } : { type: between(1, 4), except: true };
      try {
        const message = await queue.receive({ ...options, ...wait() });
        const view = new DataView(message.data.buffer, message.data.byteOffset, message.data.byteLength);
        received.push(view.getUint32(0) * 1_000_000 + view.getUint32(4));
      } catch (error) {
        if (error.code !== 'ENOMSG' && error.code !== 'ETIMEDOUT') throw error;
      }
    } else if (random() < 0.5) {
      // A plain move: the total is conserved by the operation itself.
      const from = between(0, gate - 1);
      const to = (from + between(1, gate - 1)) % gate;
      const units = between(1, 3);
      try {
        await set.operate([{ index: from, delta: -units }, { index: to, delta: units }], random() < 0.3 ? { nowait: true } : { timeout: between(1, 10) });
        moves++;
      } catch (error) {
        if (error.code !== 'EAGAIN') throw error;
      }
    } else {
      // Through SEM_UNDO: take units, or give back some of those taken (never more, so the exit's
      // undo only adds and the kernel's clamp at zero never applies).
      const index = between(0, gate - 1);
      const delta = held[index] > 0 && random() < 0.5 ? between(1, Math.min(3, held[index])) : -between(1, 3);
      try {
        await set.operate([{ index, delta, undo: true }], random() < 0.3 ? { nowait: true } : { timeout: between(1, 10) });
        held[index] -= delta;
        moves++;
      } catch (error) {
        if (error.code !== 'EAGAIN') throw error;
      }
    }
  }
  if (role === 'victim') {
    // Hold one unit of each semaphore through SEM_UNDO, then park at the gate until killed.
    for (let index = 0; index < gate; index++) await set.operate([{ index, delta: -1, undo: true }]);
    await report.write(JSON.stringify({ id, sent, received, moves, parked: true }));
    await set.operate([{ index: gate, delta: -1 }]);
    throw new Error('the gate was opened');
  }
  await report.write(JSON.stringify({ id, sent, received, moves }));
});
