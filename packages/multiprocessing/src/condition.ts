/**
 * Condition: Python's `multiprocessing.Condition`, a condition variable between processes over a
 * {@link Lock} or {@link RLock} and a System V semaphore set:
 *
 * ```
 *  index 0 WAKEUPS   tokens handed to sleepers by notify
 *  index 1 SLEEPERS  processes registered in wait and not yet handed a token
 * ```
 * A waiter registers (SLEEPERS + 1) while it holds the lock, releases the lock and takes a token.
 * `notify(n)` moves up to n registrations to tokens in one `semop`, so it wakes at most n waiters
 * and only waiters that were registered when it was called. A waiter that times out takes its
 * registration back, or, if a notify already turned it into a token, takes that token: the two
 * counts always add up to the processes inside `wait`.
 */
import { moduleTransferSymbol, type ModuleTransfer, isIpcError, type IpcBackend, type SemaphoreSet } from '@ipcx/core';
import { ErrorCode, MultiprocessingError } from './errors.js';
import { closedObject, createSemaphores, release, semopOptions, tryOperate, whenNotBusy, type AcquireOptions } from './kernel-objects.js';
import { Lock } from './lock.js';
import { RLock } from './rlock.js';
import { packForValue, registerReviver, reviveValue, shareSymbol, transferByModule, type Shareable, type ShareRecord } from './share.js';
import { deadlineOf } from './wait.js';

const WAKEUPS = 0;
const SLEEPERS = 1;

/**
 * A condition variable between processes.
 *
 * **Blocking**: `wait` releases the lock, waits (without blocking the event loop) for a notify,
 * `timeout` or `signal`, and takes the lock again before it resolves (also on timeout and abort),
 * as in Python. `notify`/`notifyAll` never wait; call them holding the lock.
 *
 * **Atomic**: registering, notifying and taking a wake-up are single `semop` calls.
 *
 * **Crash**: the lock is robust (see {@link Lock}); a process killed inside `wait` leaves its
 * registration behind, so one later `notify` may be spent on it (a lost wake-up for one waiter,
 * which Python's Condition would suffer too, forever holding the lock besides).
 */
export class Condition implements Shareable, AsyncDisposable {
  private isClosed = false;

  /** @internal Use {@link Condition.create}. */
  constructor(
    /** The lock this condition releases while waiting. */
    readonly lock: Lock | RLock,
    /** @internal */ readonly semaphores: SemaphoreSet,
    private readonly owner: boolean,
  ) {}

  /**
   * Makes a condition over `lock` (default: a new {@link RLock}, as Python's) owned by this process.
   * Closing it by its creator removes its semaphores (and the lock if it made one).
   */
  static async create(backend: IpcBackend, lock?: Lock | RLock): Promise<Condition> {
    if (lock !== undefined && !(lock instanceof Lock) && !(lock instanceof RLock)) throw new TypeError('lock must be a Lock or an RLock');
    const own = lock === undefined;
    const theLock = lock ?? (await RLock.create(backend));
    const condition = new Condition(theLock, await createSemaphores(backend, [0, 0]), true);
    condition.ownsLock = own;
    return condition;
  }

  private ownsLock = false;

  /** True once this handle is closed. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Acquires the underlying lock (see {@link Lock.acquire}). */
  acquire(options?: AcquireOptions): Promise<boolean> {
    return this.lock.acquire(options);
  }

  /** Releases the underlying lock. */
  release(): Promise<void> {
    return this.lock.release();
  }

  /**
   * Waits for a notify. Call it holding the lock: it is released while waiting and held again
   * when this settles. Resolves `true` when notified, `false` on `timeout`; rejects with
   * `AbortError` on `signal` (lock held again), `NOT_OWNER` if the lock is not held, `CLOSED`
   * after close, also when this handle is closed while it waits (the lock is held again only if
   * it is one the close leaves open: a lock given to {@link Condition.create}).
   */
  async wait(options?: Omit<AcquireOptions, 'nowait'>): Promise<boolean> {
    this.checkOpen('wait');
    const semop = semopOptions(options);
    // Registered while holding the lock: a notify (which holds it too) cannot run in between.
    await whenNotBusy(() => this.semaphores.post(SLEEPERS));
    const depth = await this.releaseLock().catch(async (error: unknown) => {
      await this.unregister();
      throw error;
    });
    let woken = false;
    let failure: unknown;
    try {
      woken = await tryOperate(() => this.semaphores.wait(WAKEUPS, 1, semop));
    } catch (error) {
      failure = error;
    }
    if (this.isClosed) {
      // The close gave the set up (its registration goes with it) and closes the lock too when
      // it is the condition's own: take back only a lock that stays open, held as before.
      if (!this.closesLock()) await this.restoreLock(depth);
      throw closedObject('condition', 'wait');
    }
    if (!woken) await this.unregister();
    await this.restoreLock(depth);
    if (failure !== undefined) throw failure;
    return woken;
  }

