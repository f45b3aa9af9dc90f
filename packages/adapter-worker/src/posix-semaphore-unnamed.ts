/**
 * Unnamed POSIX semaphores placed inside a shared-memory segment (`sem_init(sem, 1, value)`) on
 * the worker backend. A placeholder until the worker backend has shared memory: both functions
 * reject with `ENOSYS`. The shared-memory work replaces this file (same two functions).
 */
import { IpcError, type PosixSemaphore, type SharedSegment } from '@ipcx/core';

/** `sem_init(sem, 1, initial)` at `byteOffset` of `segment`. Not emulated yet: `ENOSYS`. */
export async function initUnnamed(_segment: SharedSegment, _byteOffset: number, _initial: number): Promise<PosixSemaphore> {
  throw new IpcError('ENOSYS', { syscall: 'sem_init', object: 'unnamed POSIX semaphore', message: 'ENOSYS: unnamed POSIX semaphores need shared memory, which the worker backend does not emulate yet' });
}

/** A handle on the unnamed semaphore at `byteOffset` of `segment`. Not emulated yet: `ENOSYS`. */
export async function attachUnnamed(_segment: SharedSegment, _byteOffset: number): Promise<PosixSemaphore> {
  throw new IpcError('ENOSYS', { syscall: 'sem_init', object: 'unnamed POSIX semaphore', message: 'ENOSYS: unnamed POSIX semaphores need shared memory, which the worker backend does not emulate yet' });
}
