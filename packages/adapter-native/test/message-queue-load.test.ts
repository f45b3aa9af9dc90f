/**
 * Native-only checks of System V message queue waits: how many waiter threads exist (the addon's
 * activeWaits()), which the conformance kit cannot see. Operations that can complete at once start
 * no thread; every wait, satisfied or cancelled, leaves no thread behind.
 */
import { setMaxListeners } from 'node:events';
import { describe, expect, it, onTestFinished } from 'vitest';
import { IPC_PRIVATE, isIpcError, type MessageQueue } from '@ipcx/core';
import { createNativeBackend } from '@ipcx/adapter-native';
import { addon } from '../dist/addon.js';
import { NativeMessageQueue } from '../dist/message-queue.js';

const backend = createNativeBackend();

async function privateQueue(): Promise<MessageQueue> {
  const queue = await backend.messageQueues.open(IPC_PRIVATE);
  onTestFinished(async () => {
    // A private queue whose handle a test closed is reached again by its id.
    const handle = queue.closed ? new NativeMessageQueue(queue.id, IPC_PRIVATE) : queue;
    await handle.remove().catch((error: unknown) => {
      if (!isIpcError(error, 'EINVAL') && !isIpcError(error, 'EIDRM')) throw error;
    });
    await handle.close();
  });
  return queue;
}

describe('native System V message queue waits', () => {
  it('completes at once on the calling thread when it can: no waiter thread', async () => {
    const queue = await privateQueue();
    const sending = queue.send(1, 'now');
    expect(addon.activeWaits()).toBe(0);
    await sending;
    const receiving = queue.receive();
    expect(addon.activeWaits()).toBe(0);
    expect((await receiving).type).toBe(1);
    const waiting = queue.receive();
    expect(addon.activeWaits()).toBe(1);
    await queue.send(2, 'later');
    expect((await waiting).type).toBe(2);
    expect(addon.activeWaits()).toBe(0);
  });

  it('leaves no waiter thread after 1,000 waits, half satisfied and half cancelled by timeout, abort or close', { timeout: 120_000 }, async () => {
    const count = 1000;
    const queues: MessageQueue[] = [];
    for (let i = 0; i < count; i++) queues.push(await privateQueue());
    const controller = new AbortController();
    setMaxListeners(count, controller.signal);
    const pending = queues.map((queue, i) => {
      const options = i % 4 === 1 ? { timeout: 300 } : i % 4 === 3 ? { signal: controller.signal } : {};
      return queue.receive(options).then(
        (message) => `ok ${message.type}`,
        (error: { code?: string }) => String(error.code),
      );
    });
    expect(addon.activeWaits()).toBe(count);
    for (let i = 0; i < count; i += 4) await queues[i]!.send(i + 1, 'x');
    controller.abort();
    // The last quarter (i % 4 === 2) ends by closing its handle.
    for (let i = 2; i < count; i += 4) await queues[i]!.close();
    const outcomes = await Promise.all(pending);
    expect(outcomes).toEqual(queues.map((_, i) => [`ok ${i + 1}`, 'ETIMEDOUT', 'EBADF', 'ABORT_ERR'][i % 4]));
    expect(addon.activeWaits()).toBe(0);
    // Finished threads beyond the small idle set were joined.
    expect(addon.waiterThreads()).toBeLessThanOrEqual(8);
  });

  it('reuses idle waiter threads for later waits instead of making one per wait', async () => {
    const queue = await privateQueue();
    for (let i = 0; i < 50; i++) {
      // A timeout that ends in the kernel wait: each round needs a waiter thread.
      await expect(queue.receive({ timeout: 2 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
      expect(addon.activeWaits()).toBe(0);
      expect(addon.waiterThreads()).toBeGreaterThanOrEqual(1);
      expect(addon.waiterThreads()).toBeLessThanOrEqual(8);
    }
  });
});
