/**
 * What the worker backend's shared memory adds to the conformance suite: segment memory that
 * outlives the worker that made it (the kernel's thread holds it), emulated files with their own
 * removal, unnamed semaphores whose cancelled waits do not absorb a post, and no leftovers.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { createWorkerBackend, type WorkerSharedMemory } from '@ipcx/adapter-worker';
import { sleep, text } from '@ipcx/testkit';

const backend = createWorkerBackend({ memoryBytes: 4 * 1024 * 1024 });
const shm = backend.sharedMemory as WorkerSharedMemory;
const shmCreate = new URL('./children/shm-create.mjs', import.meta.url);
let counter = 0;

describe('worker shared memory', () => {
  it('keeps a segment made by a worker that exited, bytes and all, until it is removed', async () => {
    const key = 0x7a000000 + ++counter;
    const child = await backend.processes.spawn(shmCreate, { args: [key, 'made by a worker'] });
    const childPid = child.pid;
    expect(await child.exited).toEqual({ code: 0, signal: null });
    const segment = await shm.openSysv(key);
    onTestFinished(async () => {
      await segment.close();
      await segment.remove().catch(() => {});
    });
    expect(text(segment.read(0, 16))).toBe('made by a worker');
    expect(await segment.stat()).toMatchObject({ attachments: 1, creatorPid: childPid, lastPid: process.pid });
    await segment.remove();
    await segment.close();
    await expect(shm.statSysv(segment.id)).rejects.toMatchObject({ code: 'EINVAL' });
    expect(await backend.diagnostics.kernelObjects()).toEqual([]);
  });

  it('keeps an emulated file after its mappings close, until removeFile', async () => {
    const path = `/emulated/file-${++counter}`;
    const first = await shm.mapFile(path, { create: true, size: 100 });
    first.write('persists');
    await first.close();
    const again = await shm.mapFile(path);
    expect(again.size).toBe(100);
    expect(text(again.read(0, 8))).toBe('persists');
    await shm.removeFile(path);
    // The mapping keeps working; the name is gone.
    again.write('still mapped');
    await expect(shm.mapFile(path)).rejects.toMatchObject({ code: 'ENOENT', syscall: 'open' });
    await expect(shm.removeFile(path)).rejects.toMatchObject({ code: 'ENOENT' });
    await again.close();
  });

  it('an aborted unnamed-semaphore wait does not take the wake of the post that follows', async () => {
    const segment = await shm.openSysv('private', { size: 4096 });
    onTestFinished(async () => {
      await segment.close();
      await segment.remove().catch(() => {});
    });
    const semaphore = await backend.posixSemaphores.init(segment, 0, 0);
    const controller = new AbortController();
    const aborted = semaphore.wait({ signal: controller.signal });
    const waiting = semaphore.wait();
    let done = false;
    void waiting.then(() => (done = true));
    await sleep(20);
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    semaphore.post();
    await waiting;
    expect(done).toBe(true);
    expect(semaphore.value()).toBe(0);
    // Nobody is left queued on the cell.
    expect(segment.notify(0)).toBe(0);
    await semaphore.close();
  });
});
