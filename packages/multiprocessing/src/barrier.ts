/**
 * Barrier: Python's `multiprocessing.Barrier`, over a {@link Lock} and a small shared segment:
 *
 * ```
 *  byte 0          4            8         12           16                 20         64
 *  ┌──────────────┬────────────┬─────────┬────────────┬──────────────────┬──────────┐
 *  │ COUNT        │ GENERATION │ BROKEN  │ WAITERS    │ BROKEN_AT        │ (unused) │
 *  │ arrived now  │ ends (seq) │ 0 / 1   │ parked     │ generation + 1   │          │
 *  │              │            │         │            │ that was broken  │          │
 *  └──────────────┴────────────┴─────────┴────────────┴──────────────────┴──────────┘
 * ```
 * An arrival takes the lock, counts itself and, if it is the last of `parties`, runs the action,
 * zeroes COUNT and bumps GENERATION (waking everyone parked on it); else it parks on GENERATION
 * until it changes. Breaking records which generation broke (BROKEN_AT) before it bumps
 * GENERATION, so a woken waiter knows whether its generation tripped or broke.
 *
 * On a backend without shared memory (Redis) the same cells are semaphores of a set and waiters
 * wait on a gate per generation's parity ({@link SemaphoreBarrierState}, barrier-fallback.ts).
 */
import type { IpcBackend, SysvSegment } from '@ipcx/core';
import { moduleTransferSymbol, type ModuleTransfer } from '@ipcx/core';
import { BarrierCell, SemaphoreBarrierState, type BarrierState } from './barrier-fallback.js';
import { ErrorCode, MultiprocessingError } from './errors.js';
import { closedObject, createSegment, release } from './kernel-objects.js';
import { Lock } from './lock.js';
import { packForValue, registerReviver, reviveValue, shareSymbol, transferByModule, type Shareable, type ShareRecord } from './share.js';
import { hasSharedMemory } from './transport-select.js';
import { deadlineOf, park, publish, type Deadline, type ParkCells } from './wait.js';
import type { WaitOptions } from '@ipcx/core';

export { BarrierCell } from './barrier-fallback.js';
/** Bytes of the barrier's segment. */
export const BARRIER_BYTES = 64;

/** Options of {@link Barrier.create}. */
export interface BarrierOptions {
  /** Run by the last process to arrive, before the others are released (in processes whose handle has it). */
  readonly action?: () => unknown;
  /** Default timeout of {@link Barrier.wait} in ms. */
  readonly timeout?: number;
}

/**
 * A barrier for `parties` processes.
 *
 * **Blocking**: `wait` waits (without blocking the event loop) until `parties` processes have
 * called it; `timeout` (default: the barrier's) breaks the barrier, as in Python.
 *
 * **Atomic**: arrivals are counted under a robust {@link Lock}.
 *
 * **Crash**: a party that dies while waiting still counts as arrived (as in Python); one that
 * dies before arriving leaves the others waiting until their timeout, or `abort()`. Broken:
 * every waiter and later `wait` reject with `BROKEN_BARRIER` until `reset()`.
 */
export class Barrier implements Shareable, AsyncDisposable {
  private isClosed = false;
  /** Run by this process when it is the last to arrive. */
  action: (() => unknown) | undefined;

  /** @internal Use {@link Barrier.create}. */
  constructor(
    /** The number of processes that must arrive. */ readonly parties: number,
    private readonly lock: Lock,
    private readonly state: BarrierState,
    private readonly owner: boolean,
    private readonly defaultTimeout: number | undefined,
  ) {}

  /** Makes a barrier for `parties` processes owned by this process (its close removes it). */
  static async create(backend: IpcBackend, parties: number, options: BarrierOptions = {}): Promise<Barrier> {
    if (!Number.isInteger(parties) || parties < 1 || parties > 0x7fffffff) throw new RangeError('parties must be an integer >= 1');
    if (options.action !== undefined && typeof options.action !== 'function') throw new TypeError('action must be a function');
    const lock = await Lock.create(backend);
    let state: BarrierState;
    try {
      state = hasSharedMemory(backend) ? new SegmentBarrierState(await createSegment(backend, BARRIER_BYTES, 'Barrier')) : await SemaphoreBarrierState.create(backend);
    } catch (error) {
      await lock.close();
      throw error;
    }
    const barrier = new Barrier(parties, lock, state, true, options.timeout);
    barrier.action = options.action;
    return barrier;
  }

  /** True once this handle is closed. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Processes waiting at the barrier now. Throws `CLOSED` after close. */
  get nWaiting(): number {
    this.checkOpen('nWaiting');
    return this.state.load(BarrierCell.COUNT);
  }

  /** True if the barrier is broken. Throws `CLOSED` after close. */
  get broken(): boolean {
    this.checkOpen('broken');
    return this.state.load(BarrierCell.BROKEN) !== 0;
  }

