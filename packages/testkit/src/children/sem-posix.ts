/**
 * Child: on a POSIX named semaphore (revived by name), either waits once (`['wait', timeoutMs]`,
 * timeout < 0 for none) or posts `count` times (`['post', count]`), then writes one JSON line:
 * `{ label, ok: true }` or `{ label, code }`.
 */
import { defineChild, type ByteWriter, type PosixSemaphore } from '@ipcx/core';

export default defineChild<[PosixSemaphore, ByteWriter, string, 'wait' | 'post', number]>(async ({ args: [semaphore, writer, label, action, amount] }) => {
  let report: Record<string, unknown>;
  try {
    if (action === 'wait') await semaphore.wait(amount < 0 ? {} : { timeout: amount });
    else for (let i = 0; i < amount; i++) semaphore.post();
    report = { label, ok: true };
  } catch (error) {
    report = { label, code: (error as { code?: string }).code ?? String(error) };
  }
  await writer.write(JSON.stringify(report) + '\n');
});
