/**
 * The addon in worker threads: a worker terminated while it has waiter threads (a FIFO open, an
 * idle one kept for reuse) and polls (a pending pipe read) must tear down cleanly — threads
 * joined, handles closed — and leave the process running (a detached waiter woken after
 * terminate() crashed Node 20).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';

const workerSource = `
  const { parentPort, workerData } = require('node:worker_threads');
  import(workerData.adapter).then(async ({ createNativeBackend }) => {
    const ipc = createNativeBackend();
    await ipc.fifos.create(workerData.fifo);
    ipc.fifos.openReader(workerData.fifo).catch(() => {});
    // A finished wait leaves its waiter thread idle for reuse: teardown must join it too.
    const queue = await ipc.messageQueues.open(0);
    await queue.receive({ timeout: 2 }).catch(() => {});
    await queue.remove();
    await queue.close();
    const [reader] = await ipc.pipes.create();
    reader.read().catch(() => {});
    parentPort.postMessage('waiting');
  });
`;

describe('native addon in worker threads', () => {
  it('survives terminate() of workers with pending waits and polls', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ipcx-teardown-'));
    try {
      const adapter = new URL('../dist/index.js', import.meta.resolve('@ipcx/adapter-native')).href;
      for (let i = 0; i < 5; i++) {
        const worker = new Worker(workerSource, { eval: true, workerData: { adapter, fifo: path.join(dir, `fifo-${i}`) } });
        await new Promise<void>((resolve, reject) => {
          worker.once('message', () => resolve());
          worker.once('error', reject);
        });
        expect(await worker.terminate()).toBe(1);
      }
      // Still alive and able to use the addon here.
      const { createNativeBackend } = await import('@ipcx/adapter-native');
      const [reader, writer] = await createNativeBackend().pipes.create();
      await writer.write('alive');
      expect(new TextDecoder().decode((await reader.read())!)).toBe('alive');
      await reader.close();
      await writer.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
