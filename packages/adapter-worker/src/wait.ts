/**
 * Waiting on the emulated kernel: `Atomics.waitAsync` on an object's wait cell (its seq, bumped and
 * notified by the kernel on every state change of that object, whichever thread made it), plus
 * cancellation by AbortSignal, timeout or close with the same codes as the native backend.
 *
 * A wait is never a busy loop: after a short bounded spin (a peer in another thread often answers
 * within microseconds) the wait sleeps in `Atomics.waitAsync`. Cancelling notifies the cell, which
 * really ends the sleeping wait; other waiters on the same object see a spurious wakeup, re-check
 * and sleep again.
 */
import { AbortError, IpcError, abortErrorFor, closedError, type WaitOptions } from '@ipcx/core';
import type { Kernel } from './kernel.js';

/** Why a pending operation was cancelled. */
export type CancelReason = 'abort' | 'timeout' | 'close';

/** What an attempt returns when the kernel answered -EINTR (locked): try again shortly. */
export const BUSY: unique symbol = Symbol('busy');

/** Loads of the cell before sleeping. */
const SPIN_LOADS = 200;

/** What an attempt returns when the operation would still have to wait. */
export const WOULD_BLOCK: unique symbol = Symbol('ipcx.wouldBlock');

/**
 * Longest spin before an operation parks, in milliseconds (20 µs): the native backend's policy
 * (its `src/wait.ts` and DEVELOPING.md give the measurements). Waking a thread parked in
 * `Atomics.waitAsync` costs tens of µs here (PERF-FLOOR.md); a peer in a tight exchange answers
 * well within the window, so both sides complete without sleeping.
 */
export const MAX_SPIN_MS = 0.02;
/** Below this window spinning is switched off; it is tried again every PROBE_EVERY parks. */
const MIN_SPIN_MS = 0.0025;
const PROBE_EVERY = 16;
/**
 * A parked operation that still completed this soon after it started (150 µs) had a peer in a tight
 * exchange that was itself parked: each side's spin ends before the other side's wake-up (tens of
 * µs in `Atomics.waitAsync`), so both would park on every exchange for good. The next spin gets a
 * window of CATCH_UP_MS, longer than a wake-up, which catches the peer's answer and puts both sides
 * back into spinning (then MAX_SPIN_MS again).
 */
const REWARM_MS = 0.15;
const CATCH_UP_MS = 0.15;
/** A parked operation that completed this soon after its spin gave up had a peer that could not run while this side spun (one CPU): spinning only delays it. */
const STARVED_PEER_MS = 0.01;
/** Loads of the cell between two looks at the clock. */
const LOADS_PER_CLOCK = 32;

/**
 * The adaptive spin of one stream direction (the native backend's `SpinWindow`, spinning on a wait
 * cell instead of retrying a call): how long an operation that cannot complete watches the
 * object's wait cell, retrying each time it changes, before it parks. Full after a spin that
 * caught the peer, longer once after a park the peer ended soon (REWARM_MS); halved after each spin that did not;
 * off below MIN_SPIN_MS, then probed again every PROBE_EVERY parks. So an idle waiter spends at
 * most one window of CPU, and a busy exchange completes without sleeping.
 */
export class SpinWindow {
  private windowMs = MAX_SPIN_MS;
  private parks = 0;
  /** When the last spin gave up (`performance.now()`); NaN when the last operation did not spin. */
  private gaveUpAt = Number.NaN;

  /**
   * Watches `cells[index]`, which held `seen` before the caller's failed attempt, and runs
   * `attempt` each time it changes, until `attempt` gives something other than WOULD_BLOCK or the
   * window (at most `limitMs`) closes. Synchronous: holds the thread for at most CATCH_UP_MS.
   */
  spin<T>(cells: Int32Array, index: number, seen: number, attempt: () => T | typeof WOULD_BLOCK, limitMs = Infinity): T | typeof WOULD_BLOCK {
    if (this.windowMs === 0) {
      if (++this.parks % PROBE_EVERY !== 0) {
        this.gaveUpAt = Number.NaN;
        return WOULD_BLOCK;
      }
      this.windowMs = MIN_SPIN_MS;
    }
    const deadline = performance.now() + Math.min(this.windowMs, limitMs);
    for (;;) {
      let loads = 0;
      let now = 0;
      let value: number;
      while ((value = Atomics.load(cells, index)) === seen) {
        if (++loads % LOADS_PER_CLOCK === 0 && (now = performance.now()) >= deadline) {
          this.gaveUpAt = now;
          this.windowMs = this.windowMs / 2 < MIN_SPIN_MS ? 0 : this.windowMs / 2;
          return WOULD_BLOCK;
        }
      }
      seen = value;
      const result = attempt();
      if (result !== WOULD_BLOCK) {
        this.windowMs = MAX_SPIN_MS;
        return result;
      }
      // The cell can keep changing for other reasons (the other direction of a duplex pipe).
      if ((now = performance.now()) >= deadline) {
        this.gaveUpAt = now;
        this.windowMs = this.windowMs / 2 < MIN_SPIN_MS ? 0 : this.windowMs / 2;
        return WOULD_BLOCK;
      }
    }
  }

