/**
 * Stress: 8 workers hammer one System V semaphore set with a seeded random workload of
 * multi-operation calls, with and without SEM_UNDO, `nowait` or with short timeouts (so cancels
 * race with completions), for several seconds. Three of them are terminated mid-way, while the
 * others still run, holding units through SEM_UNDO and queued at a gate. At the end every value
 * is exactly what the calls that reported success imply: the initial value plus the survivors'
 * deltas without SEM_UNDO (every SEM_UNDO unit came back: the survivors' at exit, the victims'
 * when they were reaped), nobody is left queued, and the set works on.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { createWorkerBackend } from '@ipcx/adapter-worker';
import { closeAllAfter } from '@ipcx/testkit';
// Not part of the kit's public exports; the built file is what the suites use too.
import { LineReader, waitUntil } from '../../testkit/dist/util.js';

const backend = createWorkerBackend({ memoryBytes: 8 * 1024 * 1024 });
const hammer = new URL('./children/sem-hammer.mjs', import.meta.url);
const SEED = 0x5e3a;

interface Report {
  id: number;
  parked?: boolean;
  plain?: number[];
  held: number[];
  applied: number;
  failed?: number;
}

describe('worker semaphore stress', () => {
  it('keeps 8 workers\' random multi-operation calls all-or-nothing and gives back SEM_UNDO units of terminated workers', { timeout: 120_000 }, async () => {
    const set = await backend.semaphores.open('private', { size: 5 });
    onTestFinished(async () => {
      await set.remove().catch(() => {});
      await set.close();
    });
    const initial = [30, 30, 30, 30, 0];
    const gate = initial.length - 1;
    set.setValues(initial);
    const [reader, writer] = closeAllAfter(await backend.pipes.create());
    const lines = new LineReader(reader);
    const victims = new Set([5, 6, 7]);
    const children = await Promise.all(
      Array.from({ length: 8 }, (_, id) =>
        backend.processes.spawn(hammer, {
          args: [set, writer, id, SEED + id, victims.has(id) ? 1000 + 400 * (id - 5) : 4000, victims.has(id) ? 'victim' : 'survivor'],
        }),
      ),
    );
    onTestFinished(async () => {
      await Promise.all(children.map((child) => child[Symbol.asyncDispose]()));
    });
    await writer.close();

    const survivors: Report[] = [];
    let parkedHeld = 0;
    for (let reports = 0; reports < children.length; reports++) {
      const report = await lines.json<Report>({ timeout: 60_000 });
      expect(report.applied).toBeGreaterThan(0);
      if (!report.parked) {
        survivors.push(report);
        continue;
      }
      // Terminate it while it holds units through SEM_UNDO and waits at the gate.
      const victim = children[report.id]!;
      await waitUntil(() => set.waitingForIncrease(gate) >= 1, 'the victim waits at the gate');
      expect(report.held.slice(0, gate).every((units) => units >= 1)).toBe(true);
      parkedHeld += report.held.reduce((sum, units) => sum + units, 0);
      expect(victim.kill()).toBe(true);
      expect((await victim.exited).code).toBe(1);
    }
    expect(survivors.map((report) => report.id).sort()).toEqual([0, 1, 2, 3, 4]);
    expect(parkedHeld).toBeGreaterThanOrEqual(3 * gate);
    // The workload contended: many calls applied, and many had to wait and gave up (EAGAIN).
    expect(survivors.reduce((sum, report) => sum + report.applied, 0)).toBeGreaterThan(1000);
    expect(survivors.reduce((sum, report) => sum + report.failed!, 0)).toBeGreaterThan(100);
    for (const [id, child] of children.entries()) expect((await child.exited).code).toBe(victims.has(id) ? 1 : 0);

    const expected = initial.map((value, index) => value + survivors.reduce((sum, report) => sum + report.plain![index]!, 0));
    expect(set.values()).toEqual(expected);
    for (let index = 0; index < initial.length; index++) {
      expect([set.waitingForIncrease(index), set.waitingForZero(index)]).toEqual([0, 0]);
    }
    // The set still works: every unit can be taken and given back. (Timing decides which calls
    // applied, so a semaphore may end at 0, and a count of 0 cannot be taken: those are left out.)
    for (const [index, units] of expected.entries()) {
      if (units === 0) continue;
      await set.wait(index, units, { timeout: 10_000 });
      expect(set.value(index)).toBe(0);
      set.post(index, units);
    }
    expect(set.values()).toEqual(expected);
  });
});
