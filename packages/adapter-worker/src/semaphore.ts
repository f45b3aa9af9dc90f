/**
 * System V semaphore sets in the emulated kernel (assembly/semaphore.ts): `semget`, `semop` /
 * `semtimedop`, `semctl`, with Linux's rules and codes.
 *
 * `operate` writes the operation list to this thread's scratch buffer and makes one kernel call,
 * which applies it at once when it can (on the calling thread). A call that has to wait first
 * spins on the set's wait cell (bumped on every change of its values), retrying with IPC_NOWAIT
 * at each change: in a tight exchange the peer's post lets it through within µs, without the
 * kernel lock and the allocation that queueing takes. Only when that spin misses is it queued. A queued call is
 * completed by whichever thread makes it possible (a post, SETVAL, a worker's exit adjustments),
 * under the set's lock, all-or-nothing; this side sleeps on the call's own status cell with
 * `Atomics.waitAsync`. Abort, timeout and close take the call off the queue (`sem_wait_cancel`),
 * which also tells whether it completed first: then the call resolves as completed, so no unit
 * is lost to a cancel. A timeout rejects with `EAGAIN`, as `semtimedop` does.
 *
 * Sets are not descriptors: a handle is just an id (as in the kernel), and travels to a child by
 * id. GETPID reports the worker's pid (`ChildProcess.pid`, its threadId; 0 for the main thread).
 */
