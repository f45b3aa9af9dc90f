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
import { SpinWindow, WOULD_BLOCK, cancellationError, watchCancellation, type CancelReason } from '@ipcx/core/backend';
import type { Kernel } from './kernel.js';

// The cancellation plumbing and the wait policy are core's (@ipcx/core/backend); re-exported for this package's files.
export { WOULD_BLOCK, cancellationError, watchCancellation, type CancelReason };

/** What an attempt returns when the kernel answered -EINTR (locked): try again shortly. */
export const BUSY: unique symbol = Symbol('busy');

/** Loads of the cell before sleeping. */
const SPIN_LOADS = 200;

/**
 * Loads of the cell between two looks at the clock: a load costs ~1 ns, `performance.now()` tens
 * in Node and ~210-250 ns in Chromium (a cross-origin isolated page's coarsened clock, measured in
 * headless Chromium 156): there a spin with 32 loads per look spends most of its time in the
 * clock, which delays seeing the peer's change.
 */
const LOADS_PER_CLOCK = 32;
const WEB_WORKER_LOADS_PER_CLOCK = 256;

/**
 * Whether this thread may block in `Atomics.wait` (not on a browser page's main thread, where it
 * throws): the hand-off of {@link CellSpin} needs it, and without it the policy parks at once
 * when it notices oversubscription.
 */
export const CAN_WAIT_SYNC = ((): boolean => {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
})();

/**
 * In a browser's Web Worker, a calm spin that has not caught within this many ms (10 µs, at the
 * least) hands off for the rest of its window (`SpinWindow`'s `handOffAfterMs`): it sleeps in
 * `Atomics.wait` on the cell, which the peer's change ends. There a park (`Atomics.waitAsync`)
 * takes 50 µs to milliseconds to answer, so a spin that misses and parks costs more than a
 * postMessage hop, and the exchange settles into "both parked". Measured in headless Chromium
 * (docs/BENCHMARKS.md, "In a browser"): the pipe ping-pong went from 100-310 µs to 46-52 µs per
 * round trip at load ~18. Not in Node, where a `waitAsync` park is cheaper and the same setting
 * made the pipe ping-pong slower.
 */
const HAND_OFF_AFTER_MS = 0.01;
/**
 * The longest a calm spin in a Web Worker runs before it hands off (120 µs, the policy's longest
 * window). The hand-off point learns (see {@link CellSpin.caught}): a fixed 10 µs is shorter than
 * waking a sleeping peer (25-60 µs measured in Chromium, `bench/browser/floor.html`), so once one
 * side slept, the other's spin handed off before the answer came, and both sides slept on every
 * message for the rest of the run ("the slow mode": the bimodal runs of docs/BENCHMARKS.md).
 */
const MAX_CALM_MS = 0.12;
/**
 * A raised hand-off point that did not help (the next answer still came only after a sleep: the
 * peer is slow, e.g. waiting for a CPU under load, not asleep) is dropped, and raising pauses for
 * this many operations, doubled by each raise that fails again (up to MAX_RAISE_PAUSE): a long calm
 * spin on a loaded machine takes the CPU from the peer it waits for.
 */
const RAISE_PAUSE = 16;
const MAX_RAISE_PAUSE = 4096;

/** Whether this thread is a browser's Web Worker (not Node, not a page's main thread). */
const IN_WEB_WORKER = typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope === 'function';

/** One cell to sleep on for {@link pauseThread} (nobody notifies it); created on first use. */
let pauseCells: Int32Array | undefined;

/**
 * Sleeps this thread for `ms` without burning its CPU (`Atomics.wait` on a cell nobody notifies),
 * where it may block: true if it slept, false on a browser page's main thread (or without
 * `SharedArrayBuffer`). For a retry whose obstacle is another thread that lost its CPU (a kernel
 * lock held by a preempted holder): sleeping gives that thread the CPU back at once, where a
 * timer costs at least a millisecond (four in a browser once timers nest).
 */
export function pauseThread(ms: number): boolean {
  if (!CAN_WAIT_SYNC) return false;
  pauseCells ??= new Int32Array(new SharedArrayBuffer(4));
  Atomics.wait(pauseCells, 0, 0, ms);
  return true;
}

/**
 * Placeholder cells until a spin is given its object's. Not shared memory: on a page that is not
 * cross-origin isolated `SharedArrayBuffer` does not exist, and importing this module must still
 * work so that creating the backend can say which headers are missing.
 */
const EMPTY_CELLS: Int32Array = new Int32Array(1);

