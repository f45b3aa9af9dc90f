// Child of the semaphore stress test: hammers a System V semaphore set with a seeded random
// workload of multi-operation calls (1 to 3 operations, the same semaphore possibly twice, with
// and without SEM_UNDO, now and then a wait-for-zero with IPC_NOWAIT), each call either `nowait`
// or with a short timeout, for `durationMs`. It counts what the calls that succeeded applied:
// `plain[i]`, the sum of deltas without SEM_UNDO, and `held[i]`, the units it holds through
// SEM_UNDO (its undo adjustment; it only gives back what it took, so held[i] >= 0 and the
// kernel's clamp at exit never applies). The last semaphore of the set is a gate nobody posts.
// - role 'survivor': mixes both kinds, then writes `{ id, plain, held, applied, failed }` and
//   ends normally (its SEM_UNDO adjustments are applied at exit).
// - role 'victim': SEM_UNDO only; then takes one more unit of each semaphore (so it surely holds
//   some), writes `{ id, parked: true, held }` and waits at the gate until it is terminated.
import { defineChild } from '@ipcx/core';

function mulberry32(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export default defineChild(async ({ args: [set, writer, id, seed, durationMs, role] }) => {
  const random = mulberry32(seed);
  const between = (low, high) => low + Math.floor(random() * (high - low + 1));
  const gate = set.size - 1;
  const plain = new Array(set.size).fill(0);
  const held = new Array(set.size).fill(0);
  let applied = 0;
  let failed = 0;
  const attempt = async (operations, options) => {
    try {
      await set.operate(operations, options);
    } catch (error) {
      if (error.code !== 'EAGAIN') throw error;
      failed++;
      return false;
    }
    applied++;
    for (const { index, delta, undo } of operations) {
      if (undo) held[index] -= delta;
      else plain[index] += delta;
    }
    return true;
  };
  const deadline = Date.now() + durationMs;
  while (Date.now() < deadline) {
    const operations = [];
    const holding = held.slice();
    for (let k = between(1, 3); k > 0; k--) {
      const index = between(0, gate - 1);
      if (role === 'victim' || random() < 0.5) {
        const delta = holding[index] > 0 && random() < 0.5 ? between(1, Math.min(3, holding[index])) : -between(1, 3);
        holding[index] -= delta;
        operations.push({ index, delta, undo: true });
      } else {
        // Biased down, so values stay low: calls wait, and completions race with timeouts.
        operations.push({ index, delta: random() < 0.55 ? -between(1, 3) : between(1, 3) });
      }
    }
    if (random() < 0.05) operations.splice(between(0, operations.length), 0, { index: between(0, gate - 1), delta: 0, nowait: true });
    await attempt(operations, random() < 0.2 ? { nowait: true } : { timeout: between(1, 20) });
  }
  if (role === 'victim') {
    for (let index = 0; index < gate; index++) {
      while (!(await attempt([{ index, delta: -1, undo: true }], { timeout: 50 })));
    }
    await writer.write(JSON.stringify({ id, parked: true, held, applied }) + '\n');
    await set.operate([{ index: gate, delta: -1, undo: true }]);
    throw new Error('the gate was opened');
  }
  await writer.write(JSON.stringify({ id, plain, held, applied, failed }) + '\n');
});
