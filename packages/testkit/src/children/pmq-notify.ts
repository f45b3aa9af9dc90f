/**
 * Child: registers for a notification on `queue` (`notify` with `timeoutMs`), writes the line
 * `registered` (or `{ code }` if the registration was refused), then one JSON line when the
 * notification ends: `{ notified: true }` or `{ code }`.
 */
import { defineChild, isIpcError, type ByteWriter, type PosixMessageQueue } from '@ipcx/core';

export default defineChild<[PosixMessageQueue, ByteWriter, number]>(async ({ args: [queue, report, timeoutMs] }) => {
  const notified = queue.notify({ timeout: timeoutMs });
  let outcome: Record<string, unknown>;
  try {
    // The registration is made inside notify() (an EBUSY rejects this promise at once).
    await Promise.race([notified, new Promise((resolve) => setTimeout(resolve, 10))]);
    await report.write('registered\n');
    await notified;
    outcome = { notified: true };
  } catch (error) {
    if (!isIpcError(error)) throw error;
    outcome = { code: error.code };
  }
  await report.write(JSON.stringify(outcome) + '\n');
});
