/**
 * Advisory file locks in the emulated kernel (assembly/file-lock.ts): a lock file is a path in
 * the kernel's namespace, each `open` is a handle (an emulated open file description, the owner of
 * its locks), and the lock table lives in the shared memory with the kernel's rules for
 * `F_OFD_SETLK` / `F_OFD_GETLK`: conflicts between handles only, atomic conversions, unlocking of
 * sub-ranges, merged records.
 *
 * `lock` tries `flock_set` on the calling thread; while another handle holds a conflicting lock it
 * sleeps on the lock file's wait cell (`Atomics.waitAsync`; every unlock, downgrade and close bumps
 * it, in any thread) and tries again, as `F_OFD_SETLKW` waiters retry when the kernel wakes them. A
 * lock is only ever taken by a successful try on this thread, so a cancelled wait holds nothing.
 * A handle closes with its worker however the worker ends (the parent reaps it through the owner
 * table, as SEM_UNDO is applied), which drops its locks and wakes the waiters.
 */
import {
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
import { kernelError, type Kernel, type KernelObject, type PendingWait } from './kernel.js';
import { FileLockLayout, KernelErrno } from './layout.js';
import { cancellationError, waitForChange, wakeCell, watchCancellation } from './wait.js';

const { LOCK_SHARED: SHARED, LOCK_EXCLUSIVE: EXCLUSIVE, LOCK_UNLOCK: UNLOCK } = FileLockLayout;
const { EAGAIN, EINTR } = KernelErrno;

/** An open lock file of the emulated kernel: one handle, the owner of its locks. */
export class WorkerLockFile implements RangeLockFile, KernelObject {
  private handle: number;
  private readonly cell: number;
  private readonly pending = new Set<PendingWait>();
  private readonly objectName: string;

  /** Wraps a handle of this thread on the lock file opened as `path`. */
  constructor(
    private readonly kernel: Kernel,
    handle: number,
    /** See {@link LockFile.path}. */
    readonly path: string,
  ) {
    this.handle = handle;
    this.cell = kernel.calls.handle_wait_cell(handle);
    this.objectName = `lock file '${path}'`;
    kernel.track(this, handle);
  }

  /** See {@link LockFile.closed}. */
  get closed(): boolean {
    return this.handle === 0;
  }

  /** What `JSON.stringify` gives: a short description (not the kernel or its memory, which would never finish as JSON). */
  toJSON(): { object: string; closed: boolean } {
    return { object: this.describe(), closed: this.closed };
  }

  /** For leak reports. */
  describe(): string {
    return `${this.objectName} (handle ${this.handle})`;
  }

  /** See {@link LockFile.lock}. */
  async lock(options?: FileLockOptions): Promise<HeldFileLock> {
    const { start, length, shared } = checkLockFileLock(options);
    await this.setLock(!shared, start, length, options);
    return new HeldRangeLock(this, shared, start, length);
  }

  /** See {@link LockFile.unlock}. */
  async unlock(range?: FileLockRange): Promise<void> {
    const { start, length } = checkFileLockRange(range);
    this.ensureOpen('fcntl');
    const result = await this.kernel.callAsync(() => this.attempt(UNLOCK, start, length));
    if (result < 0) throw kernelError(result, { syscall: 'fcntl', path: this.path, object: this.objectName });
  }

  /** See {@link LockFile.holder}: pid is -1, as Linux reports for an open file description lock. */
  async holder(query?: FileLockQuery): Promise<FileLockHolder | null> {
    const { start, length, shared } = checkLockFileHolder(query);
    this.ensureOpen('fcntl');
    const { kernel } = this;
    let found: FileLockHolder | null = null;
    const result = await kernel.callAsync(() => {
      if (this.handle === 0) return -KernelErrno.EBADF;
      const at = kernel.scratch;
      const answer = kernel.calls.flock_get(this.handle, shared ? SHARED : EXCLUSIVE, start, start + length, at);
      if (answer === 1) {
        const view = new DataView(kernel.memory.buffer);
        const first = view.getFloat64(at + FileLockLayout.LOCK_QUERY_START, true);
        const end = view.getFloat64(at + FileLockLayout.LOCK_QUERY_END, true);
        found = { shared: view.getInt32(at + FileLockLayout.LOCK_QUERY_TYPE, true) === SHARED, start: first, length: end - first, pid: -1 };
      }
      return answer;
    });
    if (result < 0) throw kernelError(result, { syscall: 'fcntl', path: this.path, object: this.objectName });
    return found;
  }

  /** Pending waits reject with `EBADF`, then the handle closes, which drops every lock it holds and wakes waiters. */
  async close(): Promise<void> {
    if (this.closed) return;
    const handle = this.handle;
    this.handle = 0;
    await this.kernel.closeHandle(this, handle, this.pending);
  }

  /** `await using`: {@link close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * `flock_set` of `type` over the range; on a conflict, unless `nowait`, retries each time the
   * lock file's wait cell changes until it succeeds or the wait is cancelled.
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
      const first = this.attempt(type, start, length);
      if (first === 0) return completedNow(undefined);
      if (first !== -EAGAIN && first !== -EINTR) throw kernelError(first, details);
      if (first === -EAGAIN && options?.nowait === true) throw kernelError(first, details);
      if (first === -EAGAIN && timeoutMs === 0) throw new IpcError('ETIMEDOUT', details);
      return this.sleepUntilLocked(type, start, length, options?.nowait === true, timeoutMs, options, details);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private attempt(type: number, start: number, length: number): number {
    return this.handle === 0 ? -KernelErrno.EBADF : this.kernel.calls.flock_set(this.handle, type, start, start + length);
  }

  private sleepUntilLocked(
    type: number,
    start: number,
    length: number,
    nowait: boolean,
    timeoutMs: number,
    options: NowaitOptions | undefined,
    details: { syscall: string; object: string; path: string },
  ): Promise<void> {
    const { kernel, cell } = this;
    return new Promise<void>((resolve, reject) => {
      let done = false;
      const settle = (error?: Error) => {
        done = true;
        stopWatching();
        this.pending.delete(pending);
        if (error === undefined) resolve();
        else reject(error);
      };
      const pending: PendingWait = {
        cancel: (reason) => {
          if (done) return;
          // End this wait's own sleep; other waiters on the cell just try again.
          wakeCell(kernel, cell);
          settle(cancellationError(reason, options, details));
        },
      };
      const stopWatching = watchCancellation(options, timeoutMs, (reason) => pending.cancel(reason));
      this.pending.add(pending);
      const step = (): void => {
        if (done) return;
        // Read the cell before trying: an unlock after this load wakes the sleep below at once.
        const seen = Atomics.load(kernel.cells, cell >>> 2);
        const result = this.attempt(type, start, length);
        if (result === -EAGAIN && nowait) settle(kernelError(result, details));
        else if (result === -EAGAIN || result === -EINTR) {
          // A busy kernel (EINTR) announces nothing: look again within 1 ms.
          void waitForChange(kernel, cell, seen, result === -EINTR ? 1 : Infinity).then(step);
        } else settle(result === 0 ? undefined : kernelError(result, details));
      };
      step();
    });
  }

  private ensureOpen(syscall: string): void {
    if (this.closed) throw closedError(this.objectName, syscall);
  }
}

/** The worker backend's {@link FileLocks} factory. */
export class WorkerFileLocks implements FileLocks {
  /** A factory over `kernel`. */
  constructor(private readonly kernel: Kernel) {}

  /** See {@link FileLocks.open}. `ENOSPC` when the kernel's object table is full, `ENOMEM` when its memory is. */
  async open(path: string, options?: LockFileOpenOptions): Promise<LockFile> {
    const { create, mode } = checkLockFileOpen(path, options);
    const { kernel } = this;
    const handle = await kernel.callAsync(() => {
      const length = kernel.putString(path);
      return length < 0 ? -KernelErrno.ENAMETOOLONG : kernel.calls.flock_open(kernel.scratch, length, create ? 1 : 0, mode);
    });
    if (handle < 0) throw kernelError(handle, { syscall: 'open', path });
    return new WorkerLockFile(kernel, handle, path);
  }

  /** See {@link FileLocks.remove}. */
  async remove(path: string): Promise<void> {
    checkString('path', path);
    const { kernel } = this;
    const result = await kernel.callAsync(() => {
      const length = kernel.putString(path);
      return length < 0 ? -KernelErrno.ENAMETOOLONG : kernel.calls.flock_unlink(kernel.scratch, length);
    });
    if (result < 0) throw kernelError(result, { syscall: 'unlink', path });
  }
}

/** File locks: this file's part of the worker backend (backend.ts lists it; made over the backend's kernel). */
export const fileLockSlice = backendSlice('fileLocks', ['file-lock'], (kernel: Kernel) => new WorkerFileLocks(kernel));
