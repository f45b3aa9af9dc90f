/**
 * POSIX named semaphores: `sem_open` and friends from glibc (the semaphore is a small file in
 * /dev/shm, mapped into each process that opens it).
 *
 * `wait` tries `sem_trywait` on the calling thread first; only when the value is zero does a
 * waiter thread run `sem_wait` (or `sem_clockwait` with the timeout as its deadline, so the
 * `ETIMEDOUT` is the kernel's). AbortSignal and close interrupt it (`cancelWait`).
 */
import { statSync } from 'node:fs';
import {
  Errno,
  completedNow,
  IpcError,
  POSIX_SEMAPHORE_BYTES,
  abortErrorFor,
  closedError,
  transferSymbol,
  type PosixSemaphore,
  type PosixSemaphoreOpenOptions,
  type PosixSemaphoreWaitOptions,
  type PosixSemaphores,
  type SharedSegment,
  type TransferRecord,
} from '@ipcx/core';
import {
  checkPosixSemaphoreInitial,
  checkPosixSemaphoreOpen,
  checkPosixSemaphorePlace,
  checkPosixSemaphoreWait,
  checkString,
  backendSlice,
} from '@ipcx/core/backend';
import { addon, errorFromErrno, type WaitCallback } from './addon.js';
import { track, untrack, type TrackedObject } from './registry.js';
import { registerReviver, revive } from './revive.js';
import { NativeSegment } from './shared-memory.js';
import { openNotingThrown, recordPosix, recordRemoved } from './ledger.js';
import { blockingWait, type PendingWait } from './wait.js';

/** The addon's handle of one `sem_open` (an External; `sem_close` runs when it is closed or collected). */
type SemHandle = object & { readonly __posixSemaphore: unique symbol };

/** The functions of posix_semaphore.cc. Numbers are `-errno` on failure unless noted. */
interface PosixSemaphoreAddon {
  /** Throws IpcError. */
  semOpen(name: string, create: boolean, exclusive: boolean, mode: number, initial: number): SemHandle;
  /** The unnamed semaphore at byteOffset of a mapping (sem_init first when init). Throws IpcError. */
  semAt(buffer: ArrayBuffer, byteOffset: number, initial: number, init: boolean): SemHandle;
  semClose(handle: SemHandle): number;
  semTryWait(handle: SemHandle): number;
  semWait(handle: SemHandle, timeoutMs: number, callback: WaitCallback): number;
  semPost(handle: SemHandle): number;
  semGetValue(handle: SemHandle): number;
  /** Throws IpcError. */
  semUnlink(name: string): void;
}

const native = addon as unknown as PosixSemaphoreAddon;

const { EAGAIN, EFAULT, ETIMEDOUT } = Errno;
const KIND = 'posix-semaphore';
const UNNAMED_KIND = 'posix-semaphore-unnamed';

/** Where an unnamed semaphore lives, and whether its handle owns (and so closes) the segment. */
interface Placement {
  readonly segment: NativeSegment;
  readonly byteOffset: number;
  readonly ownsSegment: boolean;
}

/** An open POSIX named semaphore. */
export class NativePosixSemaphore implements PosixSemaphore, TrackedObject {
  /** Waits in flight on waiter threads, interrupted by {@link close}. */
  readonly pendingWaits = new Set<PendingWait>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private isClosed = false;
  private readonly objectName: string;

  /** Wraps a handle from `semOpen`. */
  constructor(
    private readonly handle: SemHandle,
    /** See {@link PosixSemaphore.name}. */
    readonly name: string,
    /** For an unnamed semaphore: its segment and offset. */
    private readonly placement?: Placement,
  ) {
    this.objectName = placement ? `unnamed POSIX semaphore at byte ${placement.byteOffset}` : `POSIX semaphore '${name}'`;
    placement?.segment.addDependent(this);
    track(this, { fds: [], polls: [] });
  }

  /** See {@link PosixSemaphore.closed}. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** For leak reports. */
  describe(): string {
    return this.objectName;
  }

