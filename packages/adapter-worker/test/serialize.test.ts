/**
 * What `JSON.stringify` makes of the worker backend's objects: a handle reaches the kernel, whose
 * views cover the whole shared memory (64 MiB by default), and a mapping views its segment; none
 * of that may be walked (a 64 MiB `Uint8Array` as JSON never finishes in practice).
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { createWorkerBackend } from '@ipcx/adapter-worker';
import { IPC_PRIVATE, type IpcObject } from '@ipcx/core';

const MiB = 1024 * 1024;

describe('worker backend objects as JSON', () => {
  it('serialize to a small description, without the kernel memory or a mapping\'s bytes', async () => {
    // A small kernel: before the fix its 1 MiB still came out as ~7 MB of JSON (quickly), where
    // the default 64 MiB would hang the test.
    const backend = createWorkerBackend({ memoryBytes: MiB });
    const objects: IpcObject[] = [];
    const keep = <T extends IpcObject>(object: T): T => {
      objects.push(object);
      return object;
    };
    onTestFinished(async () => {
      await Promise.allSettled(objects.map((object) => object.close()));
    });
    const [reader, writer] = await backend.pipes.create();
    const [left, right] = await backend.pipes.createDuplex();
    const eventfd = keep(await backend.eventfds.create());
    const queue = keep(await backend.messageQueues.open(IPC_PRIVATE));
    const posixQueue = keep(await backend.posixMessageQueues.open('/serialize', { create: true }));
    const set = keep(await backend.semaphores.open('private', { size: 1 }));
    const semaphore = keep(await backend.posixSemaphores.open('/serialize', { create: true }));
    const segment = keep(await backend.sharedMemory.openSysv('private', { size: 256 * 1024 }));
    const unnamed = keep(await backend.posixSemaphores.init(segment, 0, 1));
    for (const object of [reader, writer, left, right]) keep(object);
    onTestFinished(async () => {
      await backend.posixMessageQueues.unlink('/serialize').catch(() => undefined);
      await backend.posixSemaphores.unlink('/serialize').catch(() => undefined);
      await queue.remove().catch(() => undefined);
      await set.remove().catch(() => undefined);
      await segment.remove().catch(() => undefined);
    });
    const lengths: Record<string, number> = {};
    const named = { reader, writer, left, right, eventfd, queue, posixQueue, set, semaphore, segment, unnamed, pipes: backend.pipes, backend };
    for (const [name, object] of Object.entries(named)) lengths[name] = JSON.stringify(object).length;
    expect(Object.entries(lengths).filter(([, length]) => length >= 4096)).toEqual([]);
    // A handle gives its description; the kernel (reached from factories, processes...) says which kernel, which owner, how big.
    expect(JSON.parse(JSON.stringify(reader))).toEqual({ object: expect.stringMatching(/^pipe reader \(handle \d+, object \d+\)$/), closed: false });
    expect(JSON.parse(JSON.stringify(segment))).toMatchObject({ size: 256 * 1024, closed: false });
    expect(JSON.parse(JSON.stringify(backend.pipes))).toMatchObject({ kernel: { memoryBytes: MiB, owner: 1 } });
    await eventfd.close();
    expect(JSON.parse(JSON.stringify(eventfd))).toMatchObject({ closed: true });
  });
});
