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
import type { WaitOptions } from '@ipcx/core';
import { cancellationError, watchCancellation, type CancelReason } from '@ipcx/core/backend';
import type { Kernel } from './kernel.js';

// The cancellation plumbing is core's (@ipcx/core/backend); re-exported for this package's files.
export { cancellationError, watchCancellation, type CancelReason };

/** What an attempt returns when the kernel answered -EINTR (locked): try again shortly. */
export const BUSY: unique symbol = Symbol('busy');

/** Loads of the cell before sleeping. */
const SPIN_LOADS = 200;

/** What an attempt returns when the operation would still have to wait. */
export const WOULD_BLOCK: unique symbol = Symbol('ipcx.wouldBlock');

/**
 * The spin policy is the native backend's (`adapter-native/src/wait.ts`, measurements in
 * DEVELOPING.md and PERF-FLOOR.md), watching a wait cell instead of retrying a system call. Waking
 * a thread parked in `Atomics.waitAsync` costs tens of µs here; a peer in a tight exchange answers
 * within a few, so an operation that would block first watches its object's wait cell.
 *
 * MAX_SPIN_MS (20 µs): the usual window, and the probe's.
 */
export const MAX_SPIN_MS = 0.02;
/**
 * The longest a window may grow (120 µs): to cover a peer that was itself parked. A 20 µs window
 * never catches a parked peer's wake-up, so both sides would park on every message and stay so
 * ("both parked"); one window that covers the peer's measured answer catches it, and since the peer
 * then spins for its own next wait, the exchange goes on without parking.
 */
export const LONG_SPIN_MS = 0.12;
/** Below this window spinning is switched off. */
const MIN_SPIN_MS = 0.0025;
/** While switched off, every PROBE_EVERY-th operation probes with MAX_SPIN_MS. */
const PROBE_EVERY = 16;
/** After this many spins in a row that caught nothing, spinning is switched off (then probed). */
const MISSES_TO_STOP = 4;
/** A park that ended this soon (10 µs) after its spin gave up had a peer that could not run while this side spun (one CPU): switch off. */
const STARVED_PEER_MS = 0.01;
/** Loads of the cell between two looks at the clock. */
const LOADS_PER_CLOCK = 32;

/**
 * The adaptive spin of one stream direction: how long an operation that cannot complete watches
 * the object's wait cell, retrying each time it changes, before it parks. After a catch at `t` the
 * window is max(MAX_SPIN_MS, 2t); after a miss, a park the peer ended `t` after the operation began
 * (`t` within LONG_SPIN_MS) sets it to 1.5t (at least MAX_SPIN_MS), a slower answer leaves it
 * halved. Off below MIN_SPIN_MS, after MISSES_TO_STOP misses in a row, or when the peer was starved;
 * while off, operations park at once and every PROBE_EVERY-th probes. So an idle waiter spends at
 * most one window of CPU, and a busy exchange completes without sleeping.
 */
export class SpinWindow {
  private windowMs = MAX_SPIN_MS;
  /** While switched off: parks left until the next probe. */
  private offFor = 0;
  private misses = 0;
  /** When the last spin gave up (`performance.now()`); NaN when the last operation did not spin. */
  private gaveUpAt = Number.NaN;
  /** The spin's last look at the clock. */
  private lastClock = 0;

  /**
   * Watches `cells[index]`, which held `seen` before the caller's failed attempt, and runs
   * `attempt` each time it changes, until `attempt` gives something other than WOULD_BLOCK or the
   * window (at most `limitMs`) closes. Synchronous: holds the thread for at most LONG_SPIN_MS.
   */
  spin<T>(cells: Int32Array, index: number, seen: number, attempt: () => T | typeof WOULD_BLOCK, limitMs = Infinity): T | typeof WOULD_BLOCK {
    const started = performance.now();
    const deadline = this.open(started, limitMs);
    if (Number.isNaN(deadline)) return WOULD_BLOCK;
    for (;;) {
      const value = this.watch(cells, index, seen, deadline);
      if (value === WOULD_BLOCK) return WOULD_BLOCK;
      seen = value;
      const result = attempt();
      if (result !== WOULD_BLOCK) {
        this.caught(started);
        return result;
      }
      // The cell can keep changing for other reasons (the other direction of a duplex pipe).
      if (this.expired(deadline)) return WOULD_BLOCK;
    }
  }

