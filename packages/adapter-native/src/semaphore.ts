/**
 * System V semaphore sets over the kernel's own: `semget`, `semop`/`semtimedop`, `semctl`.
 *
 * An `operate` call first tries the whole list on the calling thread with `IPC_NOWAIT` added to
 * every operation. semop is all-or-nothing, so when that fails with `EAGAIN` nothing changed: the
 * same attempt is retried for the shared adaptive spin window (`SpinWindow`: a peer in a tight
 * exchange posts within it, and parking costs a waiter thread's round trip), and only then the list
 * is handed, without the added flags, to a waiter thread (`blockingWait`). A timeout
 * is given to the kernel (`semtimedop`) rather than measured by a JS timer, so its `EAGAIN` is the
 * kernel's; AbortSignal and close interrupt the thread's call (`cancelWait`).
 */
import {
  Errno,
  completedNow,
  abortErrorFor,
  closedError,
  transferSymbol,
  type SemaphoreOperateOptions,
  type SemaphoreOperation,
  type SemaphorePostOptions,
  type SemaphoreSet,
  type SemaphoreSetAttributes,
  type SemaphoreSetOpenOptions,
  type SemaphoreSetStat,
  type SemaphoreWaitOptions,
  type Semaphores,
  type TransferRecord,
} from '@ipcx/core';
import {
  checkInteger,
  checkSemaphoreOperate,
  checkSemaphoreOperations,
  checkSemaphoreSetAttributes,
  checkSemaphoreOpen,
  checkSemaphoreSetValue,
  checkSemaphoreSetValues,
  checkSemaphoreUnitOperation,
  type CheckedSemaphoreOperation,
  backendSlice,
} from '@ipcx/core/backend';
import { addon, errorFromErrno, type WaitCallback } from './addon.js';
import { openNoting, recordRemoved, recordSysv } from './ledger.js';
import { track, untrack, type TrackedObject } from './registry.js';
import { registerReviver } from './revive.js';
import { spinWindow, WOULD_BLOCK, blockingWait, type PendingWait } from './wait.js';

/** What `semStat` returns: `struct semid_ds` with times in seconds. */
interface RawSemaphoreStat {
  key: number;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  cuid: number;
  cgid: number;
  otime: number;
  ctime: number;
}

/** The functions of semaphore.cc. Numbers are `-errno` on failure. */
interface SemaphoreAddon {
  semget(key: number, size: number, create: boolean, exclusive: boolean, mode: number): number;
  semopNow(id: number, operations: Int32Array): number;
  semopWait(id: number, operations: Int32Array, timeoutMs: number, callback: WaitCallback): number;
  semctlGet(id: number, index: number, which: number): number;
  semSetValue(id: number, index: number, value: number): number;
  semGetAll(id: number): number[] | number;
  semSize(id: number): number;
  semSetAll(id: number, values: number[]): number;
  semStat(id: number): RawSemaphoreStat | number;
  semSetAttributes(id: number, mode: number, uid: number, gid: number): number;
  semRemove(id: number): number;
}

const native = addon as unknown as SemaphoreAddon;

const { EAGAIN } = Errno;
const KIND = 'sysv-semaphore-set';
/** `which` of `semctlGet`. */
const Get = { value: 0, waitingForIncrease: 1, waitingForZero: 2, lastPid: 3 } as const;
/** Bits of the third word of each encoded operation (see semaphore.cc). */
const OP_NOWAIT = 1;
const OP_UNDO = 2;
const MAX_ID = 0x7fffffff;

/** `[index, delta, bits]` triples: what the addon copies into `struct sembuf`s. */
function encode(operations: readonly CheckedSemaphoreOperation[]): Int32Array {
  const encoded = new Int32Array(operations.length * 3);
  operations.forEach((operation, i) => {
    encoded[3 * i] = operation.index;
    encoded[3 * i + 1] = operation.delta;
    encoded[3 * i + 2] = (operation.nowait ? OP_NOWAIT : 0) | (operation.undo ? OP_UNDO : 0);
  });
  return encoded;
}

/** A System V semaphore set, by id. */
export class NativeSemaphoreSet implements SemaphoreSet, TrackedObject {
  /** Waits in flight on waiter threads, interrupted by {@link close}. */
  readonly pendingWaits = new Set<PendingWait>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private isClosed = false;
  private readonly objectName: string;
  // How long an operation that would wait retries before parking (the shared adaptive policy).
  private readonly operateSpin = spinWindow();

  /** A handle on set `id` (no system call: the set is reached by id, as `ipcs` shows it). */
  constructor(
    /** See {@link SemaphoreSet.id}. */
    readonly id: number,
    /** See {@link SemaphoreSet.key}. */
    readonly key: number,
    /** See {@link SemaphoreSet.size}. */
    readonly size: number,
  ) {
    this.objectName = `System V semaphore set ${id}`;
    track(this, { fds: [], polls: [] });
  }