/**
 * The one wait policy (`SpinWindow` in `@ipcx/core/backend`) watching an object's wait cell: an
 * attempt is a load of the cell, and the operation's own try runs only when it changed. The
 * hand-off, when the policy notices oversubscription, is a synchronous `Atomics.wait` on that
 * cell for at most the rest of the window: this thread gives its CPU away, and the peer's change
 * (the kernel's notify) wakes it directly, in a few µs, where an `Atomics.waitAsync` park costs a
 * task of the event loop (tens of µs, far more in a browser). It never blocks longer than the
 * spin it replaces. Parking stays with the callers ({@link waitForChange}).
 */
export class CellSpin {
  private readonly policy: SpinWindow;
  // The cell the current spin watches, for the hand-off's sleep.
  private cells = EMPTY_CELLS;
  private index = 0;
  private seen = 0;
  /** Index of the object's parked count (streams and queues: notified only while someone sleeps), or -1. */
  private parkedIndex = -1;
  /** Whether calm spins hand off early, with a hand-off point that learns (a Web Worker; see `earlyHandOff`). */
  private readonly learns: boolean;
  /** The current calm hand-off point in ms (HAND_OFF_AFTER_MS to MAX_CALM_MS). */
  private calmMs = HAND_OFF_AFTER_MS;
  /** Whether the current spin handed off (slept) at least once. */
  private handedOff = false;
  /** Whether the current spin was opened oversubscribed (its hand-offs teach nothing about the peer). */
  private openedOversubscribed = false;
  /** Whether the hand-off point is raised and not yet shown to help. */
  private raised = false;
  /** Operations left before the hand-off point may be raised again, and the next pause. */
  private raiseLeft = 0;
  private raisePause = RAISE_PAUSE;
  /** The policy's last look at the clock (see `caught`: a catch before the sleep needs no new look). */
  private lastNow = 0;

  /**
   * `earlyHandOff`: in a browser's Web Worker, a calm spin hands off after {@link HAND_OFF_AFTER_MS}
   * or what the peer's answers took (a byte stream's or a semaphore's spin in a tight exchange).
   * Others keep the plain window there.
   */
  constructor(earlyHandOff = false) {
    this.learns = IN_WEB_WORKER && earlyHandOff && CAN_WAIT_SYNC;
    this.policy = new SpinWindow({
      now: () => (this.lastNow = performance.now()),
      attemptsPerClock: IN_WEB_WORKER ? WEB_WORKER_LOADS_PER_CLOCK : LOADS_PER_CLOCK,
      handOff: CAN_WAIT_SYNC ? (untilMs) => this.sleep(untilMs) : undefined,
      handOffAfterMs: this.learns ? HAND_OFF_AFTER_MS : undefined,
    });
  }

  /** True while the policy hands the CPU off (see `SpinWindow.oversubscribed`). */
  get oversubscribed(): boolean {
    return this.policy.oversubscribed;
  }