  /** A parked operation that began (before its spin) at `startedAt` (`performance.now()`, NaN if it did not spin) completed. */
  parked(startedAt: number): void {
    // Without a spin (switched off) there is nothing to learn: the periodic probe reopens it.
    if (Number.isNaN(this.gaveUpAt) || Number.isNaN(startedAt)) return;
    const now = performance.now();
    if (now - this.gaveUpAt < STARVED_PEER_MS) this.windowMs = 0;
    else if (now - startedAt < REWARM_MS) this.windowMs = CATCH_UP_MS;
  }
}

/**
 * Watches `options.signal` and `timeoutMs` for one pending operation; calls `onCancel` once with
 * the reason. Call the returned function when the operation settles otherwise.
 */
export function watchCancellation(options: WaitOptions | undefined, timeoutMs: number, onCancel: (reason: CancelReason) => void): () => void {
  const signal = options?.signal;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let done = false;
  const cleanup = () => {
    done = true;
    if (timer !== undefined) clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  };
  const fire = (reason: CancelReason) => {
    if (done) return;
    cleanup();
    onCancel(reason);
  };
  const onAbort = () => fire('abort');
  // The signal may have fired while the operation was on its way here (e.g. after an awaited first step).
  if (signal?.aborted) {
    queueMicrotask(onAbort);
    return cleanup;
  }
  signal?.addEventListener('abort', onAbort, { once: true });
  if (Number.isFinite(timeoutMs)) timer = setTimeout(() => fire('timeout'), timeoutMs);
  return cleanup;
}

/** The rejection for a cancelled operation. */
export function cancellationError(reason: CancelReason, options: WaitOptions | undefined, details: { syscall: string; object: string; path?: string }): Error {
  if (reason === 'abort') return options?.signal ? abortErrorFor(options.signal) : new AbortError();
  if (reason === 'close') return closedError(details.object, details.syscall);
  return new IpcError('ETIMEDOUT', { syscall: details.syscall, object: details.object, path: details.path });
}

/**
 * Resolves once the 32-bit cell at byte address `address` no longer holds `seen` (or it is
 * notified). Spins briefly first; keeps the thread alive while sleeping.
 */
export function waitForChange(kernel: Kernel, address: number, seen: number, timeoutMs = Infinity): Promise<void> {
  const index = address >>> 2;
  for (let i = 0; i < SPIN_LOADS; i++) {
    if (Atomics.load(kernel.cells, index) !== seen) return Promise.resolve();
  }
  const result = Atomics.waitAsync(kernel.cells, index, seen, timeoutMs);
  if (!result.async) return Promise.resolve();
  kernel.holdAlive();
  return result.value.then(() => kernel.releaseAlive());
}

/** Wakes every waiter on the cell at `address` (used to end a cancelled wait). */
export function wakeCell(kernel: Kernel, address: number): void {
  Atomics.notify(kernel.cells, address >>> 2);
}

/**
 * Runs `attempt` until it returns something other than `undefined` or {@link BUSY}, sleeping on
 * the wait cell in between (1 ms at most after BUSY: the kernel was locked, which no state change
 * may announce); `signal` and `timeout` end it. For one-off waits such as a FIFO open.
 */
export function waitUntil<T>(
  kernel: Kernel,
  address: number,
  attempt: () => T | undefined | typeof BUSY,
  options: WaitOptions | undefined,
  timeoutMs: number,
  details: { syscall: string; object: string; path?: string },
  onCancel: () => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let cancelled = false;
    const stop = watchCancellation(options, timeoutMs, (reason) => {
      cancelled = true;
      onCancel();
      wakeCell(kernel, address);
      reject(cancellationError(reason, options, details));
    });
    const step = (): void => {
      if (cancelled) return;
      const seen = Atomics.load(kernel.cells, address >>> 2);
      let value: T | undefined | typeof BUSY;
      try {
        value = attempt();
      } catch (error) {
        stop();
        reject(error);
        return;
      }
      if (value !== undefined && value !== BUSY) {
        stop();
        resolve(value);
        return;
      }
      void waitForChange(kernel, address, seen, value === BUSY ? 1 : Infinity).then(step);
    };
    step();
  });
}
