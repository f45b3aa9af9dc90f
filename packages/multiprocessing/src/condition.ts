/**
 * Condition: Python's `multiprocessing.Condition`, a condition variable between processes over a
 * {@link Lock} or {@link RLock} and a System V semaphore set:
 *
 * ```
 *  index 0 WAKEUPS   tokens handed to sleepers by notify
 *  index 1 SLEEPERS  processes registered in wait and not yet handed a token
 *  index 2 INSIDE    live processes inside wait (SEM_UNDO: a dead waiter's 1 goes back to 0)
 * ```
 * A waiter registers (SLEEPERS + 1, INSIDE + 1) while it holds the lock, releases the lock and
 * takes a token (WAKEUPS - 1, INSIDE - 1). `notify(n)` moves up to n registrations to tokens in
 * one `semop`, so it wakes at most n waiters and only waiters that were registered when it was
 * called. A waiter that times out takes its registration back, or, if a notify already turned it
 * into a token, takes that token (with INSIDE - 1 in the same `semop`). So SLEEPERS + WAKEUPS is
 * INSIDE plus the waiters that died inside `wait`, whose registration (or token) no `semop` of
 * theirs will take back: the kernel's undo takes only their INSIDE. `notify` removes that excess
 * first (from SLEEPERS, then WAKEUPS), so that it neither spends a wake-up on the dead nor leaves
 * a token that would wake a later `wait` that nobody notified.
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
const INSIDE = 2;

/**
 * A condition variable between processes.
 *
 * **Blocking**: `wait` releases the lock, waits (without blocking the event loop) for a notify,
 * `timeout` or `signal`, and takes the lock again before it resolves (also on timeout and abort),
 * as in Python. `notify`/`notifyAll` never wait; call them holding the lock.
 *
 * **Atomic**: registering, notifying and taking a wake-up are single `semop` calls.
 *
 * **Crash**: the lock is robust (see {@link Lock}); a process killed inside `wait` is forgotten by
 * the next `notify` (the kernel's `SEM_UNDO` counts it out): no wake-up is spent on it and none is
 * left over for a later `wait`. Python's Condition keeps the dead waiter's registration (and holds
 * the lock forever besides).
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
    const condition = new Condition(theLock, await createSemaphores(backend, [0, 0, 0]), true);
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
    // INSIDE with SEM_UNDO: if this process dies inside wait, the kernel takes its 1 back, and
    // notify sees the registration (or token) it left as one too many.
    await this.register();
    const depth = await this.releaseLock().catch(async (error: unknown) => {
      await this.unregister();
      throw error;
    });
    let woken = false;
    let failure: unknown;
    try {
      woken = await tryOperate(() =>
        this.semaphores.operate(
          [
            { index: WAKEUPS, delta: -1 },
            { index: INSIDE, delta: -1, undo: true },
          ],
          semop,
        ),
      );
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
    if (typeof n !== 'number') throw new TypeError(`notify(n): n must be a number, not ${typeof n}`);
    if (n !== Infinity && !(Number.isInteger(n) && n >= 0)) throw new RangeError(`notify(n): n must be an integer >= 0 or Infinity, not ${n}`);
    await this.forgetDead();
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

  private async register(): Promise<void> {
    for (;;) {
      try {
        await this.semaphores.operate([
          { index: SLEEPERS, delta: 1 },
          { index: INSIDE, delta: 1, undo: true },
        ]);
        return;
      } catch (error) {
        if (!isIpcError(error, 'EINTR')) throw error;
      }
    }
  }

  private async unregister(): Promise<void> {
    // Take the registration back; if a notify turned it into a token already, take the token.
    const unregistered = await tryOperate(() =>
      this.semaphores.operate(
        [
          { index: SLEEPERS, delta: -1 },
          { index: INSIDE, delta: -1, undo: true },
        ],
        { nowait: true },
      ),
    );
    if (!unregistered)
      await this.semaphores.operate([
        { index: WAKEUPS, delta: -1 },
        { index: INSIDE, delta: -1, undo: true },
      ]);
  }

  /**
   * Takes out the registrations (or tokens) of waiters that died inside `wait`: the excess of
   * SLEEPERS + WAKEUPS over INSIDE (read together). Live waiters keep the counts in step in single
   * `semop`s, so the excess is exactly the dead. Registrations go first: a live waiter's token
   * must not be taken (a lost wake-up); taking a live registration instead of a dead waiter's token
   * (it died after a notify, before it took the token) costs that waiter an early wake-up at worst.
   * A waiter timing out or waking meanwhile makes the nowait `semop` fail whole: read again.
   */
  private async forgetDead(): Promise<void> {
    for (;;) {
      const values = await whenNotBusy(() => this.semaphores.values());
      const sleepers = values[SLEEPERS]!;
      const wakeups = values[WAKEUPS]!;
      const dead = sleepers + wakeups - values[INSIDE]!;
      if (dead <= 0) return;
      const fromSleepers = Math.min(dead, sleepers);
      const operations = [
        ...(fromSleepers > 0 ? [{ index: SLEEPERS, delta: -fromSleepers }] : []),
        ...(dead > fromSleepers ? [{ index: WAKEUPS, delta: -(dead - fromSleepers) }] : []),
      ];
      if (await tryOperate(() => this.semaphores.operate(operations, { nowait: true }))) return;
    }
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
