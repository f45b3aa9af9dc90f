/**
 * How this package waits: check, spin under the kit's one spin-then-park policy (`SpinWindow` in
 * `@ipcx/core/backend`, the policy every adapter feeds), then park on a futex cell of a shared
 * segment (`segment.wait`, a futex on the native backend, the emulated kernel's on the worker one).
 * Parking with `Atomics.waitAsync` on the worker backend's SharedArrayBuffer directly was tried:
 * ping-pongs got faster under load, but the worker 8 x 8 stress test of the queue took 27 s and
 * over 60 s at load 30-45 (13-16 s through the kernel; both ~6 s idle), so every park and wake
 * goes through the segment (`park`, `publish`, `wake`).
 *
 * What this file passes the policy (as the adapters do for their own objects): the clock; the
 * number of attempts per look at the clock (an attempt here is `ready()`, a few loads of shared
 * cells); and the hand-off, where the segment's memory is a `SharedArrayBuffer` that this thread
 * may block on (the worker backend; not a browser page's main thread): a synchronous `Atomics.wait`
 * on the place's cell for at most the rest of the window, so that while the policy sees the CPU
 * oversubscribed the thread gives its CPU to the peer and the peer's publication wakes it in a few
 * µs. The native backend's memory is a plain `ArrayBuffer` over the mapping (no hand-off): the
 * policy then parks at once while oversubscribed, as the native adapter's own waits do.
 *
 * A waiter counts itself in a "waiters" cell before it re-checks and parks (a futex waiter adds 1,
 * a hand-off sleeper {@link HANDOFF_UNIT}), and a publisher reads that cell after publishing: with
 * sequentially consistent atomics either the publisher sees the waiter (and notifies: the segment's
 * futex for parked waiters, `Atomics.notify` for hand-off sleepers) or the waiter sees the
 * publication (and does not sleep), so no wake-up is lost, and an idle channel costs the publisher
 * no system call.
 *
 * Where a place has an `armed` cell, a waiter about to sleep (parked or in the hand-off) also
 * raises it to the sequence number it sleeps on, and a publisher notifies only if some waiter
 * armed at or after the sequence of its own last notification: a waiter that armed before it
 * either was asleep then (and was woken) or finds the cell changed when it enters its wait (both
 * sleeps compare the cell with the value armed). So a burst of publications wakes a sleeper with
 * one notification, not one per publication (64 KiB frames into a ring whose reader sleeps: one
 * `FUTEX_WAKE` per value before).
 */
import { abortErrorFor, type SharedSegment } from '@ipcx/core';
import { SpinWindow, segmentYieldSymbol } from '@ipcx/core/backend';

/**
 * What a hand-off sleeper adds to a waiters cell (a futex waiter adds 1): the publisher tells the
 * two apart, so that a sleeper costs it an `Atomics.notify` (no system call, no kernel call of the
 * emulation) and only a parked waiter costs the segment's `notify`.
 */
export const HANDOFF_UNIT = 1 << 16;

/** Calls of `ready()` between two looks at the clock: a call is a few loads, `performance.now()` tens of ns. */
const ATTEMPTS_PER_CLOCK = 32;

/**
 * With a hand-off, a spin that has not caught within this many ms (30 µs) hands off for the rest of
 * its window even when calm (`WaitPolicyHost.handOffAfterMs`): a later answer is caught as well by
 * a thread asleep in `Atomics.wait` (woken by the publisher's `Atomics.notify`) without burning the
 * CPU the peer may need. This package's park is the segment's futex, which on the worker backend is
 * the emulated kernel's (its lock, a waiter record, an `Atomics.waitAsync` task): measured 2 ms per
 * park at load 10, so under load the window should end in a hand-off rather than a park. Why 30 µs
 * (full runs of `worker.mp-queue.pingpong` in turn, 2026-12-07, load < 3): with 5 µs an idle
 * round trip took 16-32 µs (a peer's answer often takes longer than 5 µs, and each hand-off's
 * wake-up costs a context switch on this guest), without a hand-off 5.8-6.0 µs idle but 139 µs
 * with one busy loop; 30 µs gave 6.9 µs idle and 66 µs with one busy loop (83 µs with 5 µs).
 */
const HAND_OFF_AFTER_MS = 0.03;

/**
 * Where the segment offers its backend's yield (`segmentYieldSymbol`: native `sched_yield`,
 * paused while yields keep giving whole time slices away), a spin that has not caught within this
 * many ms (2 µs) yields, and again every as many: when both ends share one CPU (one busy loop on a
 * 2-CPU machine puts them there), the peer then runs and answers within the spin instead of after
 * the spin's misses have switched it off and every get parks. Why 2 µs
 * (`bench/probes/mp-queue-pingpong.mjs native` in turn, 2026-12-07, one busy loop beside it):
 * medians 14.8-15.1 µs against 22-29 µs without the yield; with no busy loop 3.39-3.62 µs min, as
 * without (a 1 µs period cost ~0.5 µs a round trip idle: a peer on its own CPU answers in ~2 µs,
 * and a yield before that only delays the catch).
 */
