/**
 * Message queues in the emulated kernel itself: memory reused over long runs of create/remove, and
 * what a full kernel answers (the limits of Linux where Linux has them, ENOSPC/ENOMEM where the
 * kernel's own table or memory runs out), with everything given back afterwards.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { createWorkerBackend } from '@ipcx/adapter-worker';
import { IPC_PRIVATE, isIpcError, type IpcBackend, type MessageQueue, type PosixMessageQueue } from '@ipcx/core';
import { readToEnd, text } from '@ipcx/testkit';
import type { Kernel } from '../dist/kernel.js';

const MiB = 1024 * 1024;
const pmqOpen = new URL('../../testkit/dist/children/pmq-open.js', import.meta.url);

function kernelOf(backend: IpcBackend): Kernel {
  return (backend.pipes as unknown as { kernel: Kernel }).kernel;
}

/** Removes every queue in `queues` (if still there) and closes it when the test finishes. */
function removeAllAfter(queues: MessageQueue[]): void {
  onTestFinished(async () => {
    for (const queue of queues) {
      await queue.remove().catch((error: unknown) => {
        if (!isIpcError(error, 'EINVAL')) throw error;
      });
      await queue.close();
    }
  });
}

/** Closes and unlinks every POSIX queue in `queues` when the test finishes. */
function unlinkAllAfter(backend: IpcBackend, queues: PosixMessageQueue[]): void {
  onTestFinished(async () => {
    for (const queue of queues) {
      await queue.close();
      await backend.posixMessageQueues.unlink(queue.name).catch((error: unknown) => {
        if (!isIpcError(error, 'ENOENT')) throw error;
      });
    }
  });
}

/** Calls `make` until it rejects; returns what it made and the rejection. */
async function fill<T>(make: (i: number) => Promise<T>, limit = 100_000): Promise<{ made: T[]; error: unknown }> {
  const made: T[] = [];
  for (let i = 0; i < limit; i++) {
    try {
      made.push(await make(i));
    } catch (error) {
      return { made, error };
    }
  }
  return { made, error: undefined };
}

