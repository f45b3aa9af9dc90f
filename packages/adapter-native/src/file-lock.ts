/**
 * Advisory file locks over the kernel's open file description locks (native/file_lock.cc).
 *
 * A {@link NativeLockFile} is one `open(2)` of the path: one open file description, the owner of
 * its locks. `lock` tries `F_OFD_SETLK` on the calling thread first, spins on it for a short
 * adaptive window (a holder in a tight exchange releases within microseconds), and only then waits
 * in `F_OFD_SETLKW` on a waiter thread, which an AbortSignal, the timeout or `close()` interrupts
 * (the kick signal makes fcntl return EINTR; a lock granted first is delivered). The descriptor is
 * close-on-exec and never travels: a child opens the path itself and so gets a description, and
 * locks, of its own.
 */
import {
  Errno,
  abortErrorFor,
  closedError,
  completedNow,
  IpcError,
  type FileLockHolder,
  type FileLockOptions,
  type FileLockQuery,
  type FileLockRange,
  type FileLocks,
  type HeldFileLock,
  type LockFile,
  type LockFileOpenOptions,
  type NowaitOptions,
} from '@ipcx/core';
import {
  checkLockFileLock,
  checkLockFileHolder,
  checkFileLockRange,
  checkLockFileOpen,
  checkString,
  checkWaitOptions,
  HeldRangeLock,
  type RangeLockFile,
  backendSlice,
} from '@ipcx/core/backend';
import { addon, errorFromErrno, type WaitCallback } from './addon.js';
import { track, untrack, type TrackedObject } from './registry.js';
import { spinWindow, WOULD_BLOCK, spinThenWait, type PendingWait } from './wait.js';

/** The functions of file_lock.cc. Numbers are `-errno` on failure. Types: 0 shared, 1 exclusive, 2 unlock. Length 0: to the end. */
interface FileLockAddon {
  /** Throws IpcError. */
  flockOpen(path: string, create: boolean, mode: number): number;
  flockSet(fd: number, type: number, start: number, length: number): number;
  flockWait(fd: number, type: number, start: number, length: number, callback: WaitCallback): number;
  flockGet(fd: number, type: number, start: number, length: number): { type: number; start: number; length: number; pid: number } | null | number;
  // fifo.cc: unlink(2), throws IpcError.
  unlink(path: string): void;
}

const native = addon as unknown as FileLockAddon;

const SHARED = 0;
const EXCLUSIVE = 1;
const UNLOCK = 2;
const { EAGAIN } = Errno;

/** The kernel's length for a range: 0 means "to the end of every possible file". */
const kernelLength = (length: number) => (length === Infinity ? 0 : length);

/** An open lock file: one open file description. */
export class NativeLockFile implements RangeLockFile, TrackedObject {
  /** Waits in flight on waiter threads, interrupted by {@link close}. */
  readonly pendingWaits = new Set<PendingWait>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly held = new Set<HeldFileLock>();
  private readonly lockSpin = spinWindow();
  private isClosed = false;
  private readonly objectName: string;

  /** Wraps a descriptor from `flockOpen`. */
  constructor(
    private readonly fd: number,
    /** See {@link LockFile.path}. */
    readonly path: string,
  ) {
    this.objectName = `lock file '${path}' (fd ${fd})`;
    track(this, { fds: [fd], polls: [] });
  }

  /** See {@link LockFile.closed}. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** For leak reports. */
  describe(): string {
    return this.objectName;
  }

  /** See {@link LockFile.lock}. */
  async lock(options?: FileLockOptions): Promise<HeldFileLock> {
    const { start, length, shared } = checkLockFileLock(options);
    await this.setLock(!shared, start, length, options);
    const held = new HeldRangeLock(this, shared, start, length);
    this.held.add(held);
    return held;
  }

  /** See {@link LockFile.unlock}. */
  async unlock(range?: FileLockRange): Promise<void> {
    const { start, length } = checkFileLockRange(range);
    this.ensureOpen('fcntl');
    const result = native.flockSet(this.fd, UNLOCK, start, kernelLength(length));
    if (result < 0) throw errorFromErrno(result, { syscall: 'fcntl', path: this.path, object: this.objectName });
  }

