/**
 * Child: opens the lock file at `path`, takes one lock with `options` (it may wait), writes one
 * JSON line to `report` (`{ label, locked: true }` or `{ label, code }`), then holds the lock for
 * `holdMs` milliseconds (until killed, for a long hold) and exits without releasing it: the lock
 * goes with the child's open file description when its process or worker ends.
 */
import { defineChild, isIpcError, type ByteWriter, type FileLockOptions } from '@ipcx/core';

export default defineChild<[string, FileLockOptions, ByteWriter, string, number]>(async ({ backend, args: [path, options, report, label, holdMs] }) => {
  const file = await backend.fileLocks.open(path);
  let outcome: Record<string, unknown>;
  try {
    await file.lock(options);
    outcome = { label, locked: true };
  } catch (error) {
    if (!isIpcError(error)) throw error;
    outcome = { label, code: error.code };
  }
  await report.write(JSON.stringify(outcome) + '\n');
  await new Promise((resolve) => setTimeout(resolve, holdMs));
});
