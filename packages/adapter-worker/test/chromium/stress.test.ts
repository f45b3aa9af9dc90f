/**
 * Seeded stress in headless Chromium: 8 module Web Workers hammer one System V message queue and
 * one semaphore set at once (see children/queue-sem-hammer.js); one of them, the victim, is
 * terminated while it holds semaphore units through SEM_UNDO. Afterwards every message sent was
 * received exactly once (the page drains what is left), and the set holds exactly the units it
 * started with: the moves conserve them and the victim's undo gave back what it held.
 */
import { createWorkerBackend } from '@ipcx/adapter-worker';
import { IPC_PRIVATE, type ByteReader, type MessageQueue, type SemaphoreSet } from '@ipcx/core';
import { closeAllAfter, readToEnd } from '@ipcx/testkit';
import { describe, expect, it } from 'vitest';

const SEED = 20261206;
const WORKERS = 8;
const DURATION_MS = 2500;
const SEMAPHORES = 4; // three that units move between, and the gate
const UNITS = 12; // per moving semaphore at the start

const backend = createWorkerBackend({ memoryBytes: 16 * 1024 * 1024 });
const hammer = new URL('./children/queue-sem-hammer.js', import.meta.url);

interface Report {
  readonly id: number;
  readonly sent: number[];
  readonly received: number[];
  readonly moves: number;
  readonly parked?: boolean;
}

/** The victim's report, read while its writer stays open (the victim is parked): until it parses. */
async function readReport(reader: ByteReader): Promise<Report> {
  let text = '';
  const decoder = new TextDecoder();
  for (;;) {
    const chunk = await reader.read({ timeout: 30_000 });
    if (chunk === null) throw new Error(`the victim's report ended early: ${text}`);
    text += decoder.decode(chunk, { stream: true });
    try {
      return JSON.parse(text) as Report;
    } catch {
      // not whole yet
    }
  }
}

describe('chromium: worker backend stress', () => {
  it(`chromium: ${WORKERS} Web Workers on one queue and one semaphore set lose and duplicate nothing (seed ${SEED})`, { timeout: 60_000 }, async () => {
    const queue: MessageQueue = await backend.messageQueues.open(IPC_PRIVATE, { create: true });
    const set: SemaphoreSet = await backend.semaphores.open('private', { size: SEMAPHORES });
    try {
      set.setValues([...Array.from({ length: SEMAPHORES - 1 }, () => UNITS), 0]);
      const reports = await Promise.all(Array.from({ length: WORKERS }, () => backend.pipes.create()));
      for (const pair of reports) closeAllAfter(pair);
      const children = await Promise.all(
        reports.map(([, writer], i) =>
          backend.processes.spawn(hammer, { args: [queue, set, writer, i + 1, SEED + i, DURATION_MS, i === 0 ? 'victim' : 'survivor'] }),
        ),
      );
      for (const [, writer] of reports) await writer.close();
      const [victim, ...survivors] = children;
      // The victim reports, then parks at the gate holding one unit of each semaphore.
      const victimReport = await readReport(reports[0]![0]);
      expect(victimReport.parked).toBe(true);
      expect(set.values().slice(0, -1).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual((SEMAPHORES - 1) * (UNITS - 1));
      expect(victim!.kill()).toBe(true);
      expect(await victim!.exited).toEqual({ code: 1, signal: null });
      const results = [victimReport, ...(await Promise.all(reports.slice(1).map(async ([reader]) => JSON.parse(new TextDecoder().decode(await readToEnd(reader))) as Report)))];
      for (const child of survivors) expect((await child.exited).code).toBe(0);

      const sent = results.flatMap((result) => result.sent);
      const received = results.flatMap((result) => result.received);
      for (;;) {
        const message = await queue.receive({ nowait: true }).catch((error: { code: string }) => {
          if (error.code === 'ENOMSG') return null;
          throw error;
        });
        if (message === null) break;
        const view = new DataView(message.data.buffer, message.data.byteOffset, message.data.byteLength);
        received.push(view.getUint32(0) * 1_000_000 + view.getUint32(4));
      }
      expect(sent.length).toBeGreaterThan(200);
      expect(results.reduce((sum, result) => sum + result.moves, 0)).toBeGreaterThan(100);
      expect(new Set(received).size).toBe(received.length); // no message twice
      expect([...received].sort((a, b) => a - b)).toEqual([...sent].sort((a, b) => a - b)); // none lost
      // Every unit is back: the moves conserved them, exits and the kill undid every SEM_UNDO hold.
      expect(set.value(SEMAPHORES - 1)).toBe(0);
      expect(set.values().slice(0, -1).reduce((a, b) => a + b, 0)).toBe((SEMAPHORES - 1) * UNITS);
    } finally {
      await queue.remove();
      await set.remove();
    }
  });
});
