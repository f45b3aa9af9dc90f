/**
 * What every object of this package does with its kernel objects: make them private (reached by
 * id only by the processes it is passed to), reopen them by id in another process, and on close
 * give them up (the creator also removes them).
 */
import { isIpcError, Primitive, type IpcBackend, type SemaphoreSet, type SysvSegment, type WaitOptions } from '@ipcx/core';
import { ErrorCode, MultiprocessingError } from './errors.js';
import { requirePrimitives } from './transport-select.js';
import { deadlineOf } from './wait.js';

/** A private System V semaphore set of `values.length` semaphores, set to `values`. */
export async function createSemaphores(backend: IpcBackend, values: readonly number[]): Promise<SemaphoreSet> {
  const set = await backend.semaphores.open('private', { size: values.length });
  try {
    set.setValues(values);
    return set;
  } catch (error) {
    await set.remove().catch(() => {});
    await set.close();
    throw error;
  }
}

/**
 * A private, zeroed System V segment of `size` bytes for `what` (named in the `ENOSYS` thrown,
 * before anything is made, by a backend that declares no shared memory).
 */
export async function createSegment(backend: IpcBackend, size: number, what = 'a shared-memory object'): Promise<SysvSegment> {
  requirePrimitives(backend, what, [Primitive.sharedMemory]);
  return backend.sharedMemory.openSysv('private', { size });
}

/**
 * {@link createSegment} for an object whose lock was made first: when the segment cannot be made
 * (no shared memory on the backend, or the kernel refuses), the lock this object owns is removed
 * too, so a failed create leaves nothing behind.
 */
export async function createSegmentAfterLock(
  backend: IpcBackend,
  size: number,
  what: string,
  ownedLock: { close(): Promise<void> } | undefined,
): Promise<SysvSegment> {
  try {
    return await createSegment(backend, size, what);
  } catch (error) {
    await ownedLock?.close().catch(() => undefined);
    throw error;
  }
}

/** Gives up `objects`; removes them first when `owner`. Never throws for objects already removed. */
export async function release(owner: boolean, objects: ReadonlyArray<SemaphoreSet | SysvSegment | undefined>): Promise<void> {
  for (const object of objects) {
    if (object === undefined) continue;
    if (owner) await object.remove().catch(() => {});
    await object.close();
  }
}

/** Options of an acquire that may wait: Python's `block` and `timeout`, plus a signal. */
export interface AcquireOptions extends WaitOptions {
  /** Do not wait (Python's `block=False`): resolve `false` at once when it would. */
  readonly nowait?: boolean;
}

/**
 * The semop options for an acquire with `options`, checked. Timeouts of `semtimedop` are `EAGAIN`,
 * as is `nowait`: callers map both to `false` (Python's acquire returns False).
 */
export function semopOptions(options: AcquireOptions | undefined): { nowait?: boolean; timeout?: number; signal?: AbortSignal } {
  const deadline = deadlineOf(options);
  if (options?.nowait === true) return { nowait: true };
  return { ...(deadline.until === Infinity ? {} : { timeout: Math.max(0, deadline.until - performance.now()) }), ...(deadline.signal ? { signal: deadline.signal } : {}) };
}

/** Runs a semop that may time out: resolves false for `EAGAIN` (would wait / timed out). */
export async function tryOperate(operate: () => Promise<void>): Promise<boolean> {
  try {
    await operate();
    return true;
  } catch (error) {
    if (isIpcError(error, 'EAGAIN')) return false;
    throw error;
  }
}

/** The `CLOSED` error for `operation` on `object`. */
export function closedObject(object: string, operation: string): MultiprocessingError {
  return new MultiprocessingError(ErrorCode.closed, `${object} is closed (${operation})`);
}

/**
 * What a call of a handle rejects with when the handle was closed while the call waited: `error`
 * says how the wait was cut short (EBADF or EIDRM from the kernel object the close gave up, a
 * TypeError of a shared segment's detached buffer, the EOF of a ring the close shut down), which
 * is not what the caller is owed; that is the `CLOSED` error of `operation` on `object`. `error`
 * itself when the handle is still open.
 */
export function closedDuring(error: unknown, closed: boolean, object: string, operation: string): unknown {
  return closed ? closedObject(object, operation) : error;
}

/**
 * Runs a synchronous kernel call again while it fails with `EINTR`, letting other tasks run in
 * between. The worker backend's emulated kernel answers `EINTR` from a call that never waits
 * (`post`, `value`) when its lock holder stays preempted longer than the backend's own short retry
 * (many workers on few CPUs): nothing was applied then, so calling again is safe.
 */
export async function whenNotBusy<T>(call: () => T): Promise<T> {
  for (;;) {
    try {
      return call();
    } catch (error) {
      if (!isIpcError(error, 'EINTR')) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }
}