  /** See {@link LockFile.holder}. */
  async holder(query?: FileLockQuery): Promise<FileLockHolder | null> {
    const { start, length, shared } = checkLockFileHolder(query);
    this.ensureOpen('fcntl');
    const found = native.flockGet(this.fd, shared ? SHARED : EXCLUSIVE, start, kernelLength(length));
    if (typeof found === 'number') throw errorFromErrno(found, { syscall: 'fcntl', path: this.path, object: this.objectName });
    if (found === null) return null;
    return { shared: found.type === SHARED, start: found.start, length: found.length === 0 ? Infinity : found.length, pid: found.pid };
  }

  /**
   * Closes the descriptor, which releases every lock of this description (the kernel drops them
   * with the description's last descriptor, and this one is close-on-exec and never passed on).
   * Pending waits reject with `EBADF` first and their threads have returned before the close, so no
   * thread is inside fcntl on a descriptor number that could be reused.
   */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const pending of this.pendingWaits) pending.cancel('close');
    await Promise.allSettled([...this.inFlight]);
    this.held.clear();
    addon.close(this.fd);
    untrack(this);
  }

  /** `await using`: {@link close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** A released lock no longer needs to be marked released on close. */
  forget(held: HeldFileLock): void {
    this.held.delete(held);
  }

  /**
   * F_OFD_SETLK of `type` over the range; on a conflict, unless `nowait`, the spin and then
   * F_OFD_SETLKW on a waiter thread. Resolves once the kernel holds the lock for this description.
   */
  /** See `RangeLockFile.setLock` in `@ipcx/core`. */
  setLock(exclusive: boolean, start: number, length: number, options: NowaitOptions | undefined): Promise<void> {
    const type = exclusive ? EXCLUSIVE : SHARED;
    try {
      const timeoutMs = checkWaitOptions(options);
      this.ensureOpen('fcntl');
      const signal = options?.signal;
      if (signal?.aborted) throw abortErrorFor(signal);
      const details = { syscall: 'fcntl', path: this.path, object: this.objectName };
      const size = kernelLength(length);
      const first = native.flockSet(this.fd, type, start, size);
      if (first === 0) return completedNow(undefined);
      if (first !== -EAGAIN || options?.nowait === true) throw errorFromErrno(first, details);
      // fcntl has no timeout of its own: a zero timeout is "do not wait", reported as the timeout.
      if (timeoutMs === 0) throw new IpcError('ETIMEDOUT', details);
      const attempt = () => {
        const result = native.flockSet(this.fd, type, start, size);
        return result === 0 ? undefined : result === -EAGAIN ? WOULD_BLOCK : errorFromErrno(result, details);
      };
      const waiting = spinThenWait<void>(this.lockSpin, attempt, (callback) => native.flockWait(this.fd, type, start, size, callback), options, details, this).then(() => {
        // Granted as close() interrupted the wait: closing the descriptor released it again.
        if (this.isClosed) throw closedError(this.objectName, 'fcntl');
      });
      this.inFlight.add(waiting);
      const forget = () => this.inFlight.delete(waiting);
      waiting.then(forget, forget);
      return waiting;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private ensureOpen(syscall: string): void {
    if (this.isClosed) throw closedError(this.objectName, syscall);
  }
}

/** The native {@link FileLocks} factory. */
export class NativeFileLocks implements FileLocks {
  /** See {@link FileLocks.open}. */
  async open(path: string, options?: LockFileOpenOptions): Promise<LockFile> {
    const { create, mode } = checkLockFileOpen(path, options);
    return new NativeLockFile(native.flockOpen(path, create, mode), path);
  }

  /** See {@link FileLocks.remove}. */
  async remove(path: string): Promise<void> {
    checkString('path', path);
    native.unlink(path);
  }
}

/** File locks: this file's part of the native backend (backend.ts lists it). */
export const fileLockSlice = backendSlice('fileLocks', ['file-lock'], () => new NativeFileLocks());