const YIELD_EVERY_MS = 0.002;

/** Whether this thread may block in `Atomics.wait` (not on a browser page's main thread, where it throws). */
const CAN_WAIT_SYNC = ((): boolean => {
  try {
    if (typeof SharedArrayBuffer !== 'function') return false;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
})();

/** Where a waiter parks. */
export interface ParkCells {
  /** The segment whose futex cells are waited on. */
  readonly segment: SharedSegment;
  /** Its 32-bit cells. */
  readonly cells: Int32Array;
  /** The cell publishers change and notify (a sequence number). */
  readonly cell: number;
  /** The cell counting parked waiters (and hand-off sleepers, in units of {@link HANDOFF_UNIT}). */
  readonly waiters: number;
  /**
   * Optional: the cell holding the highest sequence number (of `cell`) a waiter went to sleep on,
   * so that a publisher wakes a sleeper once per burst (see the file comment). Every process using
   * the place must agree on having it.
   */
  readonly armed?: number;
  /** This process's sequence number at its last notification of this place (with `armed`). */
  notifiedAt?: number;
  /**
   * This process's spin policy for this place (made on the first wait that has to spin): one
   * `SpinWindow` per place and direction, as the adapters keep one per handle and direction.
   */
  spin?: PlaceSpin;
}

/** The policy of one place, with the cell value its hand-off sleeps on. */
interface PlaceSpin {
  readonly policy: SpinWindow;
  /** The place's cell as loaded before the current attempt: a publication after it ends the hand-off's sleep. */
  seen: number;
  /** When the last spin began (NaN: it did not spin), for the policy's learning once the park ends. */
  startedAt: number;
}

function placeSpin(where: ParkCells): PlaceSpin {
  if (where.spin !== undefined) return where.spin;
  const { cells, cell, waiters } = where;
  const shared = CAN_WAIT_SYNC && cells.buffer instanceof SharedArrayBuffer;
  const spin: PlaceSpin = {
    seen: 0,
    startedAt: Number.NaN,
    policy: new SpinWindow({
      now: () => performance.now(),
      attemptsPerClock: ATTEMPTS_PER_CLOCK,
      yieldCpu: (where.segment as { readonly [segmentYieldSymbol]?: () => void })[segmentYieldSymbol],
      yieldEveryMs: YIELD_EVERY_MS,
      handOffAfterMs: HAND_OFF_AFTER_MS,
      handOff: shared
        ? (untilMs) => {
            const ms = untilMs - performance.now();
            if (ms <= 0) return;
            // Armed and counted in before the cell is compared (inside Atomics.wait): see the file comment.
            if (where.armed !== undefined) raiseArmed(cells, where.armed, spin.seen);
            Atomics.add(cells, waiters, HANDOFF_UNIT);
            Atomics.wait(cells, cell, spin.seen, ms);
            Atomics.sub(cells, waiters, HANDOFF_UNIT);
          }
        : undefined,
    }),
  };
  where.spin = spin;
  return spin;
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
 * The spin of {@link park}, on its own (synchronous): `true` once `ready()` holds within the
 * window the policy gives (none while it parks at once), `false` when the caller should park,
 * with `park(where, ready, deadline, true)`. A caller whose common case completes in the spin
 * (a get that the peer answers within µs) saves the promises of an async wait.
 */
export function spinFor(where: ParkCells, ready: () => boolean, deadline: Deadline): boolean {
  const spin = placeSpin(where);
  spin.startedAt = Number.NaN;
  if (deadline.signal?.aborted) return false;
  const { cells, cell } = where;
  const { policy } = spin;
  const started = performance.now();
  const limit = deadline.until - started;
  // NaN: park at once (spinning switched off, or oversubscribed without a hand-off).
  const until = limit > 0 ? policy.open(started, limit) : Number.NaN;
  if (Number.isNaN(until)) return false;
  spin.startedAt = started;
  for (;;) {
    spin.seen = Atomics.load(cells, cell);
    if (ready()) {
      policy.caught(started);
      return true;
    }
    if (!policy.tick(until)) return false;
  }
}

/**
 * Resolves `true` once `ready()` holds, `false` when the deadline passes first; rejects with
 * `AbortError` when the signal fires. `ready` must be cheap and must not allocate. Spins first
 * (see {@link spinFor}) unless `spun` says the caller's spin already missed.
 */
export async function park(where: ParkCells, ready: () => boolean, deadline: Deadline, spun = false): Promise<boolean> {
  if (!spun && ready()) return true;
  if (deadline.signal?.aborted) throw abortErrorFor(deadline.signal);
  if (!spun && spinFor(where, ready, deadline)) return true;
  const { cells, cell, waiters } = where;
  const spin = placeSpin(where);
  const startedAt = spin.startedAt;
  try {
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
      if (ready()) return true;
      if (deadline.until - performance.now() <= 0) return false;
    }
  } finally {
    // The window learns how soon the peer answered a parked wait.
    spin.policy.parked(startedAt);
  }
}

/**
 * Bumps the sequence cell and wakes its waiters, if any (no system call when none is parked; with
 * an `armed` cell, none either when every sleeper was already notified since it went to sleep).
 */
export function publish(where: Omit<ParkCells, 'cell' | 'waiters'>, cell: number, waiters: number): void {
  const sequence = (Atomics.add(where.cells, cell, 1) + 1) | 0;
  const counted = Atomics.load(where.cells, waiters);
  if (counted === 0) return;
  if (where.armed !== undefined) {
    // A waiter that armed below our last notification's sequence is awake or will not sleep.
    if (where.notifiedAt !== undefined && ((Atomics.load(where.cells, where.armed) - where.notifiedAt) | 0) < 0) return;
    where.notifiedAt = sequence;
  }
  wakeCounted(where, cell, counted);
}

/** Raises the `armed` cell to `observed` (sequence order, wrapping), unless it holds a later one. */
function raiseArmed(cells: Int32Array, armed: number, observed: number): void {
  for (;;) {
    const current = Atomics.load(cells, armed);
    if (((current - observed) | 0) >= 0) return;
    if (Atomics.compareExchange(cells, armed, current, observed) === current) return;
  }
}

/**
 * Wakes up to `count` (default all) of the waiters of {@link park} on `where.cell`, if its waiters
 * cell counts any (the caller changed the cell's condition first: a waiter counted in after that
 * sees the change).
 */
export function wake(where: ParkCells, count?: number): void {
  const counted = Atomics.load(where.cells, where.waiters);
  if (counted !== 0) wakeCounted(where, where.cell, counted, count);
}

/** Notifies the hand-off sleepers and the parked waiters that `counted` (a waiters cell's value) says there are. */
function wakeCounted(where: Omit<ParkCells, 'cell' | 'waiters'>, cell: number, counted: number, count?: number): void {
  if (counted >= HANDOFF_UNIT) Atomics.notify(where.cells, cell, count);
  if ((counted & (HANDOFF_UNIT - 1)) !== 0) where.segment.notify(cell, count);
}

/** One futex sleep on `cell` while it holds `observed`: until woken, the timeout, or the signal (then AbortError). */
async function sleepOn(where: ParkCells, observed: number, remaining: number, signal: AbortSignal | undefined): Promise<void> {
  await where.segment.wait(where.cell, observed, remaining === Infinity ? { signal } : { timeout: remaining, signal });
}

/** What a call kept in order behind the earlier calls of its handle gives (see {@link inTurn}). */
export interface Turn<T> {
  /** The call's outcome. */
  readonly result: Promise<T>;
  /** Settles (never rejects) once the call's task has finished or been skipped: the next call's turn. */
  readonly turnDone: Promise<void>;
}

const nothing = (): void => {};

/**
 * Runs `task` once `previous` has settled (the calls of one handle keep their order), unless the
 * caller gives up first: when the deadline passes or the signal fires while the call waits for its
 * turn, it rejects at once (with `timedOut()`, or an `AbortError`) and its task never runs, so
 * nothing is sent or taken for a caller that has left. Once the task runs, it honours the
 * deadline itself.
 */
export function inTurn<T>(previous: Promise<unknown>, deadline: Deadline, timedOut: () => Error, task: () => Promise<T>): Turn<T> {
  const { signal, until } = deadline;
  if (signal === undefined && until === Infinity) {
    const result = previous.then(task, task);
    return { result, turnDone: result.then(nothing, nothing) };
  }
  let gaveUp = false;
  let turnDone!: Promise<void>;
  const result = new Promise<T>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stopWatching = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const giveUp = (error: Error): void => {
      if (gaveUp) return;
      gaveUp = true;
      stopWatching();
      reject(error);
    };
    const onAbort = (): void => giveUp(abortErrorFor(signal!));
    if (signal?.aborted) giveUp(abortErrorFor(signal));
    else {
      signal?.addEventListener('abort', onAbort, { once: true });
      if (until !== Infinity) timer = setTimeout(() => giveUp(timedOut()), Math.max(0, until - performance.now()));
    }
    const start = (): Promise<void> | undefined => {
      if (gaveUp) return undefined;
      stopWatching();
      // The turn came late: the deadline may have passed without the timer having run yet.
      if (until - performance.now() <= 0) {
        gaveUp = true;
        reject(timedOut());
        return undefined;
      }
      return task().then(resolve, reject);
    };
    turnDone = previous.then(start, start).then(nothing, nothing);
  });
  return { result, turnDone };
}

/** The wait options left of `deadline` now (for an API that takes a relative timeout). */
export function waitOptionsLeft(deadline: Deadline): { timeout?: number; signal?: AbortSignal } {
  if (deadline.until === Infinity) return { signal: deadline.signal };
  return { timeout: Math.max(0, deadline.until - performance.now()), signal: deadline.signal };
}
