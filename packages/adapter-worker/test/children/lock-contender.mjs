// A bare Node worker thread of the kernel lock test, attached to the test's kernel as `owner` and
// allowed to sleep on a lock (as every child of the backend is). Its segment mapping's lock is
// what the threads contend for (the test gives each a duplicate of its mapping, `handle`):
// - role 'hold': takes the lock (a futex wait's first step, `shm_wait_prepare`, returns with the
//   segment's lock held), says `{ held }`, then either waits for control cell 0 and releases it
//   (`{ released }`), or (`release: false`) spins until it is terminated, lock held.
// - role 'want': calls `shm_notify` (which takes the same lock) until it answers something other
//   than -EINTR or control cell 1 is set; says `{ result, tries }`.
import { parentPort, workerData } from 'node:worker_threads';

const { kernelUrl, module, memory, owner, kernelId, role, handle, control, release, EINTR } = workerData;

// In a function, not at the top level: the test terminates this thread, and terminating one while a
// module with top-level await is being evaluated can abort the whole process (a V8 bug, see
// src/child-main-node.ts).
async function main() {
  const { Kernel } = await import(kernelUrl);
  const kernel = Kernel.attach(module, memory, owner, kernelId, 1000 + owner);
  kernel.calls.lock_may_sleep(1);
  const cells = new Int32Array(control);
  const mapping = handle;
  if (role === 'hold') {
    const waiter = kernel.calls.shm_wait_prepare(mapping, 0);
    parentPort.postMessage({ held: waiter > 0 });
    if (release) {
      Atomics.wait(cells, 0, 0);
      parentPort.postMessage({ released: kernel.calls.shm_wait_abandon(mapping) });
    } else {
      for (;;) Atomics.load(cells, 0);
    }
  } else {
    let tries = 0;
    let result;
    do {
      result = kernel.calls.shm_notify(mapping, 0, 1);
      tries++;
    } while (result === -EINTR && Atomics.load(cells, 1) === 0);
    parentPort.postMessage({ result, tries });
  }
}

void main();
