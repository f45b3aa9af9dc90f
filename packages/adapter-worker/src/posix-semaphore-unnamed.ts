/**
 * Unnamed POSIX semaphores on the worker backend (`sem_init(sem, 1, value)` inside a shared
 * segment): the counter is the Int32 cell at `byteOffset` of the segment's memory, so every thread
 * that maps the segment uses the same counter, and the semaphore travels to children with its
 * segment. The rest of the 32 bytes a `sem_t` takes is left zero.
 *
 * ```
 *   segment memory at byteOffset (POSIX_SEMAPHORE_BYTES, aligned to POSIX_SEMAPHORE_ALIGN)
 *   ┌──────────────┬─────────────────────────────┐
 *   │ i32 value    │ unused (zero after init)    │
 *   └──────────────┴─────────────────────────────┘
 * ```
 *
 * `wait` takes a unit with a compare-and-swap (decrement only if positive); with none, it sleeps
 * in the segment's futex wait on that cell (the kernel's queue, see shared-memory.ts) rather than
 * a bare `Atomics.waitAsync`: a cancelled `Atomics.waitAsync` cannot leave V8's queue, so it could
 * absorb the one wake a `post` sends and leave a real waiter asleep. `post` adds one and wakes one.
 */
import {
  completedNow,
  IpcError,
  POSIX_SEMAPHORE_ALIGN,
  POSIX_SEMAPHORE_BYTES,
  SEM_VALUE_MAX,
  abortErrorFor,
  closedError,
  transferSymbol,
  type PosixSemaphore,
  type PosixSemaphoreWaitOptions,
  type SharedSegment,
  type TransferRecord,
} from '@ipcx/core';
import { checkPosixSemaphoreInitial, checkPosixSemaphorePlace, checkPosixSemaphoreWait } from '@ipcx/core/backend';
import { registerReviver } from './kernel.js';
import { WorkerSegment } from './shared-memory.js';

const KIND = 'posix-semaphore-unnamed';

/** An unnamed semaphore: an Int32 counter inside a segment's memory. */
class WorkerUnnamedSemaphore implements PosixSemaphore {
  readonly name = '';
  private isClosed = false;
  private readonly cells: Int32Array;
  private readonly index: number;
  private readonly objectName: string;
  /** Waits in flight, ended (EBADF) by close. */
  private readonly pending = new Set<AbortController>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly tracker = { describe: () => this.objectName, close: () => this.close() };

  constructor(
    private readonly segment: WorkerSegment,
    private readonly byteOffset: number,
    /** True when this handle mapped the segment itself (revived in a child) and so closes it. */
    private readonly ownsSegment: boolean,
  ) {
    // `buffer` throws EBADF for a closed segment and EACCES for a read-only one (sem_post writes).
    this.cells = new Int32Array(segment.buffer);
    this.index = byteOffset / 4;
    this.objectName = `unnamed POSIX semaphore at byte ${byteOffset}`;
    segment.addDependent(this);
    segment.kernel.open.add(this.tracker);
  }