  /**
   * Watches `cells[index]`, which held `seen` before the caller's failed attempt, and runs
   * `attempt` each time it changes, until `attempt` gives something other than WOULD_BLOCK or the
   * window (at most `limitMs`) closes. Synchronous: holds the thread for at most the window.
   * `parked`: the byte address of the object's parked count, if it has one.
   */
  spin<T>(cells: Int32Array, index: number, seen: number, attempt: () => T | typeof WOULD_BLOCK, limitMs = Infinity, parked?: number): T | typeof WOULD_BLOCK {
    const started = performance.now();
    const deadline = this.open(started, limitMs, parked);
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

  /** Opens a spin that starts at `started` (`performance.now()`): its deadline, or NaN to park at once. */
  open(started: number, limitMs = Infinity, parked?: number): number {
    this.lastNow = started;
    this.parkedIndex = parked === undefined ? -1 : parked >>> 2;
    this.handedOff = false;
    this.openedOversubscribed = this.policy.oversubscribed;
    if (this.raiseLeft > 0) this.raiseLeft--;
    return this.policy.open(started, limitMs);
  }

  /** Loads `cells[index]` until it no longer holds `seen`: the new value, or WOULD_BLOCK (a miss) once the window closed. */
  watch(cells: Int32Array, index: number, seen: number, deadline: number): number | typeof WOULD_BLOCK {
    this.cells = cells;
    this.index = index;
    this.seen = seen;
    let value: number;
    while ((value = Atomics.load(cells, index)) === seen) {
      if (!this.policy.tick(deadline)) return WOULD_BLOCK;
    }
    return value;
  }

  /**
   * The attempt after a change succeeded, in a spin opened at `started`. Where the hand-off point
   * learns: an answer that came only after this side slept (at `t`) raises it to 1.5t, so that the
   * next calm spin covers the peer's answer at that pace and the exchange gets back to spinning on
   * both sides; the next answer caught while spinning brings it back to 10 µs (a raise lasts one
   * operation). A raise after which the answer still came late is taken back and raising pauses
   * (RAISE_PAUSE, doubling), until an answer comes within 10 µs again.
   */
  caught(started: number): void {
    if (!this.learns) {
      this.policy.caught(started);
      return;
    }
    if (!this.handedOff) {
      // Caught while spinning: the policy's last look at the clock (at most one look's loads
      // old) is close enough, and a new look costs ~0.25 µs per operation in Chromium.
      this.policy.caught(started);
      // A raise lasts one operation: under load a long calm spin takes the CPU from the peer.
      this.raised = false;
      this.calmMs = HAND_OFF_AFTER_MS;
      // An answer caught within the first point is the peer spinning too (a calm machine): raising is cheap again.
      if (this.lastNow - started < HAND_OFF_AFTER_MS) this.raisePause = RAISE_PAUSE;
    } else {
      const now = performance.now();
      const took = now - started;
      // The policy's own record of the catch is from before the sleep: give it the real time.
      this.policy.caught(started, now);
      if (this.openedOversubscribed) return;
      if (this.raised) {
        this.raised = false;
        this.calmMs = HAND_OFF_AFTER_MS;
        this.raiseLeft = this.raisePause;
        this.raisePause = Math.min(MAX_RAISE_PAUSE, 2 * this.raisePause);
      } else if (this.raiseLeft === 0 && took <= MAX_CALM_MS) {
        this.raised = true;
        this.calmMs = Math.max(HAND_OFF_AFTER_MS, 1.5 * took);
      }
    }
    this.policy.setHandOffAfter(this.calmMs);
  }

  /** After a failed attempt: true (a miss) once the window closed. */
  expired(deadline: number): boolean {
    return !this.policy.tick(deadline);
  }

  /** A parked operation that began (before its spin) at `startedAt` (NaN if it did not spin) completed. */
  parked(startedAt: number): void {
    this.policy.parked(startedAt);
  }

  /** The hand-off: sleeps on the watched cell until it changes or `untilMs`. */
  private sleep(untilMs: number): void {
    const ms = untilMs - performance.now();
    if (ms <= 0) return;
    const { cells, parkedIndex } = this;
    this.handedOff = true;
    // Counted in before the cell is compared (inside Atomics.wait): see publish in assembly/pipe.ts.
    if (parkedIndex >= 0) Atomics.add(cells, parkedIndex, 1);
    Atomics.wait(cells, this.index, this.seen, ms);
    if (parkedIndex >= 0) Atomics.sub(cells, parkedIndex, 1);
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

/** The pending operations of one handle: calling one ends it with `EBADF` (the handle closed under it). */
export type Closers = Set<() => void>;

/**
 * Calls `attempt` until it returns a value (not `undefined`, which means "not yet", nor
 * {@link BUSY}, "kernel locked"), sleeping on the wait cell at `cell` in between; `options` and
 * `timeoutMs` cancel it, and so does calling its entry in `closers` (`EBADF`). `onSettled` runs once, however
 * it ends, before the promise settles. An error thrown by `attempt` rejects.
 */
export function waitOnCell<T>(
  kernel: Kernel,
  cell: number,
  attempt: () => T | undefined | typeof BUSY,
  options: WaitOptions | undefined,
  timeoutMs: number,
  details: { syscall: string; object: string; path?: string },
  closers: Closers,
  onSettled?: () => void,
  /** The byte address of the object's parked count, when the kernel notifies the cell only while someone sleeps on it (see `waitForChange`). */
  parked?: number,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const settle = (error: unknown, value?: T): void => {
      if (done) return;
      done = true;
      stop();
      closers.delete(closed);
      onSettled?.();
      if (error === undefined) resolve(value as T);
      else reject(error);
    };
    const cancel = (reason: CancelReason): void => {
      settle(cancellationError(reason, options, details));
      // End this operation's own sleep (others on the cell see a spurious wakeup and sleep again).
      wakeCell(kernel, cell);
    };
    const closed = (): void => cancel('close');
    const stop = watchCancellation(options, timeoutMs, cancel);
    closers.add(closed);
    const step = (): void => {
      if (done) return;
      // Read the cell before trying: a change after this load ends the sleep below at once.
      const seen = Atomics.load(kernel.cells, cell >>> 2);
      let value: T | undefined | typeof BUSY;
      try {
        value = attempt();
      } catch (error) {
        settle(error);
        return;
      }
      if (value !== undefined && value !== BUSY) {
        settle(undefined, value);
        return;
      }
      void waitForChange(kernel, cell, seen, value === BUSY ? 1 : Infinity, parked).then(step);
    };
    step();
  });
}