  // The pieces of `spin`, for a caller whose attempt is inline (a hot path that should not make a
  // closure per operation): `open`, then `watch` and attempt until the attempt succeeds (`caught`)
  // or `watch` gives WOULD_BLOCK or a failed attempt finds the window `expired`.

  /**
   * Opens a spin that starts at `started` (`performance.now()`): its deadline, or NaN when spinning
   * is switched off (the operation parks at once).
   */
  open(started: number, limitMs = Infinity): number {
    if (this.windowMs === 0) {
      if (--this.offFor > 0) {
        this.gaveUpAt = Number.NaN;
        return Number.NaN;
      }
      this.windowMs = MAX_SPIN_MS;
    }
    this.lastClock = started;
    return started + Math.min(this.windowMs, limitMs);
  }

  /**
   * Loads `cells[index]` until it no longer holds `seen`: the new value, or WOULD_BLOCK (a miss)
   * once the clock passed `deadline`.
   */
  watch(cells: Int32Array, index: number, seen: number, deadline: number): number | typeof WOULD_BLOCK {
    let loads = 0;
    let value: number;
    while ((value = Atomics.load(cells, index)) === seen) {
      if (++loads % LOADS_PER_CLOCK === 0 && (this.lastClock = performance.now()) >= deadline) return this.missed(this.lastClock);
    }
    return value;
  }

  /** The attempt after a change succeeded, in a spin opened at `started`: the window learns. */
  caught(started: number): void {
    this.misses = 0;
    // The last look at the clock is at most LOADS_PER_CLOCK loads old: close enough, and one call less.
    this.windowMs = Math.min(LONG_SPIN_MS, Math.max(MAX_SPIN_MS, 2 * (this.lastClock - started)));
  }

  /** After a failed attempt: true (a miss) once the clock passed `deadline`. */
  expired(deadline: number): boolean {
    const now = (this.lastClock = performance.now());
    if (now < deadline) return false;
    this.missed(now);
    return true;
  }

  /** A parked operation that began (before its spin) at `startedAt` (`performance.now()`, NaN if it did not spin) completed. */
  parked(startedAt: number): void {
    // Without a spin, or switched off by it, there is nothing to learn: the periodic probe reopens it.
    if (Number.isNaN(this.gaveUpAt) || Number.isNaN(startedAt) || this.windowMs === 0) return;
    const now = performance.now();
    const answeredIn = now - startedAt;
    if (now - this.gaveUpAt < STARVED_PEER_MS) this.switchOff();
    else if (answeredIn <= LONG_SPIN_MS) this.windowMs = Math.max(MAX_SPIN_MS, Math.min(LONG_SPIN_MS, 1.5 * answeredIn));
  }

  private missed(now: number): typeof WOULD_BLOCK {
    this.gaveUpAt = now;
    if (this.windowMs / 2 < MIN_SPIN_MS || ++this.misses >= MISSES_TO_STOP) this.switchOff();
    else this.windowMs /= 2;
    return WOULD_BLOCK;
  }

  private switchOff(): void {
    this.windowMs = 0;
    this.offFor = PROBE_EVERY;
    this.misses = 0;
  }
}

/**
 * Resolves once the 32-bit cell at byte address `address` no longer holds `seen` (or it is
 * notified). Spins briefly first; keeps the thread alive while sleeping. With `parked` (the byte
 * address of the object's parked count, for byte streams), the sleep is counted there, so that
 * the kernel notifies the cell only while someone sleeps on it (`publish` in assembly/pipe.ts).
 */
export function waitForChange(kernel: Kernel, address: number, seen: number, timeoutMs = Infinity, parked?: number): Promise<void> {
  const index = address >>> 2;
  for (let i = 0; i < SPIN_LOADS; i++) {
    if (Atomics.load(kernel.cells, index) !== seen) return Promise.resolve();
  }
  // Counted in before the cell is compared (inside waitAsync): see publish in assembly/pipe.ts.
  if (parked !== undefined) Atomics.add(kernel.cells, parked >>> 2, 1);
  const result = Atomics.waitAsync(kernel.cells, index, seen, timeoutMs);
  if (!result.async) {
    if (parked !== undefined) Atomics.sub(kernel.cells, parked >>> 2, 1);
    return Promise.resolve();
  }
  kernel.holdAlive();
  return result.value.then(() => {
    if (parked !== undefined) Atomics.sub(kernel.cells, parked >>> 2, 1);
    kernel.releaseAlive();
  });
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
