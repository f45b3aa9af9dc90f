/**
 * What the finalizers of forgotten objects do while another thread holds the kernel's lock: the
 * handle's close (a segment's detach) answers EINTR then, and must be made later, never dropped.
 * The lock is held here by writing another owner into the kernel header's lock word, as a thread
 * inside a critical section would; this thread then may not take it (EINTR after its spin).
 */
import { describe, expect, it } from 'vitest';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { KernelConstants } from '../dist/generated/kernel.js';
import { nodeHost } from '../dist/host-node.js';
import { Kernel } from '../dist/kernel.js';
import { backendOver } from '../dist/backend.js';

const MiB = 1024 * 1024;
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** The kernel header's lock word (assembly/kernel.ts: KernelHeader.lock, after magic and memoryBytes). */
const LOCK_INDEX = (KernelConstants.KERNEL_BASE + 8) >>> 2;

/** Holds the kernel lock as owner `holder` while `during` runs (nothing of this thread may call the kernel meanwhile). */
async function withLockHeld(kernel: Kernel, during: () => Promise<void>): Promise<void> {
  expect(Atomics.compareExchange(kernel.cells, LOCK_INDEX, 0, 0x7ff)).toBe(0);
  try {
    await during();
  } finally {
    Atomics.store(kernel.cells, LOCK_INDEX, 0);
  }
}

/** Collects garbage until `collected` says the object is gone (its finalizer may run only after a task). */
async function collect(collected: () => boolean): Promise<void> {
  for (let i = 0; i < 50 && !collected(); i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  expect(collected()).toBe(true);
}

describe('worker kernel: forgotten objects while the lock is held', () => {
  it('detaches a forgotten segment once the lock is free again (the finalizer\'s detach found it held)', { timeout: 30_000 }, async () => {
    const kernel = Kernel.create(nodeHost.kernelModule(), MiB);
    const backend = backendOver(kernel, nodeHost);
    let id = 0;
    let finalized = false;
    const watch = new FinalizationRegistry(() => {
      finalized = true;
    });
    await (async () => {
      const segment = await backend.sharedMemory.openSysv('private', { size: 4096 });
      id = segment.id;
      watch.register(segment, 0);
    })();
    expect((await backend.sharedMemory.statSysv(id)).attachments).toBe(1);
    await withLockHeld(kernel, async () => {
      await collect(() => finalized);
      // The backend's finalizer ran too (registered first) and found the lock held; give it a moment.
      await new Promise((resolve) => setTimeout(resolve, 50));
    });
    let attachments = 1;
    for (let i = 0; i < 200 && attachments !== 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      attachments = (await backend.sharedMemory.statSysv(id)).attachments;
    }
    expect(attachments).toBe(0);
    await backend.sharedMemory.removeSysv(id);
  });

  it('closes the handle of a forgotten pipe end once the lock is free again, so that its reader sees EOF', { timeout: 30_000 }, async () => {
    const kernel = Kernel.create(nodeHost.kernelModule(), MiB);
    const backend = backendOver(kernel, nodeHost);
    let finalized = false;
    const watch = new FinalizationRegistry(() => {
      finalized = true;
    });
    const reader = await (async () => {
      const [reader, writer] = await backend.pipes.create();
      // An object stays in the kernel's list of open objects (leak reports, closeAll) until
      // closed, which keeps it alive: taken out here, as an object no longer listed would be.
      kernel.open.delete(writer as never);
      watch.register(writer, 0);
      return reader;
    })();
    await withLockHeld(kernel, async () => {
      await collect(() => finalized);
      await new Promise((resolve) => setTimeout(resolve, 50));
    });
    const read = await Promise.race([reader.read(), new Promise((resolve) => setTimeout(() => resolve('no EOF'), 2000))]);
    expect(read).toBeNull();
    await reader.close();
  });
});