import {
  completedNow,
  IpcError,
  SEMMSL,
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
import { kernelError, registerReviver, type Kernel, type KernelObject } from './kernel.js';
import { KernelErrno, Layout, SemaphoreLayout } from './layout.js';
import { CellSpin, WOULD_BLOCK, wakeCell, waitForChange, watchCancellation, type CancelReason } from './wait.js';

const KIND = 'sysv-semaphore-set';
const MAX_ID = 0x7fffffff;
const { EAGAIN, EINTR, EINVAL, EIDRM } = KernelErrno;
const { CANCELLED, STILL_WAITING, SEM_OP_BYTES, SEM_OP_NOWAIT, SEM_OP_UNDO, W_STATUS, KEEP } = SemaphoreLayout;

/** The kernel's clock for otime/ctime: seconds since the epoch. */
function now(): number {
  return Math.floor(Date.now() / 1000);
}

/** An operation's flags word as the kernel reads it (`SEM_OP_NOWAIT`, `SEM_OP_UNDO`). */
function operationFlags(operation: CheckedSemaphoreOperation): number {
  return (operation.nowait ? SEM_OP_NOWAIT : 0) | (operation.undo ? SEM_OP_UNDO : 0);
}

/** One queued call of this handle, so that close() can end it. */
interface PendingOperation {
  cancel(reason: CancelReason): void;
}

/** A System V semaphore set of the emulated kernel, by id. */
export class WorkerSemaphoreSet implements SemaphoreSet, KernelObject {
  private readonly pending = new Set<PendingOperation>();
  private readonly settling = new Set<Promise<unknown>>();
  // How long a call that must wait watches the set's wait cell (or its queued call's status cell)
  // before it parks: a peer in a tight exchange answers within microseconds; waking a parked
  // thread costs tens. In a Web Worker its calm spins hand off early, as a byte stream's do.
  private readonly waitSpin = new CellSpin(true);
  private isClosed = false;
  private readonly objectName: string;
  /** The index of the set's wait cell in `kernel.cells` (see `sem_wait_cell`), or -1 for none. */
  private readonly changeIndex: number;
  /** The index of the set's semaphore count in `kernel.cells` (`sem_size_address`: 0 once removed), or -1. */
  private readonly sizeIndex: number;
  /**
   * The semaphore of the plain `wait(index)` being spun on (see `waitOne`), and the index of its
   * value in `kernel.cells` (`sem_value_address`; -1: none, always try).
   */
  private oneIndex = -1;
  private oneValue = -1;
  /**
   * The spin's attempt for `waitOne`: the call, but only once the value (read without the lock, a
   * hint) could let it through. The set's wait cell also changes at the peer's own decrement just
   * before its post; trying then takes the set's lock in vain, while the peer needs it to post.
   */
  private readonly tryOne = (): number | typeof WOULD_BLOCK => {
    if (this.cannotPass()) return WOULD_BLOCK;
    const result = this.semopOne(this.oneIndex, -1, 0, false);
    return result === -EAGAIN || result === -EINTR ? WOULD_BLOCK : result;
  };

  /** A handle on set `id` (no kernel call: a set is reached by id). */
  constructor(
    private readonly kernel: Kernel,
    /** See {@link SemaphoreSet.id}. */
    readonly id: number,
    /** See {@link SemaphoreSet.key}. */
    readonly key: number,
    /** See {@link SemaphoreSet.size}. */
    readonly size: number,
  ) {
    this.objectName = `System V semaphore set ${id}`;
    const cell = kernel.calls.sem_wait_cell(id);
    this.changeIndex = cell === 0 ? -1 : cell >>> 2;
    const sizeCell = kernel.calls.sem_size_address(id);
    this.sizeIndex = sizeCell === 0 ? -1 : sizeCell >>> 2;
    // No descriptor to close if it is dropped: only listed as open (leak checks, a child's closeAll).
    kernel.open.add(this);
  }

  /** See {@link SemaphoreSet.closed}. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** What `JSON.stringify` gives: a short description (not the kernel or its memory, which would never finish as JSON). */
  toJSON(): { object: string; closed: boolean } {
    return { object: this.describe(), closed: this.closed };
  }

  /** For leak reports. */
  describe(): string {
    return this.objectName;
  }

  /** See {@link SemaphoreSet.operate}. */
  operate(operations: readonly SemaphoreOperation[], options?: SemaphoreOperateOptions): Promise<void> {
    try {
      const checked = checkSemaphoreOperations(operations, this.size);
      const { nowait: wantNowait, signal, timeoutMs } = checkSemaphoreOperate(options);
      this.ensureOpen('semop');
      if (signal?.aborted) throw abortErrorFor(signal);
      return this.apply(checked, wantNowait, timeoutMs, options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** See {@link SemaphoreSet.wait}. */
  wait(index: number, count = 1, options?: SemaphoreWaitOptions): Promise<void> {
    try {
      if (count === 1 && options === undefined && this.changeIndex >= 0) return this.waitOne(index);
      return this.operate([checkSemaphoreUnitOperation(index, count, options, -1)], options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** See {@link SemaphoreSet.post}. A positive delta never waits: it applies (or fails with `ERANGE`) now. */
  post(index: number, count = 1, options?: SemaphorePostOptions): void {
    let checkedIndex: number;
    let delta = 1;
    let flags = 0;
    if (count === 1 && options === undefined) {
      // The plain post of a ping-pong: the same check without the operation list's (they build the
      // names of every field for their messages: ~0.1-0.2 µs a call).
      checkedIndex = checkInteger('operations[0].index', index, 0, this.size - 1);
    } else {
      const [checked] = checkSemaphoreOperations([checkSemaphoreUnitOperation(index, count, options, 1)], this.size);
      ({ index: checkedIndex, delta } = checked!);
      flags = operationFlags(checked!);
    }
    this.ensureOpen('semop');
    let result = this.semopOne(checkedIndex, delta, flags, false);
    // Only a busy kernel lock retries (a closure per call would cost the hot path).
    if (result === -EINTR) result = this.kernel.call(() => this.semopOne(checkedIndex, delta, flags, false));
    if (result < 0) throw kernelError(result, { syscall: 'semop', object: this.objectName });
  }

  /**
   * `wait(index)` with no count and no options, the ping-pong's call: what `apply` does for it
   * (a try, the spin on the set's wait cell, then the queue), without the operation list and
   * without a closure per call. Same checks, order and errors as through `operate`.
   */
  private waitOne(index: number): Promise<void> {
    const checkedIndex = checkInteger('operations[0].index', index, 0, this.size - 1);
    this.ensureOpen('semop');
    const { cells } = this.kernel;
    const seen = Atomics.load(cells, this.changeIndex);
    if (checkedIndex !== this.oneIndex) {
      this.oneIndex = checkedIndex;
      const address = this.kernel.calls.sem_value_address(this.id, checkedIndex);
      this.oneValue = address === 0 ? -1 : address >>> 2;
    }
    // The first try only when it could pass: in a ping-pong the wait starts right after this side's
    // post, before the peer's answer, and a try then takes the set's lock just as the peer needs it.
    const tried = !this.cannotPass();
    if (tried) {
      const first = this.semopOne(checkedIndex, -1, 0, false);
      if (first !== -EAGAIN && first !== -EINTR) return this.settle(first, false, Infinity, undefined);
    }
    const spunAt = performance.now();
    const done = this.waitSpin.spin(cells, this.changeIndex, seen, this.tryOne, Infinity, this.parkedAddress());
    // The set went away between the first try and this one: removed while this call waited.
    if (done !== WOULD_BLOCK) return this.settle(done === -EINVAL ? -EIDRM : done, false, Infinity, undefined);
    // A set gone by now, which a first try found, was removed while this call waited, as above.
    return this.enqueue([{ index: checkedIndex, delta: -1, nowait: false, undo: false }], true, false, Infinity, undefined, spunAt, tried);
  }

  /**
   * For `waitOne`'s semaphore: true when its value (read without the set's lock, a hint) is 0, so
   * that a decrement cannot pass now, and the set is still there (once it is removed, the call is
   * tried, to get its error).
   */
  private cannotPass(): boolean {
    const { cells } = this.kernel;
    return this.oneValue >= 0 && this.sizeIndex >= 0 && Atomics.load(cells, this.oneValue) < 1 && Atomics.load(cells, this.sizeIndex) !== 0;
  }

  /** See {@link SemaphoreSet.waitForZero}. */
  waitForZero(index: number, options?: SemaphoreOperateOptions): Promise<void> {
    return this.operate([{ index, delta: 0 }], options);
  }

  /** See {@link SemaphoreSet.value}. */
  value(index: number): number {
    return this.get(index, SemaphoreLayout.GET_VALUE);
  }

  /** See {@link SemaphoreSet.setValue}. Completes the queued calls the new value satisfies. */
  setValue(index: number, value: number): void {
    checkSemaphoreSetValue(this.size, index, value);
    this.ensureOpen('semctl');
    this.check(this.kernel.call(() => this.kernel.calls.sem_set_value(this.id, index, value, now())));
  }

  /** See {@link SemaphoreSet.values}. */
  values(): number[] {
    this.ensureOpen('semctl');
    const { kernel } = this;
    const count = kernel.call(() => kernel.calls.sem_get_all(this.id, kernel.scratch));
    this.check(count);
    return Array.from(new Uint16Array(kernel.memory.buffer, kernel.scratch, count));
  }

  /** See {@link SemaphoreSet.setValues}. */
  setValues(values: readonly number[]): void {
    checkSemaphoreSetValues(this.size, values);
    this.ensureOpen('semctl');
    const { kernel } = this;
    this.check(
      kernel.call(() => {
        // SEMMSL u16 values fit the scratch buffer (64000 of its 65536 bytes).
        new Uint16Array(kernel.memory.buffer, kernel.scratch, values.length).set(values);
        return kernel.calls.sem_set_all(this.id, kernel.scratch, values.length, now());
      }),
    );
  }

  /** See {@link SemaphoreSet.waitingForIncrease}. */
  waitingForIncrease(index: number): number {
    return this.get(index, SemaphoreLayout.GET_NCNT);
  }

  /** See {@link SemaphoreSet.waitingForZero}. */
  waitingForZero(index: number): number {
    return this.get(index, SemaphoreLayout.GET_ZCNT);
  }

  /** See {@link SemaphoreSet.lastPid}: a worker's threadId (its `ChildProcess.pid`), 0 for the main thread. */
  lastPid(index: number): number {
    return this.get(index, SemaphoreLayout.GET_PID);
  }

  /** See {@link SemaphoreSet.stat}. */
  stat(): SemaphoreSetStat {
    this.ensureOpen('semctl');
    return statOf(this.kernel, this.id, this.objectName);
  }

  /** See {@link SemaphoreSet.set}. */
  set(attributes: SemaphoreSetAttributes): void {
    const { mode, uid, gid } = checkSemaphoreSetAttributes(attributes);
    const [newMode, newUid, newGid] = [mode ?? KEEP, uid ?? KEEP, gid ?? KEEP];
    this.ensureOpen('semctl');
    this.check(this.kernel.call(() => this.kernel.calls.sem_set_attributes(this.id, newMode, newUid, newGid, now())));
  }

  /** See {@link SemaphoreSet.remove}. Queued calls, in every thread, end with `EIDRM`. */
  async remove(): Promise<void> {
    this.ensureOpen('semctl');
    this.check(await this.kernel.callAsync(() => this.kernel.calls.sem_remove(this.id)));
  }

  /** Gives up the handle: its queued calls are taken off the queue and reject with `EBADF`. The set stays. */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const pending of this.pending) pending.cancel('close');
    await Promise.allSettled([...this.settling]);
    this.kernel.open.delete(this);
  }

  /** `await using`: {@link close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Travels by id (no handle to duplicate); `EBADF` after close. */
  [transferSymbol](): TransferRecord {
    this.ensureOpen('transfer');
    return { kind: KIND, data: { kernel: this.kernel.id, id: this.id, key: this.key, size: this.size } };
  }

  /** One kernel semop with `operations` in the scratch buffer: 0, a waiter token, or -errno. */
  private semop(operations: readonly CheckedSemaphoreOperation[], wait: boolean): number {
    const { kernel } = this;
    // More than SEMOPM is the kernel's E2BIG, which it answers from the count alone.
    if (operations.length * SEM_OP_BYTES <= Layout.SCRATCH_BYTES) {
      // Straight into the memory's word view (the scratch buffer is word-aligned): no view per call.
      const words = kernel.cells;
      const at = kernel.scratch >>> 2;
      for (let i = 0; i < operations.length; i++) {
        const operation = operations[i]!;
        words[at + 3 * i] = operation.index;
        words[at + 3 * i + 1] = operation.delta;
        words[at + 3 * i + 2] = operationFlags(operation);
      }
    }
    return kernel.calls.sem_op(this.id, kernel.scratch, operations.length, wait ? 1 : 0, now());
  }

  /** One kernel semop of one operation (`flags`: {@link operationFlags}), written straight to the scratch buffer: 0, a waiter token, or -errno. */
  private semopOne(index: number, delta: number, flags: number, wait: boolean): number {
    const { kernel } = this;
    const words = kernel.cells;
    const at = kernel.scratch >>> 2;
    words[at] = index;
    words[at + 1] = delta;
    words[at + 2] = flags;
    return kernel.calls.sem_op(this.id, kernel.scratch, 1, wait ? 1 : 0, now());
  }

  /** The byte address of the set's parked count: a hand-off that sleeps on its wait cell is counted there, so the kernel notifies it. */
  private parkedAddress(): number {
    return (this.changeIndex << 2) - Layout.OBJ_SEQ + Layout.OBJ_PARKED;
  }

  /** What a semop's answer means for the call: done (0), an error, or a token to wait for. */
  private settle(result: number, nowait: boolean, timeoutMs: number, options: SemaphoreOperateOptions | undefined): Promise<void> {
    if (result === 0) return completedNow(undefined);
    if (result === -KernelErrno.EBADF) throw closedError(this.objectName, 'semop');
    if (result < 0) {
      throw kernelError(result, { syscall: result === -EAGAIN && timeoutMs !== Infinity && !nowait ? 'semtimedop' : 'semop', object: this.objectName });
    }
    return this.waitFor(result, timeoutMs, options);
  }

  private apply(operations: CheckedSemaphoreOperation[], nowait: boolean, timeoutMs: number, options: SemaphoreOperateOptions | undefined): Promise<void> {
    // A zero timeout is semtimedop's immediate EAGAIN: try once without queueing.
    const wait = !nowait && timeoutMs !== 0;
    // A call that may wait: try it without queueing, then spin on the set's wait cell, retrying
    // at each change (not with an operation's own IPC_NOWAIT: that answers EAGAIN at once).
    let spunAt = Number.NaN;
    if (wait && this.changeIndex >= 0 && !operations.some((operation) => operation.nowait)) {
      const { cells } = this.kernel;
      const seen = Atomics.load(cells, this.changeIndex);
      const first = this.semop(operations, false);
      if (first !== -EAGAIN && first !== -EINTR) return this.settle(first, nowait, timeoutMs, options);
      if (!options?.signal?.aborted) {
        spunAt = performance.now();
        const done = this.waitSpin.spin(cells, this.changeIndex, seen, () => {
          const result = this.semop(operations, false);
          return result === -EAGAIN || result === -EINTR ? WOULD_BLOCK : result;
        }, timeoutMs, this.parkedAddress());
        // The set went away between the first try and this one: removed while this call waited.
        if (done !== WOULD_BLOCK) return this.settle(done === -EINVAL ? -EIDRM : done, nowait, timeoutMs, options);
      }
    }
    return this.enqueue(operations, wait, nowait, timeoutMs, options, spunAt);
  }

  /** The call after its try and spin: queued (or applied, if it can be by now), then waited for. */
  private enqueue(
    operations: CheckedSemaphoreOperation[],
    wait: boolean,
    nowait: boolean,
    timeoutMs: number,
    options: SemaphoreOperateOptions | undefined,
    spunAt: number,
    /** Whether an earlier try of this call found the set: then EINVAL (no such set) means it was removed meanwhile, EIDRM. */
    sawSet = false,
  ): Promise<void> {
    const done = (result: number): Promise<void> =>
      result > 0 ? this.waitFor(result, timeoutMs, options, spunAt) : this.settle(sawSet && result === -EINVAL ? -EIDRM : result, nowait, timeoutMs, options);
    // On the calling thread first; only a busy kernel (-EINTR) defers the call to later tasks.
    const result = this.semop(operations, wait);
    if (result !== -EINTR) return done(result);
    return this.kernel.callAsync(() => (this.isClosed ? -KernelErrno.EBADF : this.semop(operations, wait))).then(done);
  }

  /**
   * Sleeps on the queued call's status cell until it completes or is cancelled. `spunAt`: when
   * the call's spin before queueing began (then it does not spin again), NaN if it did not spin.
   */
  private waitFor(token: number, timeoutMs: number, options: SemaphoreOperateOptions | undefined, spunAt = Number.NaN): Promise<void> {
    const { kernel } = this;
    const cell = token + W_STATUS;
    const syscall = Number.isFinite(timeoutMs) ? 'semtimedop' : 'semop';
    // The bounded spin first: a peer in a tight exchange completes the call within microseconds,
    // and then it ends here, on the calling thread (a busy kernel lock takes the path below).
    let startedAt = spunAt;
    if (Number.isNaN(spunAt) && !this.isClosed && !options?.signal?.aborted) {
      startedAt = performance.now();
      if (this.waitSpin.spin(kernel.cells, cell >>> 2, 0, () => true, timeoutMs) !== WOULD_BLOCK) {
        startedAt = Number.NaN;
        const result = kernel.calls.sem_wait_end(token);
        if (result === 0) return completedNow(undefined);
        if (result !== -EINTR && result !== STILL_WAITING) return Promise.reject(kernelError(result, { syscall, object: this.objectName }));
      }
    }
    let finishing = false;
    const settled = new Promise<void>((resolve, reject) => {
      const settleWith = (result: number, reason?: CancelReason) => {
        this.pending.delete(pending);
        if (result === 0) resolve();
        else if (result === CANCELLED && reason !== undefined) {
          if (reason === 'abort') reject(abortErrorFor(options!.signal!));
          else if (reason === 'close') reject(closedError(this.objectName, syscall));
          else reject(new IpcError('EAGAIN', { syscall: 'semtimedop', object: this.objectName }));
        } else reject(kernelError(result, { syscall, object: this.objectName }));
      };
      const pending: PendingOperation = {
        cancel: (reason) => {
          if (finishing) return;
          finishing = true;
          stopWatching();
          // Takes the call off the queue, or learns that it completed (or failed) first.
          void kernel.callAsync(() => kernel.calls.sem_wait_cancel(token)).then((result) => {
            // End this call's own sleep (the record may be reused: others just recheck).
            wakeCell(kernel, cell);
            settleWith(result, reason);
          });
        },
      };
      const stopWatching = watchCancellation(options, timeoutMs, (reason) => pending.cancel(reason));
      this.pending.add(pending);
      // Closed while the call was on its way here (a busy kernel deferred it).
      if (this.isClosed) pending.cancel('close');
      const sleep = (): void => {
        if (finishing) return;
        if (Atomics.load(kernel.cells, cell >>> 2) === 0) {
          void waitForChange(kernel, cell, 0).then(sleep);
          return;
        }
        finishing = true;
        stopWatching();
        // NaN when the spin caught the completion: only a parked call teaches the window.
        this.waitSpin.parked(startedAt);
        void kernel.callAsync(() => kernel.calls.sem_wait_end(token)).then((result) => {
          if (result === STILL_WAITING) throw new Error('ipcx worker kernel: a completed semaphore call is still queued');
          settleWith(result);
        });
      };
      sleep();
    });
    this.settling.add(settled);
    const forget = () => this.settling.delete(settled);
    settled.then(forget, forget);
    return settled;
  }

  private get(index: number, which: number): number {
    checkInteger('index', index, 0, this.size - 1);
    this.ensureOpen('semctl');
    const result = this.kernel.call(() => this.kernel.calls.sem_ctl_get(this.id, index, which));
    this.check(result);
    return result;
  }

  private check(result: number): void {
    if (result < 0) throw kernelError(result, { syscall: 'semctl', object: this.objectName });
  }

  private ensureOpen(syscall: string): void {
    if (this.isClosed) throw closedError(this.objectName, syscall);
  }
}

/** `IPC_STAT` of set `id`, or the kernel's error (`EACCES`, `EINVAL`). */
function statOf(kernel: Kernel, id: number, object: string): SemaphoreSetStat {
  const result = kernel.call(() => kernel.calls.sem_stat(id, kernel.scratch));
  if (result < 0) throw kernelError(result, { syscall: 'semctl', object });
  const view = new DataView(kernel.memory.buffer, kernel.scratch, SemaphoreLayout.SEM_STAT_BYTES);
  const u32 = (offset: number) => view.getUint32(offset, true);
  const otime = u32(SemaphoreLayout.SEM_STAT_OTIME);
  return {
    key: view.getInt32(SemaphoreLayout.SEM_STAT_KEY, true),
    size: u32(SemaphoreLayout.SEM_STAT_NSEMS),
    mode: u32(SemaphoreLayout.SEM_STAT_MODE),
    uid: u32(SemaphoreLayout.SEM_STAT_UID),
    gid: u32(SemaphoreLayout.SEM_STAT_GID),
    cuid: u32(SemaphoreLayout.SEM_STAT_CUID),
    cgid: u32(SemaphoreLayout.SEM_STAT_CGID),
    otime: otime === 0 ? null : new Date(otime * 1000),
    ctime: new Date(u32(SemaphoreLayout.SEM_STAT_CTIME) * 1000),
  };
}

/** The worker backend's {@link Semaphores} factory. */
export class WorkerSemaphores implements Semaphores {
  /** A factory over `kernel`. */
  constructor(private readonly kernel: Kernel) {}

  /**
   * `semget`, then `IPC_STAT` for the set's size (as the native backend does): without read
   * permission the set opens with the `size` asked for, or rejects with `EACCES` when none was.
   * See {@link Semaphores.open} for the codes.
   */
  async open(key: number | 'private', options?: SemaphoreSetOpenOptions): Promise<SemaphoreSet> {
    const { key: kernelKey, create: creating, exclusive: wantExclusive, size: count, mode: flags } = checkSemaphoreOpen(key, options);
    const { kernel } = this;
    const id = await kernel.callAsync(() => kernel.calls.sem_get(kernelKey, count, creating ? 1 : 0, wantExclusive ? 1 : 0, flags, now()));
    if (id < 0) throw kernelError(id, { syscall: 'semget', key: kernelKey });
    try {
      return new WorkerSemaphoreSet(kernel, id, kernelKey, statOf(kernel, id, `System V semaphore set ${id}`).size);
    } catch (error) {
      if ((error as IpcError).code === 'EACCES' && count > 0) return new WorkerSemaphoreSet(kernel, id, kernelKey, count);
      throw error;
    }
  }

  /** See {@link Semaphores.openById}: `EINVAL` for no such set, `EACCES` without read permission. */
  async openById(id: number): Promise<SemaphoreSet> {
    checkInteger('id', id, 0, MAX_ID);
    const stat = statOf(this.kernel, id, `System V semaphore set ${id}`);
    return new WorkerSemaphoreSet(this.kernel, id, stat.key, stat.size);
  }

  /** See {@link Semaphores.removeById}: the kernel's `semctl(IPC_RMID)`, as a handle's `remove()` makes it. */
  async removeById(id: number): Promise<void> {
    checkInteger('id', id, 0, MAX_ID);
    const { kernel } = this;
    const result = await kernel.callAsync(() => kernel.calls.sem_remove(id));
    if (result < 0) throw kernelError(result, { syscall: 'semctl', object: `System V semaphore set ${id}` });
  }
}

/** Every live set of the kernel, keyed or private, for `diagnostics.kernelObjects()`. */
export function semaphoreSetsIn(kernel: Kernel): string[] {
  const found: string[] = [];
  const view = new DataView(kernel.memory.buffer);
  const at = (offset: number) => view.getInt32(kernel.scratch + offset, true);
  for (let slot = kernel.calls.sem_list(0, kernel.scratch); slot > 0; slot = kernel.calls.sem_list(slot, kernel.scratch)) {
    found.push(`sysv semaphore set key ${at(SemaphoreLayout.SEM_LIST_KEY)} id ${at(SemaphoreLayout.SEM_LIST_ID)}`);
  }
  return found;
}

registerReviver(KIND, (kernel, record) => {
  const { id, key, size } = record.data as { id: number; key: number; size: number };
  return new WorkerSemaphoreSet(kernel, id, key, size);
});

/** System V semaphore sets: this file's part of the worker backend (backend.ts lists it; made over the backend's kernel). */
export const semaphoreSlice = backendSlice('semaphores', ['semaphore'], (kernel: Kernel) => new WorkerSemaphores(kernel));
