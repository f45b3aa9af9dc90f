/**
 * Child: `wait(index, value, { timeout })` on the segment, then stores the outcome at `reportIndex`
 * (1 'ok', 2 'not-equal', 3 'timed-out') and notifies that cell.
 */
import { defineChild, type SharedSegment } from '@ipcx/core';

export const OUTCOME_CODES = { ok: 1, 'not-equal': 2, 'timed-out': 3 } as const;

export default defineChild<[SharedSegment, number, number, number | undefined, number]>(async ({ args: [segment, index, value, timeout, reportIndex] }) => {
  const outcome = await segment.wait(index, value, timeout === undefined ? undefined : { timeout });
  // Store before notify, so the woken parent reads the outcome.
  Atomics.store(new Int32Array(segment.buffer), reportIndex, OUTCOME_CODES[outcome]);
  segment.notify(reportIndex);
});