  /**
   * Arrives and waits for the others. Resolves with this arrival's index (0 to parties - 1).
   * Rejects with `BROKEN_BARRIER` if the barrier is or becomes broken (timeout, abort, reset, a
   * failing action), `AbortError` on `signal` (which breaks it too, as a timeout does), `CLOSED`
   * after close, also when this handle is closed while it waits (which breaks nothing). A timeout
   * or signal that fires after the last party arrived (while its action runs) comes too late:
   * the wait resolves, as the others do.
   */
  async wait(options?: WaitOptions): Promise<number> {
    this.checkOpen('wait');
    const deadline = deadlineOf(options?.timeout === undefined && this.defaultTimeout !== undefined ? { ...options, timeout: this.defaultTimeout } : options);
    await this.lock.acquire();
    let generation: number;
    let index: number;
    try {
      if (this.broken) throw brokenError();
      generation = this.state.load(BarrierCell.GENERATION);
      index = this.state.arrive();
      if (index + 1 === this.parties) {
        try {
          if (this.action !== undefined) await this.action();
        } catch (error) {
          this.breakNow();
          throw error;
        }
        this.state.store(BarrierCell.COUNT, 0);
        this.state.endGeneration();
        return index;
      }
    } finally {
      await this.lock.release();
    }
    let passed: boolean;
    try {
      passed = await this.state.awaitEnd(generation, deadline);
    } catch (error) {
      // Cut short by this handle's close: this process left, the others may still meet.
      if (this.isClosed) throw closedObject('barrier', 'wait');
      if (await this.giveUp(generation)) return index;
      throw error;
    }
    if (!passed) {
      if (await this.giveUp(generation)) return index;
      throw brokenError();
    }
    if (this.state.load(BarrierCell.BROKEN_AT) === this.state.after(generation)) throw brokenError();
    return index;
  }

  /**
   * A waiter of `generation` gives up (timeout, signal): breaks that generation if it is still
   * the current one. The last party may have ended it between the deadline and this lock (it
   * runs the action holding the lock): then the waiter passed, as in Python, and breaking now
   * would break the next generation. True if `generation` tripped.
   */
  private async giveUp(generation: number): Promise<boolean> {
    await this.lock.acquire();
    try {
      if (this.state.load(BarrierCell.GENERATION) === generation) {
        this.breakNow();
        return false;
      }
      return this.state.load(BarrierCell.BROKEN_AT) !== this.state.after(generation);
    } finally {
      await this.lock.release();
    }
  }

  /** Breaks the barrier: every waiter and later `wait` reject with `BROKEN_BARRIER` until {@link Barrier.reset}. */
  async abort(): Promise<void> {
    this.checkOpen('abort');
    await this.lock.acquire();
    try {
      this.breakNow();
    } finally {
      await this.lock.release();
    }
  }

  /** Returns the barrier to its empty state; processes waiting now reject with `BROKEN_BARRIER`. */
  async reset(): Promise<void> {
    this.checkOpen('reset');
    await this.lock.acquire();
    try {
      // Waiters of the current generation learn it broke; the next generation starts clean.
      if (this.state.load(BarrierCell.COUNT) > 0) this.breakNow();
      this.state.store(BarrierCell.COUNT, 0);
      this.state.store(BarrierCell.BROKEN, 0);
    } finally {
      await this.lock.release();
    }
  }

  /** Gives up this handle (the creator's close removes the barrier). A `wait` of this handle still waiting rejects with `CLOSED`. */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    await this.state.close(this.owner);
    await this.lock.close();
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
    return { kind: 'barrier', data: { parties: this.parties, ...this.state.record(), lock: packForValue(this.lock), timeout: this.defaultTimeout } };
  }

  private breakNow(): void {
    // Already broken: nobody waits in the current generation (a wait on a broken barrier rejects
    // at once), and moving it again would overwrite BROKEN_AT before every waiter of the broken
    // generation has read it (such a waiter would then take its generation for passed).
    if (this.state.load(BarrierCell.BROKEN) !== 0) return;
    const generation = this.state.load(BarrierCell.GENERATION);
    this.state.store(BarrierCell.BROKEN, 1);
    this.state.store(BarrierCell.COUNT, 0);
    // Which generation broke, before waking its waiters: they read it once GENERATION moved.
    this.state.store(BarrierCell.BROKEN_AT, this.state.after(generation));
    this.state.endGeneration();
  }

  private checkOpen(operation: string): void {
    if (this.isClosed) throw closedObject('barrier', operation);
  }
}

function brokenError(): MultiprocessingError {
  return new MultiprocessingError(ErrorCode.brokenBarrier, 'the barrier is broken');
}

/** A barrier's state in the cells of a shared segment (the layout above). */
class SegmentBarrierState implements BarrierState {
  private readonly cells: Int32Array;
  private readonly where: ParkCells;

  constructor(private readonly segment: SysvSegment) {
    this.cells = new Int32Array(segment.buffer, 0, BARRIER_BYTES / 4);
    this.where = { segment, cells: this.cells, cell: BarrierCell.GENERATION, waiters: BarrierCell.WAITERS };
  }

  load(cell: number): number {
    return Atomics.load(this.cells, cell);
  }

  store(cell: number, value: number): void {
    Atomics.store(this.cells, cell, value);
  }

  arrive(): number {
    return Atomics.add(this.cells, BarrierCell.COUNT, 1);
  }

  after(generation: number): number {
    return (generation + 1) | 0;
  }

  endGeneration(): void {
    publish(this.where, BarrierCell.GENERATION, BarrierCell.WAITERS);
  }

  awaitEnd(generation: number, deadline: Deadline): Promise<boolean> {
    return park(this.where, () => Atomics.load(this.cells, BarrierCell.GENERATION) !== generation, deadline);
  }

  async close(owner: boolean): Promise<void> {
    await release(owner, [this.segment]);
  }

  record(): { segment: number } {
    return { segment: this.segment.id };
  }
}

registerReviver('barrier', async (data, backend) => {
  const { parties, segment, semaphores, lock, timeout } = data as { parties: number; segment?: number; semaphores?: number; lock: unknown; timeout: number | undefined };
  const revivedLock = (await reviveValue(lock, backend)) as Lock;
  const state = semaphores !== undefined ? await SemaphoreBarrierState.revive(backend, { semaphores }) : new SegmentBarrierState(await backend.sharedMemory.attachSysv(segment!));
  return new Barrier(parties, revivedLock, state, false, timeout);
});
