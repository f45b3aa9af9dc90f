/**
 * Child (started as another user): tries what a process may do with a System V semaphore set and a
 * POSIX semaphore, and writes one JSON line with the outcome of each attempt: `'ok'` or the
 * error's code.
 */
import { defineChild, type ByteWriter, type SemaphoreSet } from '@ipcx/core';

async function attempt(action: () => unknown): Promise<string> {
  try {
    await action();
    return 'ok';
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

export default defineChild<[ByteWriter, SemaphoreSet | null, number | null, string | null]>(async ({ backend, args: [writer, set, key, name] }) => {
  const report: Record<string, string> = {};
  if (set !== null) {
    report.value = await attempt(() => set.value(0));
    report.operate = await attempt(() => set.operate([{ index: 0, delta: 1 }], { nowait: true }));
  }
  if (key !== null) {
    report.open = await attempt(async () => (await backend.semaphores.open(key)).close());
  }
  if (name !== null) {
    report.posixOpen = await attempt(async () => (await backend.posixSemaphores.open(name)).close());
  }
  await writer.write(JSON.stringify(report) + '\n');
});
