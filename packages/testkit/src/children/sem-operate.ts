/**
 * Child: applies `operations` to a System V semaphore set in one `operate` call, writes one JSON
 * line to `writer` (`{ label, ok: true }` or `{ label, code }`), then stays alive for
 * `holdMs` milliseconds (so the parent can kill it while it holds what it took).
 */
import { defineChild, type ByteWriter, type SemaphoreOperateOptions, type SemaphoreOperation, type SemaphoreSet } from '@ipcx/core';

export default defineChild<[SemaphoreSet, ByteWriter, string, SemaphoreOperation[], number, SemaphoreOperateOptions?]>(
  async ({ args: [set, writer, label, operations, holdMs, options] }) => {
    let report: Record<string, unknown>;
    try {
      await set.operate(operations, options);
      report = { label, ok: true };
    } catch (error) {
      report = { label, code: (error as { code?: string }).code ?? String(error) };
    }
    await writer.write(JSON.stringify(report) + '\n');
    if (holdMs > 0) await new Promise((resolve) => setTimeout(resolve, holdMs));
  },
);
