/**
 * Lock: Python's `multiprocessing.Lock`, robust. One System V semaphore set:
 *
 * ```
 *  index 0 FREE   1 when free, 0 when held     (taken and given back with SEM_UNDO)
 *  index 1 HELD   0 when free, 1 when held     (SEM_UNDO: a dead holder's 1 goes back to 0)
 *  index 2 DIRTY  1 from acquire to release    (no SEM_UNDO: it stays 1 when the holder dies)
 * ```
 * Acquire takes FREE and adds HELD in one `semop`; release gives both back and clears DIRTY in
 * one `semop` that fails (nothing applied) if the lock is not held. When a holder dies, the kernel
 * (or the emulation, for a worker) undoes its FREE and HELD at once: the lock is free again at
 * the holder's exit, and the next acquirer finds DIRTY still set and is told the previous holder
 * died ({@link Lock.previousOwnerDied}). Python's locks stay held forever in that case.
 */
import type { IpcBackend, SemaphoreSet } from '@ipcx/core';
import { moduleTransferSymbol, type ModuleTransfer } from '@ipcx/core';
import { ErrorCode, MultiprocessingError } from './errors.js';
import { closedDuring, closedObject, createSemaphores, release, semopOptions, tryOperate, whenNotBusy, type AcquireOptions } from './kernel-objects.js';
import { registerReviver, shareSymbol, transferByModule, type Shareable, type ShareRecord } from './share.js';

const FREE = 0;
const HELD = 1;
const DIRTY = 2;

/** A held lock; disposing releases it (`await using held = await lock.hold()`). */
export interface Held extends AsyncDisposable {
  /** Releases (the same as the lock's `release()`). */
  release(): Promise<void>;
}

/**
 * A mutual-exclusion lock between processes (and workers).
 *
 * **Blocking**: `acquire` waits (without blocking the event loop) until the lock is free; it takes
 * `timeout`, `signal` and `nowait`, and resolves `false` when it gave up (timeout, nowait), like
 * Python's `acquire`. Waiters are served by the kernel's semaphore queue.
 *
 * **Atomic**: acquire and release are single `semop` calls.
 *
 * **Crash of the holder**: released by the kernel (`SEM_UNDO`) or the emulation when the holder
 * ends, however it ends, and the next acquirer sees {@link Lock.previousOwnerDied} true. Release
 * must come from the process that acquired (as for a robust mutex): a release elsewhere would be
 * undone again when that process ends.
 */
export class Lock implements Shareable, AsyncDisposable {
  private isClosed = false;
  private ownerDied = false;

  /** @internal Use {@link Lock.create}. */
  constructor(
    /** @internal */ readonly semaphores: SemaphoreSet,
    private readonly owner: boolean,
  ) {}

  /** Makes a free lock owned by this process (its close removes it: close it last). */
  static async create(backend: IpcBackend): Promise<Lock> {
    return new Lock(await createSemaphores(backend, [1, 0, 0]), true);
  }

  /** True once this handle is closed. */
  get closed(): boolean {
    return this.isClosed;
  }

  /**
   * True if the last successful {@link Lock.acquire} through this handle took the lock from a
   * holder that died holding it (what it protected may be half-updated).
   */
  get previousOwnerDied(): boolean {
    return this.ownerDied;
  }

  /**
   * Takes the lock, waiting while another holds it. Resolves `true` when taken, `false` on
   * `timeout` or `nowait` (nothing taken); rejects with `AbortError` on `signal`, `CLOSED` after
   * close (also when this handle is closed while it waits), `EIDRM` if the creator removed it
   * meanwhile.
   */
  async acquire(options?: AcquireOptions): Promise<boolean> {
    this.checkOpen('acquire');
    const semop = semopOptions(options);
    try {
      const taken = await tryOperate(() =>
        this.semaphores.operate(
          [
            { index: FREE, delta: -1, undo: true },
            { index: HELD, delta: 1, undo: true },
          ],
          semop,
        ),
      );
      if (!taken) return false;
      // Only the holder touches DIRTY: 1 here means the last holder never released. A holder
      // killed between the semop above and the post below leaves DIRTY 0, and its successor is
      // not told: rightly, since that acquire never resolved, so no code of it ran under the lock
      // and what the lock protects is as the holder before it left it. (Killed after reading 1,
      // it leaves the 1, and its successor is told of the earlier death.)
      this.ownerDied = (await whenNotBusy(() => this.semaphores.value(DIRTY))) !== 0;
      if (!this.ownerDied) await whenNotBusy(() => this.semaphores.post(DIRTY));
      return true;
    } catch (error) {
      throw closedDuring(error, this.isClosed, 'lock', 'acquire');
    }
  }

  /**
   * Gives the lock up (one `semop` with `IPC_NOWAIT`, applied on the calling thread: it never
   * waits) and wakes the next waiter. Rejects with `OVER_RELEASE` if the lock is not held
   * (Python's `ValueError`); nothing changed then.
   */
  async release(): Promise<void> {
    this.checkOpen('release');
    // The kernel applies all three or none: a lock that is not held fails whole with EAGAIN.
    const released = await tryOperate(() =>
      this.semaphores.operate(
        [
          { index: HELD, delta: -1, undo: true },
          { index: DIRTY, delta: -1 },
          { index: FREE, delta: 1, undo: true },
        ],
        { nowait: true },
      ),
    );
    if (!released) throw new MultiprocessingError(ErrorCode.overRelease, 'release() of a lock that is not held');
  }

  /** True if some process holds the lock now (a snapshot). */
  locked(): boolean {
    this.checkOpen('locked');
    return this.semaphores.value(FREE) === 0;
  }

  /** Acquires (waiting as {@link Lock.acquire}; `ETIMEDOUT` instead of `false`) and returns a disposable that releases. */
  async hold(options?: Omit<AcquireOptions, 'nowait'>): Promise<Held> {
    if (!(await this.acquire(options))) throw new MultiprocessingError(ErrorCode.timedOut, 'timed out acquiring the lock');
    return { release: () => this.release(), [Symbol.asyncDispose]: () => this.release() };
  }

  /**
   * Gives up this handle; the creator's close removes the lock (waiters elsewhere get `EIDRM`).
   * An `acquire` of this handle still waiting rejects with `CLOSED`.
   */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    await release(this.owner, [this.semaphores]);
  }

  /** `close()`, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Lets core's `processes.spawn` carry it in `args`, for any child (see share.ts). @internal */
  [moduleTransferSymbol](): ModuleTransfer {
    return transferByModule(this);
  }

  /** @internal */
  [shareSymbol](): ShareRecord {
    this.checkOpen('share');
    return { kind: 'lock', data: { semaphores: this.semaphores.id } };
  }

  private checkOpen(operation: string): void {
    if (this.isClosed) throw closedObject('lock', operation);
  }
}

registerReviver('lock', async (data, backend) => new Lock(await backend.semaphores.openById((data as { semaphores: number }).semaphores), false));