describe('worker message queues', () => {
  it('creates and removes 100,000 System V queues in a row in a small kernel, reusing the memory', async () => {
    const backend = createWorkerBackend({ memoryBytes: MiB });
    const kernel = kernelOf(backend);
    const ids = new Set<number>();
    const cycle = async (i: number) => {
      // Private and keyed queues in turn: a key is a name in the namespace, held in the heap.
      const queue = await backend.messageQueues.open(i % 2 === 0 ? IPC_PRIVATE : 0x7000_0000 + i, { create: true, exclusive: true });
      if (i < 32768) ids.add(queue.id);
      if (i % 1000 === 0) {
        await queue.send(1 + (i % 7), `queue ${i}`);
        await queue.send(9, new Uint8Array(8192));
        expect(text((await queue.receive({ type: -8 })).data)).toBe(`queue ${i}`);
      }
      await queue.remove();
      await queue.close();
    };
    // One round first: the heap's first blocks of each size leave alignment gaps behind them.
    await cycle(0);
    await cycle(1);
    const freeBefore = kernel.calls.heap_free_bytes();
    for (let i = 2; i < 100_000; i++) await cycle(i);
    // Slots are reused, ids are not until the 15-bit sequence number wraps (as Linux's): a stale id reaches no newer queue.
    expect(ids.size).toBe(32768);
    expect(kernel.calls.heap_free_bytes()).toBe(freeBefore);
    expect(kernel.calls.objects_live()).toBe(0);
    expect(await backend.diagnostics.kernelObjects()).toEqual([]);
    expect(backend.diagnostics.openObjects()).toEqual([]);
  });

  it('creates and unlinks 100,000 POSIX queues in a row in a small kernel, reusing the memory', async () => {
    const backend = createWorkerBackend({ memoryBytes: MiB });
    const kernel = kernelOf(backend);
    const cycle = async (i: number) => {
      const queue = await backend.posixMessageQueues.open(`/churn-${i}`, { create: true, exclusive: true, maxMessages: 4, messageSize: 64 });
      if (i % 1000 === 0) {
        await queue.send(`low ${i}`, { priority: 1 });
        await queue.send(`high ${i}`, { priority: 2 });
        expect(text((await queue.receive()).data)).toBe(`high ${i}`);
      }
      // Unlinked while open (a message may still be inside): the queue goes with the last handle.
      await backend.posixMessageQueues.unlink(queue.name);
      await queue.close();
    };
    await cycle(0);
    const freeBefore = kernel.calls.heap_free_bytes();
    for (let i = 1; i < 100_000; i++) await cycle(i);
    expect(kernel.calls.heap_free_bytes()).toBe(freeBefore);
    expect(kernel.calls.objects_live()).toBe(0);
    expect(await backend.diagnostics.kernelObjects()).toEqual([]);
  });

  it('answers ENOSPC when the object table is full of queues, ENOMEM when messages fill the memory, and recovers', async () => {
    const backend = createWorkerBackend({ memoryBytes: MiB });
    const kernel = kernelOf(backend);
    const freeBefore = kernel.calls.heap_free_bytes();
    const { made, error } = await fill(() => backend.messageQueues.open(IPC_PRIVATE));
    removeAllAfter(made);
    expect(error).toMatchObject({ name: 'IpcError', code: 'ENOSPC', syscall: 'msgget' });
    expect(made).toHaveLength(kernel.calls.objects_max());
    // POSIX queues need a slot as well.
    await expect(backend.posixMessageQueues.open('/no-room', { create: true })).rejects.toMatchObject({ code: 'ENOSPC', syscall: 'mq_open' });
    expect(await backend.diagnostics.kernelObjects()).toHaveLength(made.length);

    // One queue allowed (root may) far beyond msgmnb: its messages fill the heap.
    const [big, ...others] = made;
    await big!.set({ maxBytes: 1 << 30 });
    const payload = new Uint8Array(8192).fill(7);
    const sent = await fill(() => big!.send(1, payload, { nowait: true }));
    expect(sent.error).toMatchObject({ name: 'IpcError', code: 'ENOMEM', syscall: 'msgsnd' });
    expect(sent.made.length).toBeGreaterThan(10);
    expect(await big!.stat()).toMatchObject({ messages: sent.made.length, bytes: sent.made.length * 8192 });
    // Taking one message makes room for one more; the queue is whole.
    expect((await big!.receive()).data).toEqual(payload);
    await big!.send(2, payload, { nowait: true });
    await expect(big!.send(3, payload, { nowait: true })).rejects.toMatchObject({ code: 'ENOMEM' });

    // Removing gives everything back: as many queues and messages fit again.
    for (const queue of made) await queue.remove();
    expect(kernel.calls.objects_live()).toBe(0);
    expect(kernel.calls.heap_free_bytes()).toBeGreaterThanOrEqual(freeBefore - 4096);
    const refill = await fill(() => backend.messageQueues.open(IPC_PRIVATE));
    removeAllAfter(refill.made);
    expect(refill.made).toHaveLength(made.length);
    await refill.made[0]!.set({ maxBytes: 1 << 30 });
    const resent = await fill(() => refill.made[0]!.send(1, payload, { nowait: true }));
    expect(resent.error).toMatchObject({ code: 'ENOMEM' });
    expect(resent.made).toHaveLength(sent.made.length);
    expect(others.length).toBe(made.length - 1);
  });

  it('limits POSIX queues by RLIMIT_MSGQUEUE (EMFILE) and answers ENOMEM when their messages fill the heap', async () => {
    const backend = createWorkerBackend({ memoryBytes: MiB });
    const kernel = kernelOf(backend);
    const freeBefore = kernel.calls.heap_free_bytes();
    // Default queues (10 x 8192) cost 82,880 bytes each against the 819,200 bytes a user may own: 9 fit.
    const defaults = await fill((i) => backend.posixMessageQueues.open(`/default-${i}`, { create: true }));
    unlinkAllAfter(backend, defaults.made);
    expect(defaults.error).toMatchObject({ name: 'IpcError', code: 'EMFILE', syscall: 'mq_open' });
    expect(defaults.made).toHaveLength(9);
    expect(defaults.made.map((queue) => queue.attributes())).toEqual(Array(9).fill({ maxMessages: 10, messageSize: 8192, currentMessages: 0 }));
    // Smaller queues still fit in what is left of the limit.
    const small = await backend.posixMessageQueues.open('/small', { create: true, maxMessages: 2, messageSize: 64 });
    unlinkAllAfter(backend, [small]);

    // Their messages fill this small heap before the queues are full: 8192 bytes and a header take a 16 KiB block each.
    const payload = new Uint8Array(8192).fill(3);
    let sent = 0;
    let error: unknown;
    for (const queue of defaults.made) {
      const result = await fill(() => queue.send(payload, { nowait: true }), 10);
      sent += result.made.length;
      if (result.error !== undefined && !isIpcError(result.error, 'EAGAIN')) {
        error = result.error;
        break;
      }
    }
    expect(error).toMatchObject({ name: 'IpcError', code: 'ENOMEM', syscall: 'mq_send' });
    expect(sent).toBeGreaterThan(10);
    expect(sent).toBeLessThan(90);
    // A receive gives its block back: one more message fits.
    const holder = defaults.made[0]!;
    expect((await holder.receive({ nowait: true })).data).toEqual(payload);
    await holder.send(payload, { nowait: true });
    for (const queue of [...defaults.made, small]) {
      await backend.posixMessageQueues.unlink(queue.name);
      await queue.close();
    }
    expect(kernel.calls.objects_live()).toBe(0);
    // Everything came back (but the alignment gaps the heap's first blocks left).
    expect(kernel.calls.heap_free_bytes()).toBeGreaterThanOrEqual(freeBefore - 4096);
    const again = await fill((i) => backend.posixMessageQueues.open(`/again-${i}`, { create: true }));
    unlinkAllAfter(backend, again.made);
    expect(again.made).toHaveLength(9);
  });

  it('holds other users to queues_max (ENOSPC at 256 queues), not root', async () => {
    const backend = createWorkerBackend({ memoryBytes: 4 * MiB });
    const made = await fill((i) => backend.posixMessageQueues.open(`/many-${i}`, { create: true, maxMessages: 1, messageSize: 8 }), 256);
    unlinkAllAfter(backend, made.made);
    expect(made.made).toHaveLength(256);
    const [reader, writer] = await backend.pipes.create();
    onTestFinished(() => reader.close());
    const child = await backend.processes.spawn(pmqOpen, { args: ['/by-nobody', { create: true, maxMessages: 1, messageSize: 8 }, writer], user: { uid: 65534, gid: 65534 } });
    await writer.close();
    expect(JSON.parse(text(await readToEnd(reader))!)).toEqual({ code: 'ENOSPC' });
    expect((await child.exited).code).toBe(0);
    const rootQueue = await backend.posixMessageQueues.open('/by-root', { create: true, maxMessages: 1, messageSize: 8 });
    unlinkAllAfter(backend, [rootQueue]);
    expect(rootQueue.attributes()).toEqual({ maxMessages: 1, messageSize: 8, currentMessages: 0 });
  });

  it('gives back the memory of messages a worker received and of those still queued at the last close', async () => {
    const backend = createWorkerBackend({ memoryBytes: 4 * MiB });
    const kernel = kernelOf(backend);
    const round = async () => {
      const queue = await backend.posixMessageQueues.open('/reaped', { create: true, maxMessages: 4, messageSize: 4096 });
      await queue.send(new Uint8Array(4096));
      await queue.send('second');
      const [reader, writer] = await backend.pipes.create();
      const child = await backend.processes.spawn(new URL('../../testkit/dist/children/pmq-receive.js', import.meta.url), { args: [queue, 1, writer] });
      await writer.close();
      expect(JSON.parse(text(await readToEnd(reader))!)).toHaveLength(1);
      await reader.close();
      expect((await child.exited).code).toBe(0);
      expect(queue.attributes().currentMessages).toBe(1);
      await backend.posixMessageQueues.unlink(queue.name);
      await queue.close();
    };
    await round();
    const freeBefore = kernel.calls.heap_free_bytes();
    await round();
    expect(kernel.calls.objects_live()).toBe(0);
    expect(kernel.calls.heap_free_bytes()).toBe(freeBefore);
  });
});
