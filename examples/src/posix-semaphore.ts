/**
 * A POSIX named semaphore as a lock across processes (the seed names POSIX semaphores beside
 * System V's): three children each add 1 to a counter in shared memory 2,000 times with a plain
 * read-modify-write, which loses updates without a lock. Holding the semaphore (initial value 1)
 * around each update makes the total exact.
 */
import { defineChild, type PosixSemaphore, type PosixSegment } from '@ipcx/core';
import { expectEqual, type ExampleMain } from './example.js';

const CHILDREN = 3;
const ADDS = 2000;

/** Child side: the locked read-modify-write loop. */
export default defineChild<[PosixSemaphore, PosixSegment]>(async ({ args: [lock, counter] }) => {
  const cell = new Int32Array(counter.buffer, 0, 1);
  for (let i = 0; i < ADDS; i++) {
    await lock.wait();
    cell[0] = cell[0]! + 1; // not atomic on purpose: the semaphore is what makes it safe
    lock.post();
  }
});

/** Parent side. */
export const main: ExampleMain = async (backend, { uniqueName }) => {
  const lockName = uniqueName('lock');
  const counterName = uniqueName('counter');
  const lock = await backend.posixSemaphores.open(lockName, { create: true, exclusive: true, initial: 1 });
  const counter = await backend.sharedMemory.openPosix(counterName, { size: 4096, create: true, exclusive: true });
  try {
    const children = [];
    for (let i = 0; i < CHILDREN; i++) children.push(await backend.processes.spawn(import.meta.url, { args: [lock, counter] }));
    for (const child of children) expectEqual(await child.exited, { code: 0, signal: null }, 'child exit status');
    const total = new Int32Array(counter.buffer, 0, 1)[0];
    expectEqual(total, CHILDREN * ADDS, 'counter');
    expectEqual(lock.value(), 1, 'lock value at the end');
    return {
      outcome: total,
      crossings: [
        { from: `children ${children.map((c) => c.pid).join(',')}`, to: `shared memory ${counterName}`, what: `${CHILDREN} x ${ADDS} locked increments under semaphore ${lockName}: total ${total}` },
      ],
    };
  } finally {
    await counter.close();
    await backend.sharedMemory.unlinkPosix(counterName);
    await lock.close();
    await backend.posixSemaphores.unlink(lockName);
  }
};