  /**
   * Waits until `predicate()` is true, re-checking after each notify (Python's `wait_for`).
   * Resolves with the predicate's last result (falsy when `timeout` passed first).
   */
  async waitFor<T>(predicate: () => T | Promise<T>, options?: Omit<AcquireOptions, 'nowait'>): Promise<T> {
    const deadline = deadlineOf(options);
    let result = await predicate();
    while (!result) {
      const remaining = deadline.until - performance.now();
      if (remaining <= 0) break;
      await this.wait({ ...(remaining === Infinity ? {} : { timeout: remaining }), ...(deadline.signal ? { signal: deadline.signal } : {}) });
      result = await predicate();
    }
    return result;
  }

  /**
   * Wakes up to `n` (default 1) processes waiting now (one `semop` with `IPC_NOWAIT`, applied on
   * the calling thread: it never waits). Call it holding the lock.
   */
  async notify(n = 1): Promise<void> {
    this.checkOpen('notify');
    if (!(n >= 0)) throw new RangeError('n must be a number >= 0');
    for (;;) {
      const moved = Math.min(n, await whenNotBusy(() => this.semaphores.value(SLEEPERS)));
      if (moved === 0) return;
      // A timed-out sleeper may take its registration back between the read and this semop:
      // the nowait semop then fails whole (EAGAIN) and we read again.
      const applied = await tryOperate(() =>
        this.semaphores.operate(
          [
            { index: SLEEPERS, delta: -moved },
            { index: WAKEUPS, delta: moved },
          ],
          { nowait: true },
        ),
      );
      if (applied) return;
    }
  }

  /** Wakes every process waiting now. */
  notifyAll(): Promise<void> {
    return this.notify(Infinity);
  }

  /**
   * Gives up this handle (the creator's close removes the condition, and the lock if it made it).
   * A `wait` of this handle still waiting rejects with `CLOSED`.
   */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    await release(this.owner, [this.semaphores]);
    if (this.closesLock()) await this.lock.close();
  }

  /** True if {@link Condition.close} closes the lock too (one it made, or this process's copy of a received one). */
  private closesLock(): boolean {
    return this.ownsLock || !this.owner;
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
    return { kind: 'condition', data: { semaphores: this.semaphores.id, lock: packForValue(this.lock) } };
  }

  private async unregister(): Promise<void> {
    // Take the registration back; if a notify turned it into a token already, take the token.
    const unregistered = await tryOperate(() => this.semaphores.operate([{ index: SLEEPERS, delta: -1 }], { nowait: true }));
    if (!unregistered) await this.semaphores.wait(WAKEUPS, 1);
  }

  private async releaseLock(): Promise<number> {
    if (this.lock instanceof RLock) return this.lock.releaseAll();
    try {
      await this.lock.release();
    } catch (error) {
      if ((error as { code?: string }).code === ErrorCode.overRelease) throw new MultiprocessingError(ErrorCode.notOwner, 'wait() on a condition whose lock is not held');
      throw error;
    }
    return 1;
  }

  private async restoreLock(depth: number): Promise<void> {
    for (;;) {
      try {
        if (this.lock instanceof RLock) await this.lock.restore(depth);
        else await this.lock.acquire();
        return;
      } catch (error) {
        if (!isIpcError(error, 'EINTR')) throw error;
      }
    }
  }

  private checkOpen(operation: string): void {
    if (this.isClosed) throw closedObject('condition', operation);
  }
}

registerReviver('condition', async (data, backend) => {
  const { semaphores, lock } = data as { semaphores: number; lock: unknown };
  const revivedLock = (await reviveValue(lock, backend)) as Lock | RLock;
  return new Condition(revivedLock, await backend.semaphores.openById(semaphores), false);
});
