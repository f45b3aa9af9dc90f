// Child of the lifetime test: a chain of workers `depth` levels below the first, whose last (the
// leaf) sits inside one of the kernel's critical sections for `holdMs` without returning to its
// event loop (a futex wait's first step returns holding the segment's lock), then leaves it. The
// first level waits for ever in mode 'hold', returns in mode 'return' once the leaf is inside.
//
// args: [depth, mode, cells (SharedArrayBuffer of 3 Int32 cells: [0] = 1 once the leaf is inside,
// [2] = 1 once it left; [1] stays 0), holdMs]
import { defineChild } from '@ipcx/core';
import { ShmLayout } from '../../dist/layout.js';

export default defineChild(async ({ args: [depth, mode, cells, holdMs], backend }) => {
  const state = new Int32Array(cells);
  if (depth > 0) {
    await backend.processes.spawn(new URL(import.meta.url), { args: [depth - 1, 'hold', cells, holdMs] });
    if (mode === 'return') {
      while (Atomics.load(state, 0) === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      return;
    }
  } else {
    const { kernel } = backend.pipes;
    const { calls } = kernel;
    const segment = calls.shm_get(0, 4096, ShmLayout.IPC_CREAT | 0o600, kernel.scratch, Date.now(), kernel.pid);
    const mapping = calls.shm_attach(segment, 0, Date.now(), kernel.pid);
    if (calls.shm_wait_prepare(mapping, 0) <= 0) throw new Error('no futex wait prepared');
    Atomics.store(state, 0, 1);
    // Inside for holdMs (cell 1 stays 0), then out: the lock is released, and this says so.
    Atomics.wait(state, 1, 0, holdMs);
    calls.shm_wait_abandon(mapping);
    Atomics.store(state, 2, 1);
  }
  await new Promise(() => setInterval(() => {}, 60_000));
});
