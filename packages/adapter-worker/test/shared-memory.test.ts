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
  it('gives a new segment zeroed memory when it reuses a removed one, and never reuses memory a view still reaches', async () => {
    // Made, written through write() only (its buffer never handed out), closed, removed: the next
    // segment of that size may take its memory, and must read zeros.
    for (let round = 0; round < 3; round++) {
      const sysv = await shm.openSysv('private', { size: 8192 });
      expect([...sysv.read(0, 8192)].every((byte) => byte === 0)).toBe(true);
      sysv.write('left behind', 100);
      await sysv.close();
      await sysv.remove();
      const posix = await shm.openPosix(`/reuse-${process.pid}`, { create: true, size: 8192 });
      expect([...posix.read(0, 8192)].every((byte) => byte === 0)).toBe(true);
      posix.write('left behind', 200);
      await posix.close();
      await shm.unlinkPosix(`/reuse-${process.pid}`);
    }
    // A view taken from `buffer` outlives the segment: the memory stays its own.
    const first = await shm.openSysv('private', { size: 8192 });
    const view = new Uint8Array(first.buffer);
    await first.close();
    await first.remove();
    const second = await shm.openSysv('private', { size: 8192 });
    onTestFinished(async () => {
      await second.close();
      await second.remove().catch(() => {});
    });
    view[0] = 7;
    second.write('new');
    expect(second.read(0, 1)[0]).toBe('n'.charCodeAt(0));
    expect(view[0]).toBe(7);
    expect(view[1]).toBe(0);
  });

  it('lets a POSIX object grow to 16 times its creation size while it is mapped', async () => {
    const name = `/grow-${process.pid}`;
    const small = await shm.openPosix(name, { create: true, size: 4096 });
    onTestFinished(async () => {
      await small.close();
      await shm.unlinkPosix(name).catch(() => {});
    });
    small.write('front');
    // ftruncate to 16 times its size, while the first mapping lives: both see the same bytes.
    const large = await shm.openPosix(name, { create: true, size: 16 * 4096 });
    expect(large.size).toBe(16 * 4096);
    expect(text(large.read(0, 5))).toBe('front');
    large.write('back', 0);
    expect(text(small.read(0, 4))).toBe('back');
    await large.close();
  });
});