  /** See {@link PosixSemaphore.wait}. */
  wait(options?: PosixSemaphoreWaitOptions): Promise<void> {
    try {
      const { nowait: wantNowait, signal, timeoutMs } = checkPosixSemaphoreWait(options);
      this.ensureOpen('sem_wait');
      if (signal?.aborted) throw abortErrorFor(signal);
      const result = native.semTryWait(this.handle);
      if (result === 0) return completedNow(undefined);
      if (result !== -EAGAIN || wantNowait) throw this.failure(result, 'sem_trywait');
      // A zero timeout: sem_timedwait with a deadline already past fails with ETIMEDOUT.
      if (timeoutMs === 0) throw errorFromErrno(-ETIMEDOUT, { syscall: 'sem_timedwait', path: this.name, object: this.objectName });
      const timeout = Number.isFinite(timeoutMs) ? timeoutMs : -1;
      // Only the signal goes to blockingWait: the timeout is the thread's deadline, not a JS timer.
      const waiting = blockingWait<void>(
        (callback) => native.semWait(this.handle, timeout, callback),
        signal === undefined ? undefined : { signal },
        { syscall: timeout < 0 ? 'sem_wait' : 'sem_timedwait', object: this.objectName, path: this.name },
        this,
      );
      this.inFlight.add(waiting);
      const forget = () => this.inFlight.delete(waiting);
      waiting.then(forget, forget);
      return waiting;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** See {@link PosixSemaphore.tryWait}. */
  tryWait(): boolean {
    this.ensureOpen('sem_trywait');
    const result = native.semTryWait(this.handle);
    if (result === 0) return true;
    if (result === -EAGAIN) return false;
    throw this.failure(result, 'sem_trywait');
  }

  /** See {@link PosixSemaphore.post}. */
  post(): void {
    this.ensureOpen('sem_post');
    const result = native.semPost(this.handle);
    if (result < 0) throw this.failure(result, 'sem_post');
  }

  /** See {@link PosixSemaphore.value}. */
  value(): number {
    this.ensureOpen('sem_getvalue');
    const result = native.semGetValue(this.handle);
    if (result < 0) throw this.failure(result, 'sem_getvalue');
    return result;
  }

  /**
   * `sem_close`, after pending waits have been interrupted (they reject with `EBADF`) and their
   * threads have returned, so no thread is inside `sem_wait` on the mapping when it goes.
   */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const pending of this.pendingWaits) pending.cancel('close');
    await Promise.allSettled([...this.inFlight]);
    native.semClose(this.handle);
    untrack(this);
    if (this.placement !== undefined) {
      this.placement.segment.removeDependent(this);
      if (this.placement.ownsSegment) await this.placement.segment.close();
    }
  }

  /** `await using`: {@link close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * A named semaphore travels by name: the child opens the same name (`sem_open` without
   * `O_CREAT`). An unnamed one travels with its segment's record: the child maps the segment again.
   */
  [transferSymbol](): TransferRecord {
    this.ensureOpen('transfer');
    if (this.placement === undefined) return { kind: KIND, data: this.name };
    return { kind: UNNAMED_KIND, data: { segment: this.placement.segment[transferSymbol](), byteOffset: this.placement.byteOffset } };
  }

  private ensureOpen(syscall: string): void {
    if (this.isClosed) throw closedError(this.objectName, syscall);
  }

  /** The IpcError for `-errno` from `syscall`; EFAULT says what broke (see posix_semaphore.cc). */
  private failure(negativeErrno: number, syscall: string): IpcError {
    const details = { syscall, path: this.name, object: this.objectName };
    if (negativeErrno !== -EFAULT || this.placement !== undefined) return errorFromErrno(negativeErrno, details);
    return new IpcError('EFAULT', {
      ...details,
      message: `EFAULT: ${this.objectName} is broken: another process made its file (/dev/shm/sem.${this.name.slice(1)}) shorter than a semaphore, so it is gone (its memory here reads as zeros and reaches no other process); close it, and unlink and create the name again`,
    });
  }
}