  /** What `JSON.stringify` gives: a short description (not the segment's memory). */
  toJSON(): { object: string; closed: boolean } {
    return { object: this.objectName, closed: this.closed };
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Takes a unit if there is one (never waits). */
  private take(): boolean {
    for (let value = Atomics.load(this.cells, this.index); value > 0; ) {
      const seen = Atomics.compareExchange(this.cells, this.index, value, value - 1);
      if (seen === value) return true;
      value = seen;
    }
    return false;
  }

  /**
   * `sem_wait`: takes one unit, sleeping while the value is zero. `EAGAIN` (`nowait`), `ETIMEDOUT`
   * (`timeout`), `AbortError` (`signal`), `EBADF` (closed, or its segment closed).
   */
  wait(options?: PosixSemaphoreWaitOptions): Promise<void> {
    try {
      const { nowait: wantNowait, signal, timeoutMs } = checkPosixSemaphoreWait(options);
      this.ensureOpen('sem_wait');
      if (signal?.aborted) throw abortErrorFor(signal);
      if (this.take()) return completedNow(undefined);
      if (wantNowait) throw new IpcError('EAGAIN', { syscall: 'sem_trywait', object: this.objectName });
      if (timeoutMs === 0) throw new IpcError('ETIMEDOUT', { syscall: 'sem_timedwait', object: this.objectName });
      const waiting = this.sleep(signal, timeoutMs);
      this.inFlight.add(waiting);
      const forget = () => this.inFlight.delete(waiting);
      waiting.then(forget, forget);
      return waiting;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private async sleep(signal: AbortSignal | undefined, timeoutMs: number): Promise<void> {
    const syscall = Number.isFinite(timeoutMs) ? 'sem_timedwait' : 'sem_wait';
    const deadline = Date.now() + timeoutMs;
    // Close aborts this controller; the caller's signal is passed on to each futex wait.
    const closing = new AbortController();
    this.pending.add(closing);
    try {
      for (;;) {
        if (this.take()) return;
        if (closing.signal.aborted) throw closedError(this.objectName, syscall);
        const left = deadline - Date.now();
        if (left <= 0) throw new IpcError('ETIMEDOUT', { syscall, object: this.objectName });
        const either = signal === undefined ? closing.signal : AbortSignal.any([signal, closing.signal]);
        let outcome: string;
        try {
          outcome = await this.segment.wait(this.index, 0, { signal: either, ...(Number.isFinite(left) ? { timeout: left } : {}) });
        } catch (error) {
          // A wake counted for this waiter ends the futex wait with 'ok', never with an error: no unit is lost.
          if (closing.signal.aborted || (error as IpcError).code === 'EBADF') throw closedError(this.objectName, syscall);
          if (signal?.aborted) throw abortErrorFor(signal);
          throw error;
        }
        if (outcome === 'timed-out' && !this.take()) throw new IpcError('ETIMEDOUT', { syscall, object: this.objectName });
      }
    } finally {
      this.pending.delete(closing);
    }
  }

  /** `sem_trywait`: true if it took a unit, false (the kernel's EAGAIN) if the value is zero. `EBADF` after close. */
  tryWait(): boolean {
    this.ensureOpen('sem_trywait');
    return this.take();
  }

  /** `sem_post`: adds one unit and wakes one waiter. `EOVERFLOW` at SEM_VALUE_MAX, `EBADF` after close. */
  post(): void {
    this.ensureOpen('sem_post');
    for (let value = Atomics.load(this.cells, this.index); ; ) {
      if (value >= SEM_VALUE_MAX) throw new IpcError('EOVERFLOW', { syscall: 'sem_post', object: this.objectName });
      const seen = Atomics.compareExchange(this.cells, this.index, value, value + 1);
      if (seen === value) break;
      value = seen;
    }
    // After the increment: a waiter that compared 0 is queued and woken; one that comes later sees the unit.
    this.segment.notify(this.index, 1);
  }

  /** `sem_getvalue` (never negative). `EBADF` after close. */
  value(): number {
    this.ensureOpen('sem_getvalue');
    return Math.max(0, Atomics.load(this.cells, this.index));
  }

  /** Ends pending waits (`EBADF`) and gives up this handle; a handle revived in a child also unmaps its segment. */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const closing of this.pending) closing.abort();
    await Promise.allSettled([...this.inFlight]);
    this.segment.kernel.open.delete(this.tracker);
    this.segment.removeDependent(this);
    if (this.ownsSegment) await this.segment.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Travels with its segment: the child gets the segment's mapping and the same offset. */
  [transferSymbol](): TransferRecord {
    this.ensureOpen('transfer');
    const segment = this.segment[transferSymbol]();
    return { kind: KIND, handles: segment.handles, data: { kernel: this.segment.kernel.id, segment, byteOffset: this.byteOffset } };
  }

  private ensureOpen(syscall: string): void {
    if (this.isClosed) throw closedError(this.objectName, syscall);
  }
}

/** Checks the placement as the native backend does, before touching the segment. */
function place(segment: SharedSegment, byteOffset: number, ownsSegment: boolean): WorkerUnnamedSemaphore {
  if (!(segment instanceof WorkerSegment)) throw new TypeError('segment must be a shared-memory segment of the worker backend');
  checkPosixSemaphorePlace(segment.size, byteOffset);
  return new WorkerUnnamedSemaphore(segment, byteOffset, ownsSegment);
}

/**
 * `sem_init(sem, 1, initial)` at `byteOffset` of `segment`: overwrites those 32 bytes and returns a
 * handle. `RangeError` for a misplaced offset or a bad `initial`, `TypeError` for a segment of
 * another backend, `EACCES` for a read-only segment, `EBADF` for a closed one.
 */
export async function initUnnamed(segment: SharedSegment, byteOffset: number, initial?: number): Promise<PosixSemaphore> {
  const value = checkPosixSemaphoreInitial(initial);
  const semaphore = place(segment, byteOffset, false);
  const bytes = new Uint8Array((segment as WorkerSegment).buffer, byteOffset, POSIX_SEMAPHORE_BYTES);
  bytes.fill(0);
  // Published with a store other threads' Atomics loads see.
  Atomics.store(new Int32Array((segment as WorkerSegment).buffer), byteOffset / 4, value);
  return semaphore;
}

/** A handle on the unnamed semaphore some thread initialized at `byteOffset` of `segment`. Errors as for {@link initUnnamed}. */
export async function attachUnnamed(segment: SharedSegment, byteOffset: number): Promise<PosixSemaphore> {
  return place(segment, byteOffset, false);
}

// A child gets the segment's mapping with the semaphore; the semaphore owns (and closes) it.
registerReviver(KIND, (kernel, record) => {
  const { segment, byteOffset } = record.data as { segment: TransferRecord; byteOffset: number };
  const mapped = kernel.revive({ ...segment, handles: record.handles }) as WorkerSegment;
  return place(mapped, byteOffset, true);
});
