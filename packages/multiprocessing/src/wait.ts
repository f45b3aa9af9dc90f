/**
 * The one wait policy of this package: check, spin a little, then park on a futex cell of a shared
 * segment (`segment.wait`, a futex on the native backend, the emulated kernel's on the worker one).
 * Parking with `Atomics.waitAsync` on the worker backend's SharedArrayBuffer directly was tried:
 * ping-pongs got faster under load, but the worker 8 x 8 stress test of the queue took 27 s and
 * over 60 s at load 30-45 (13-16 s through the kernel; both ~6 s idle), so every wait and wake
 * goes through the segment (`park`, `publish`, `wake`).
 *
 * A waiter counts itself in a "waiters" cell before it re-checks and parks, and a publisher reads
 * that cell after publishing: with sequentially consistent atomics either the publisher sees the
 * waiter (and notifies) or the waiter sees the publication (and does not park), so no wake-up is
 * lost, and an idle channel costs the publisher no system call.
 *
 * Where a place has an `armed` cell, a parking waiter also raises it to the sequence number it
 * sleeps on, and a publisher notifies only if some waiter armed at or after the sequence of its
 * own last notification: a waiter that armed before it either was asleep then (and was woken) or
 * finds the cell changed when it enters the futex wait. So a burst of publications wakes a
 * sleeper with one system call, not one per publication (64 KiB frames into a ring whose reader
 * sleeps: one `FUTEX_WAKE` per value before).
 */
import { abortErrorFor, type SharedSegment } from '@ipcx/core';

/**
 * How long a waiter spins before parking (ms), at first and at most. A peer in a tight exchange
 * answers within a few microseconds, and parking costs a futex wake-up plus a waiter thread's hop
 * back to JS (~60 µs here); the spin is bounded so an idle waiter gives the event loop back soon.
 */
export const SPIN_MS = 0.03;
/** The longest adaptive spin (ms): a parked peer's answer that came this soon is worth spinning for. */
export const MAX_SPIN_MS = 0.12;
/** The shortest adaptive spin (ms). */
export const MIN_SPIN_MS = 0.005;

/** Where a waiter parks. */
export interface ParkCells {
  /** The segment whose futex cells are waited on. */
  readonly segment: SharedSegment;
  /** Its 32-bit cells. */
  readonly cells: Int32Array;
  /** The cell publishers change and notify (a sequence number). */
  readonly cell: number;
  /** The cell counting parked waiters. */
  readonly waiters: number;
  /**
   * Optional: the cell holding the highest sequence number (of `cell`) a waiter parked on, so
   * that a publisher wakes a sleeper once per burst (see the file comment). Every process using
   * the place must agree on having it.
   */
  readonly armed?: number;
  /** This process's sequence number at its last notification of this place (with `armed`). */
  notifiedAt?: number;
  /**
   * This process's current spin for this place (ms), adapted to how soon the condition came:
   * after a park that ended within {@link MAX_SPIN_MS}, 1.5 times that wait (so the next one is
   * caught spinning); after a longer park, halved. Starts at {@link SPIN_MS}.
   */
  spinMs?: number;
}

/** What {@link park} gives up on: a deadline (`performance.now()` ms, `Infinity` for none) and a signal. */
export interface Deadline {
  /** `performance.now()` time to give up at (`Infinity`: never). */
  readonly until: number;
  /** Aborts the wait. */
  readonly signal?: AbortSignal;
}

/** The deadline of `timeout` ms from now (`undefined`/`Infinity`: none). RangeError for a bad timeout. */
export function deadlineOf(options: { timeout?: number; signal?: AbortSignal } | undefined): Deadline {
  const timeout = options?.timeout;
  if (timeout !== undefined && (typeof timeout !== 'number' || Number.isNaN(timeout) || timeout < 0)) {
    throw new RangeError(`timeout must be a number of milliseconds >= 0, received ${String(timeout)}`);
  }
  const signal = options?.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError('signal must be an AbortSignal');
  return { until: timeout === undefined || timeout === Infinity ? Infinity : performance.now() + timeout, signal };
}

/** A deadline that never passes and cannot be aborted (for the rest of a value already begun). */
export const NO_DEADLINE: Deadline = { until: Infinity };

/**
 * Resolves `true` once `ready()` holds, `false` when the deadline passes first; rejects with
 * `AbortError` when the signal fires. `ready` must be cheap and must not allocate.
 */
export async function park(where: ParkCells, ready: () => boolean, deadline: Deadline): Promise<boolean> {
  if (ready()) return true;
  if (deadline.signal?.aborted) throw abortErrorFor(deadline.signal);
  const spinMs = where.spinMs ?? SPIN_MS;
  const spinUntil = performance.now() + spinMs;
  while (performance.now() < spinUntil) if (ready()) return true;
  const parkedAt = performance.now();
  const { cells, cell, waiters } = where;
  const adapt = (): void => {
    const waited = performance.now() - parkedAt + spinMs;
    where.spinMs = waited <= MAX_SPIN_MS ? Math.min(MAX_SPIN_MS, waited * 1.5) : Math.max(MIN_SPIN_MS, spinMs / 2);
  };
  for (;;) {
    const observed = Atomics.load(cells, cell);
    if (where.armed !== undefined) raiseArmed(cells, where.armed, observed);
    // Count in, then re-check: a publisher that stored before our count is seen by the re-check,
    // one that stored after it sees our count (see the file comment).
    Atomics.add(cells, waiters, 1);
    try {
      if (ready()) return true;
      const remaining = deadline.until - performance.now();
      if (remaining <= 0) return false;
      await sleepOn(where, observed, remaining, deadline.signal);
    } finally {
      Atomics.sub(cells, waiters, 1);
    }
    if (ready()) {
      adapt();
      return true;
    }
    if (deadline.until - performance.now() <= 0) {
      adapt();
      return false;
    }
  }
}

/**
 * Bumps the sequence cell and wakes its parked waiters, if any (no system call when none; with an
 * `armed` cell, none either when every sleeper was already notified since it parked).
 */
export function publish(where: Omit<ParkCells, 'cell' | 'waiters'>, cell: number, waiters: number): void {
  const sequence = (Atomics.add(where.cells, cell, 1) + 1) | 0;
  if (Atomics.load(where.cells, waiters) <= 0) return;
  if (where.armed !== undefined) {
    // A waiter that armed below our last notification's sequence is awake or will not sleep.
    if (where.notifiedAt !== undefined && ((Atomics.load(where.cells, where.armed) - where.notifiedAt) | 0) < 0) return;
    where.notifiedAt = sequence;
  }
  wake(where, cell);
}

/** Raises the `armed` cell to `observed` (sequence order, wrapping), unless it holds a later one. */
function raiseArmed(cells: Int32Array, armed: number, observed: number): void {
  for (;;) {
    const current = Atomics.load(cells, armed);
    if (((current - observed) | 0) >= 0) return;
    if (Atomics.compareExchange(cells, armed, current, observed) === current) return;
  }
}

/** Wakes up to `count` (default all) waiters parked by {@link park} on `cell`. */
export function wake(where: Omit<ParkCells, 'cell' | 'waiters'>, cell: number, count?: number): void {
  where.segment.notify(cell, count);
}

/** One futex sleep on `cell` while it holds `observed`: until woken, the timeout, or the signal (then AbortError). */
async function sleepOn(where: ParkCells, observed: number, remaining: number, signal: AbortSignal | undefined): Promise<void> {
  await where.segment.wait(where.cell, observed, remaining === Infinity ? { signal } : { timeout: remaining, signal });
}