/** The native {@link PosixSemaphores} factory. */
export class NativePosixSemaphores implements PosixSemaphores {
  /** See {@link PosixSemaphores.open}. */
  async open(name: string, options?: PosixSemaphoreOpenOptions): Promise<PosixSemaphore> {
    const { create: wantCreate, exclusive: wantExclusive, mode: permissions, initial: value } = checkPosixSemaphoreOpen(name, options);
    const { result: handle, created } = openNotingThrown(wantCreate, wantExclusive, (create, exclusive) => openNamed(name, create, exclusive, permissions, value));
    if (created) recordPosix('posix-semaphore', name);
    return new NativePosixSemaphore(handle, name);
  }

  /** See {@link PosixSemaphores.init}. */
  async init(segment: SharedSegment, byteOffset: number, initial?: number): Promise<PosixSemaphore> {
    const value = checkPosixSemaphoreInitial(initial);
    return placeIn(segment, byteOffset, value, true, false);
  }

  /** See {@link PosixSemaphores.attach}. */
  async attach(segment: SharedSegment, byteOffset: number): Promise<PosixSemaphore> {
    return placeIn(segment, byteOffset, 0, false, false);
  }

  /** See {@link PosixSemaphores.unlink}. */
  async unlink(name: string): Promise<void> {
    checkString('name', name);
    native.semUnlink(name);
    recordRemoved('posix-semaphore', name);
  }
}

/**
 * `semOpen`, whose EINVAL for a file too short to hold a semaphore (the addon refuses one rather
 * than let its first use fault) says so.
 */
function openNamed(name: string, create: boolean, exclusive: boolean, mode: number, initial: number): SemHandle {
  try {
    return native.semOpen(name, create, exclusive, mode, initial);
  } catch (error) {
    if (!(error instanceof IpcError) || error.code !== 'EINVAL') throw error;
    const file = `/dev/shm/sem.${name.slice(1)}`;
    let size: number;
    try {
      size = statSync(file).size;
    } catch {
      throw error;
    }
    if (size >= POSIX_SEMAPHORE_BYTES) throw error;
    throw new IpcError('EINVAL', {
      syscall: 'sem_open',
      path: name,
      message: `EINVAL: POSIX semaphore '${name}' cannot be opened: its file ${file} holds ${size} bytes, fewer than a semaphore's ${POSIX_SEMAPHORE_BYTES} (another program made or shortened it); unlink the name and create it again`,
    });
  }
}

/** A handle on the unnamed semaphore at `byteOffset` of `segment` (initialized first when `init`). */
function placeIn(segment: SharedSegment, byteOffset: number, initial: number, init: boolean, ownsSegment: boolean): NativePosixSemaphore {
  if (!(segment instanceof NativeSegment)) throw new TypeError('segment must be a shared-memory segment of the native backend');
  checkPosixSemaphorePlace(segment.size, byteOffset);
  // `buffer` throws EBADF for a closed segment and EACCES for a read-only one: sem_post writes.
  const handle = native.semAt(segment.buffer, byteOffset, initial, init);
  return new NativePosixSemaphore(handle, '', { segment, byteOffset, ownsSegment });
}

// A child maps the segment again and uses the semaphore in it; the handle owns that mapping.
registerReviver(UNNAMED_KIND, (record) => {
  const { segment, byteOffset } = record.data as { segment: TransferRecord; byteOffset: number };
  return placeIn(revive(segment) as SharedSegment, byteOffset, 0, false, true);
});

// A child opens the same name; it fails (and the child with it) if the name was unlinked meanwhile.
registerReviver(KIND, (record) => {
  const name = String(record.data);
  return new NativePosixSemaphore(openNamed(name, false, false, 0, 0), name);
});

/** POSIX semaphores: this file's part of the native backend (backend.ts lists it). */
export const posixSemaphoreSlice = backendSlice('posixSemaphores', ['posix-semaphore'], () => new NativePosixSemaphores());
