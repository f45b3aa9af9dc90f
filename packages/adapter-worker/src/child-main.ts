/**
 * What a worker child runs, on either host: attaches to the parent's kernel memory as its owner,
 * revives the args, runs the entry module's default export through core, closes what it left open
 * and returns its exit code (0, or 1 if it threw). The host's bootstrap (`child-main-node.ts`,
 * `child-main-browser.ts`) receives the spec and ends the thread with that code, stopping the
 * child's own children first (`stopDescendants`); the parent reaps whatever is still open, the
 * descendants' included, when the thread ends.
 */
import { runChildMain, unpackTransferables } from '@ipcx/core';
import { backendOver } from './backend.js';
import type { ChildSpec, WorkerHost } from './host.js';
import { Kernel } from './kernel.js';
import { KernelErrno } from './layout.js';
import { STOP_WAIT_MS } from './process.js';
import { CAN_WAIT_SYNC, pauseThread } from './wait.js';

/** Attaches to the kernel as `spec.owner` with `pid` (the thread's emulated pid). */
export function attachChild(spec: ChildSpec, pid: number): Kernel {
  const kernel = Kernel.attach(spec.module, spec.memory, spec.owner, spec.kernel, pid);
  // This worker's emulated pid (SO_PEERCRED), which the parent reports as ChildProcess.pid.
  kernel.calls.owner_set_pid(spec.owner, pid);
  // A child's thread may sleep on a busy kernel lock (assembly/lock.ts): it is a worker (Node's or
  // a browser's Web Worker), never a page's main thread, and not the thread that reaps the others.
  kernel.calls.lock_may_sleep(CAN_WAIT_SYNC ? 1 : 0);
  return kernel;
}

/** Runs the child's main over `kernel`; resolves with the exit code once its objects are closed. */
export async function runChild(spec: ChildSpec, kernel: Kernel, host: WorkerHost): Promise<number> {
  let code = 0;
  try {
    const args = unpackTransferables(spec.packed, (index) => kernel.revive(spec.records[index]!)) as unknown[];
    await runChildMain({ backend: backendOver(kernel, host), args, pid: kernel.pid }, spec.entry);
  } catch (error) {
    console.error(error);
    code = 1;
  }
  await kernel.closeAll();
  return code;
}

/**
 * Stops this child's own children and theirs (`owner_stop_descendants`) and waits, synchronously,
 * until none of them holds or spins for a kernel lock (at most STOP_WAIT_MS, as `kill()` waits).
 * For the moment this thread ends by itself (its main returned or threw, `process.exit`): the host
 * then ends this thread's workers with it, abruptly, and a worker cut off inside a critical section
 * would leave the kernel's lists half updated (see `kill()` in process.ts). Their reaper is not
 * this thread, whose event loop is ending, but this child's parent: it releases this owner's whole
 * subtree once the thread is gone. Synchronous because Node's 'exit' listeners are; a child thread
 * may block (`pauseThread`).
 */
export function stopDescendants(kernel: Kernel): void {
  const deadline = performance.now() + STOP_WAIT_MS;
  let pauseMs = 0.02;
  for (;;) {
    const locks = kernel.calls.owner_stop_descendants();
    // -EINTR: the kernel lock was busy, or this thread is being stopped by its own parent, which
    // waits for these same descendants before it terminates this thread: wait with it.
    if (locks === 0 || (locks < 0 && locks !== -KernelErrno.EINTR) || performance.now() >= deadline) return;
    if (pauseThread(pauseMs)) pauseMs = Math.min(1, pauseMs * 2);
  }
}