  /** See {@link SemaphoreSet.closed}. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** For leak reports. */
  describe(): string {
    return this.objectName;
  }

  /** See {@link SemaphoreSet.operate}. */
  operate(operations: readonly SemaphoreOperation[], options?: SemaphoreOperateOptions): Promise<void> {
    try {
      const checked = checkSemaphoreOperations(operations, this.size);
      const { nowait, signal, timeoutMs } = checkSemaphoreOperate(options);
      return this.apply(checked, nowait, timeoutMs, signal);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** See {@link SemaphoreSet.wait}. */
  wait(index: number, count = 1, options?: SemaphoreWaitOptions): Promise<void> {
    try {
      return this.operate([checkSemaphoreUnitOperation(index, count, options, -1)], options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** See {@link SemaphoreSet.post}. */
  post(index: number, count = 1, options?: SemaphorePostOptions): void {
    const [checked] = checkSemaphoreOperations([checkSemaphoreUnitOperation(index, count, options, 1)], this.size);
    this.ensureOpen('semop');
    // A positive delta never waits: semop with IPC_NOWAIT completes (or fails with ERANGE) now.
    const result = native.semopNow(this.id, encode([checked!]));
    if (result < 0) throw errorFromErrno(result, { syscall: 'semop', object: this.objectName });
  }

  /** See {@link SemaphoreSet.waitForZero}. */
  waitForZero(index: number, options?: SemaphoreOperateOptions): Promise<void> {
    return this.operate([{ index, delta: 0 }], options);
  }

  /** See {@link SemaphoreSet.value}. */
  value(index: number): number {
    return this.get(index, Get.value);
  }

  /** See {@link SemaphoreSet.setValue}. */
  setValue(index: number, value: number): void {
    checkSemaphoreSetValue(this.size, index, value);
    this.ensureOpen('semctl');
    this.check(native.semSetValue(this.id, index, value));
  }

  /** See {@link SemaphoreSet.values}. */
  values(): number[] {
    this.ensureOpen('semctl');
    const result = native.semGetAll(this.id);
    if (typeof result === 'number') throw errorFromErrno(result, { syscall: 'semctl', object: this.objectName });
    return result;
  }

  /** See {@link SemaphoreSet.setValues}. */
  setValues(values: readonly number[]): void {
    checkSemaphoreSetValues(this.size, values);
    this.ensureOpen('semctl');
    this.check(native.semSetAll(this.id, [...values]));
  }

  /** See {@link SemaphoreSet.waitingForIncrease}. */
  waitingForIncrease(index: number): number {
    return this.get(index, Get.waitingForIncrease);
  }

  /** See {@link SemaphoreSet.waitingForZero}. */
  waitingForZero(index: number): number {
    return this.get(index, Get.waitingForZero);
  }

  /** See {@link SemaphoreSet.lastPid}. */
  lastPid(index: number): number {
    return this.get(index, Get.lastPid);
  }

  /** See {@link SemaphoreSet.stat}. */
  stat(): SemaphoreSetStat {
    this.ensureOpen('semctl');
    return toStat(statOrThrow(this.id, this.objectName));
  }

  /** See {@link SemaphoreSet.set}. */
  set(attributes: SemaphoreSetAttributes): void {
    const { mode, uid, gid } = checkSemaphoreSetAttributes(attributes);
    const [newMode, newUid, newGid] = [mode ?? -1, uid ?? -1, gid ?? -1];
    this.ensureOpen('semctl');
    this.check(native.semSetAttributes(this.id, newMode, newUid, newGid));
  }

  /** See {@link SemaphoreSet.remove}. */
  async remove(): Promise<void> {
    this.ensureOpen('semctl');
    this.check(native.semRemove(this.id));
    recordRemoved('sysv-semaphore-set', this.id);
  }

  /**
   * Gives up the handle: pending waits are interrupted and reject with `EBADF`; resolves once their
   * threads have returned. The set stays in the kernel.
   */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const pending of this.pendingWaits) pending.cancel('close');
    await Promise.allSettled([...this.inFlight]);
    untrack(this);
  }

  /** `await using`: {@link close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Travels by id; the child's handle needs no system call to revive. */
  [transferSymbol](): TransferRecord {
    this.ensureOpen('transfer');
    return { kind: KIND, data: { id: this.id, key: this.key, size: this.size } };
  }

  private apply(operations: CheckedSemaphoreOperation[], nowait: boolean, timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
    this.ensureOpen('semop');
    if (signal?.aborted) throw abortErrorFor(signal);
    const encoded = encode(operations);
    const result = native.semopNow(this.id, encoded);
    if (result === 0) return completedNow(undefined);
    if (result !== -EAGAIN || nowait) throw errorFromErrno(result, { syscall: 'semop', object: this.objectName });
    // A zero timeout is semtimedop's immediate EAGAIN, which the attempt above has just seen.
    if (timeoutMs === 0) throw errorFromErrno(-EAGAIN, { syscall: 'semtimedop', object: this.objectName });
    const startedAt = performance.now();
    const spun = this.operateSpin.spin(() => {
      const n = native.semopNow(this.id, encoded);
      return n === -EAGAIN ? WOULD_BLOCK : n;
    }, timeoutMs);
    if (spun === 0) return completedNow(undefined);
    if (spun !== WOULD_BLOCK) throw errorFromErrno(spun, { syscall: 'semop', object: this.objectName });
    let timeout = -1;
    if (Number.isFinite(timeoutMs)) {
      timeout = timeoutMs - (performance.now() - startedAt);
      if (timeout <= 0) throw errorFromErrno(-EAGAIN, { syscall: 'semtimedop', object: this.objectName });
    }
    // Only the signal goes to blockingWait: the timeout is the kernel's (semtimedop), not a JS timer.
    const waiting = blockingWait<void>(
      (callback) => native.semopWait(this.id, encoded, timeout, callback),
      signal === undefined ? undefined : { signal },
      { syscall: timeout < 0 ? 'semop' : 'semtimedop', object: this.objectName },
      this,
      () => this.operateSpin.parked(startedAt),
    );
    this.inFlight.add(waiting);
    const forget = () => this.inFlight.delete(waiting);
    waiting.then(forget, forget);
    return waiting;
  }

  private get(index: number, which: number): number {
    checkInteger('index', index, 0, this.size - 1);
    this.ensureOpen('semctl');
    const result = native.semctlGet(this.id, index, which);
    if (result < 0) throw errorFromErrno(result, { syscall: 'semctl', object: this.objectName });
    return result;
  }

  private check(result: number): void {
    if (result < 0) throw errorFromErrno(result, { syscall: 'semctl', object: this.objectName });
  }

  private ensureOpen(syscall: string): void {
    if (this.isClosed) throw closedError(this.objectName, syscall);
  }
}

function statOrThrow(id: number, object: string): RawSemaphoreStat {
  const result = native.semStat(id);
  if (typeof result === 'number') throw errorFromErrno(result, { syscall: 'semctl', object });
  return result;
}

function toStat(raw: RawSemaphoreStat): SemaphoreSetStat {
  return {
    key: raw.key,
    size: raw.size,
    mode: raw.mode,
    uid: raw.uid,
    gid: raw.gid,
    cuid: raw.cuid,
    cgid: raw.cgid,
    otime: raw.otime === 0 ? null : new Date(raw.otime * 1000),
    ctime: new Date(raw.ctime * 1000),
  };
}

/** The native {@link Semaphores} factory. */
export class NativeSemaphores implements Semaphores {
  /**
   * `semget`, then the set's real size from the kernel: `IPC_STAT`, or for a user without read
   * permission but with alter permission (who can still operate) `SEM_STAT_ANY` (see
   * semaphore.cc); `EACCES` for a user with neither. The `size` asked for is never trusted:
   * `SETALL` copies as many values as the kernel's set has.
   */
  async open(key: number | 'private', options?: SemaphoreSetOpenOptions): Promise<SemaphoreSet> {
    const { key: kernelKey, create: creating, exclusive: wantExclusive, size: count, mode: flags } = checkSemaphoreOpen(key, options);
    const { result: id, created } = openNoting(creating, wantExclusive, (create, exclusive) => native.semget(kernelKey, count, create, exclusive, flags));
    if (id < 0) throw errorFromErrno(id, { syscall: 'semget', key: kernelKey });
    if (created || kernelKey === 0) recordSysv('sysv-semaphore-set', id, kernelKey);
    const object = `System V semaphore set ${id}`;
    const size = native.semSize(id);
    if (size < 0) throw errorFromErrno(size, { syscall: 'semctl', object });
    return new NativeSemaphoreSet(id, kernelKey, size);
  }

  /** See {@link Semaphores.openById}. */
  async openById(id: number): Promise<SemaphoreSet> {
    checkInteger('id', id, 0, MAX_ID);
    const stat = statOrThrow(id, `System V semaphore set ${id}`);
    return new NativeSemaphoreSet(id, stat.key, stat.size);
  }

  /** See {@link Semaphores.removeById} (`semctl(IPC_RMID)` on the main thread). */
  async removeById(id: number): Promise<void> {
    checkInteger('id', id, 0, MAX_ID);
    const result = native.semRemove(id);
    if (result < 0) throw errorFromErrno(result, { syscall: 'semctl', object: `System V semaphore set ${id}` });
    recordRemoved('sysv-semaphore-set', id);
  }
}

registerReviver(KIND, (record) => {
  const { id, key, size } = record.data as { id: number; key: number; size: number };
  return new NativeSemaphoreSet(id, key, size);
});

/** System V semaphore sets: this file's part of the native backend (backend.ts lists it). */
export const semaphoreSlice = backendSlice('semaphores', ['semaphore'], () => new NativeSemaphores());
