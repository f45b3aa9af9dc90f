/**
 * Cancellation for pending operations: an AbortSignal, a timeout, or closing the object.
 *
 * Descriptor operations (pending reads and writes) simply leave their queue. Blocking waits on
 * waiter threads are cancelled in the kernel (`cancelWait`) and settle when the thread has
 * reported back, so that an operation that completed in the meantime still delivers its result and
 * nothing (a message, a semaphore unit) is lost.
 */
import { abortErrorFor, completedNow, type WaitOptions } from '@ipcx/core';
import { cancellationError, checkWaitOptions, watchCancellation, type CancelReason } from '@ipcx/core/backend';
import { addon, type WaitCallback } from './addon.js';

// The cancellation plumbing is core's (@ipcx/core/backend); re-exported for this package's files.
export { cancellationError, watchCancellation, type CancelReason };

/** Something that can cancel its pending waits when closed. */
export interface WaitOwner {
  readonly pendingWaits: Set<PendingWait>;
}

/** A blocking wait in flight. */
export interface PendingWait {
  cancel(reason: CancelReason): void;
}

const ECANCELED = 125;

/**
 * Runs a blocking wait on a waiter thread: `start(callback)` calls the addon and returns the wait
 * id. Resolves with the result, or rejects with the IpcError from the thread, or with the
 * cancellation error once the thread confirms the cancel. `onDone` runs when the thread has
 * reported back, before the promise settles.
 */
export function blockingWait<T>(
  start: (callback: WaitCallback) => number,
  options: WaitOptions | undefined,
  details: { syscall: string; object: string; timeoutCode?: 'ETIMEDOUT' | 'EAGAIN'; path?: string },
  owner?: WaitOwner,
  onDone?: () => void,
): Promise<T> {
  const timeoutMs = checkWaitOptions(options);
  if (options?.signal?.aborted) return Promise.reject(abortErrorFor(options.signal));
  return new Promise<T>((resolve, reject) => {
    let reason: CancelReason | undefined;
    let id = 0;
    const pending: PendingWait = {
      cancel(why) {
        if (reason !== undefined) return;
        reason = why;
        stopWatching();
        addon.cancelWait(id);
      },
    };
    const stopWatching = watchCancellation(options, timeoutMs, (why) => pending.cancel(why));
    try {
      id = start((errno, result) => {
        stopWatching();
        owner?.pendingWaits.delete(pending);
        onDone?.();
        if (errno === 0) resolve(result as T);
        else if (errno === ECANCELED && reason !== undefined) reject(cancellationError(reason, options, details));
        else reject(result);
      });
    } catch (error) {
      stopWatching();
      reject(error);
      return;
    }
    owner?.pendingWaits.add(pending);
  });
}

/** What a non-blocking attempt returns when the operation would have to wait. */
export const WOULD_BLOCK: unique symbol = Symbol('ipcx.wouldBlock');

/**
 * The usual spin window, in milliseconds (20 µs): a peer in a tight exchange that is itself
 * spinning answers within a few µs (measured: 3-6 µs round trips), so this covers it with room for
 * a preemption. After a catch the window returns to this (or to twice what the catch took).
 */
export const MAX_SPIN_MS = 0.02;
/**
 * The longest a window may grow, in milliseconds (120 µs): to cover a peer that was itself parked.
 * Waking a parked peer costs 40-130 µs here (a waiter thread's hop, then the event loop's), so a
 * 20 µs window never catches it: both sides then spin in vain and park on every message, and stay
 * so (the "both parked" mode, measured: 50-70 µs round trips). One window that covers the peer's
 * measured answer catches it, and since the peer then spins for its own next wait, the exchange
 * continues without parking. Capped so that an idle or slow peer costs at most this once.
 */
export const LONG_SPIN_MS = 0.12;
/**
 * A spin yields the CPU at most this often (1 µs): an attempt that is only a memory load (a shared
 * cell) then sees a peer on another CPU within ~1 µs instead of a system call's time.
 */
const YIELD_EVERY_MS = 0.001;
/** Below this window spinning is switched off. */
const MIN_SPIN_MS = 0.0025;
/**
 * While switched off, operations park without spinning; every PROBE_EVERY-th one probes with
 * MAX_SPIN_MS (the peer's pace may have changed, or the peer may be spinning now). A shorter probe
 * never catches a peer that answers in 3-6 µs.
 */
const PROBE_EVERY = 16;
/** After this many spins in a row that caught nothing, spinning is switched off (then probed). */
const MISSES_TO_STOP = 4;

/**
 * A parked operation that completed less than this (10 µs) after its spin gave up was most
 * likely answered by a peer that could not run while this side spun: both on one CPU (other load
 * packs them so). Spinning only delays such a peer, so it is switched off (and probed later).
 */
const STARVED_PEER_MS = 0.01;

/**
 * The adaptive spin policy of one handle (and one direction): how long an operation that cannot
 * complete now retries its non-blocking form before parking. It measures how soon the peer answers
 * and spins only when that fits: after a catch at `t`, the window is max(MAX_SPIN_MS, 2t); after a
 * spin that did not catch, a park that the peer ended `t` after the operation began, with `t`
 * within LONG_SPIN_MS, sets it to 1.5t (at least MAX_SPIN_MS), enough to catch the peer's next
 * answer at that pace, and a slower answer leaves it halved. It is switched off below MIN_SPIN_MS,
 * after MISSES_TO_STOP misses in a row, or when the peer was starved (see STARVED_PEER_MS); while
 * off, operations park at once and every PROBE_EVERY-th probes. So an idle waiter spends at most
 * one window of CPU (at most LONG_SPIN_MS, then less), a busy exchange completes without sleeping.
 *
 * Use: try the operation once; on WOULD_BLOCK call {@link SpinWindow.spin}; if that still gives
 * WOULD_BLOCK, park (see {@link spinThenWait} for BlockingWait-based operations) and call
 * {@link SpinWindow.parked} with {@link SpinWindow.spin}'s start time when the parked operation completes.
 */
export class SpinWindow {
  private windowMs = MAX_SPIN_MS;
  /** While switched off: parks left until the next probe. */
  private offFor = 0;
  private misses = 0;
  /** When the last spin gave up (`performance.now()`); NaN when the last operation did not spin. */
  private gaveUpAt = Number.NaN;

  /**
   * Retries `attempt` until it returns something other than WOULD_BLOCK or the window closes
   * (never longer than `limitMs`, e.g. what is left of a timeout). Synchronous: it holds the
   * calling thread for at most LONG_SPIN_MS.
   */
  spin<T>(attempt: () => T | typeof WOULD_BLOCK, limitMs = Infinity): T | typeof WOULD_BLOCK {
    if (this.windowMs === 0) {
      if (--this.offFor > 0) {
        this.gaveUpAt = Number.NaN;
        return WOULD_BLOCK;
      }
      this.windowMs = MAX_SPIN_MS;
    }
    const started = performance.now();
    const deadline = started + Math.min(this.windowMs, limitMs);
    let yieldedAt = started;
    do {
      const result = attempt();
      if (result !== WOULD_BLOCK) {
        this.misses = 0;
        this.windowMs = Math.min(LONG_SPIN_MS, Math.max(MAX_SPIN_MS, 2 * (performance.now() - started)));
        return result;
      }
      this.gaveUpAt = performance.now();
      // Yield between attempts (at most every YIELD_EVERY_MS): a peer that shares this CPU (other
      // load packs both ends on one) then runs and answers within the spin. Measured at load 3.5
      // on 2 CPUs: 97% of waits caught (without: the window was switched off as "starved" and both
      // ends parked); yielding only after the first 2 µs was slower at load 4.5. On an otherwise
      // idle CPU it returns at once. An attempt that is a system call yields after each try.
      if (this.gaveUpAt - yieldedAt >= YIELD_EVERY_MS) {
        addon.yieldCpu();
        yieldedAt = this.gaveUpAt;
      }
    } while (this.gaveUpAt < deadline);
    if (this.windowMs / 2 < MIN_SPIN_MS || ++this.misses >= MISSES_TO_STOP) this.switchOff();
    else this.windowMs /= 2;
    return WOULD_BLOCK;
  }

  /** A parked operation that began (before its spin) at `startedAt` (`performance.now()`) completed. */
  parked(startedAt: number): void {
    // Without a spin, or switched off by it, there is nothing to learn: the periodic probe reopens it.
    if (Number.isNaN(this.gaveUpAt) || this.windowMs === 0) return;
    const now = performance.now();
    const answeredIn = now - startedAt;
    if (now - this.gaveUpAt < STARVED_PEER_MS) this.switchOff();
    else if (answeredIn <= LONG_SPIN_MS) this.windowMs = Math.max(MAX_SPIN_MS, Math.min(LONG_SPIN_MS, 1.5 * answeredIn));
  }

  private switchOff(): void {
    this.windowMs = 0;
    this.offFor = PROBE_EVERY;
    this.misses = 0;
  }
}

/**
 * The path of every BlockingWait-based operation that has a non-blocking form, once that form has
 * answered "would block": spins on `attempt` (the non-blocking call: result, Error, or WOULD_BLOCK)
 * within `window`, and only then runs the blocking call on a waiter thread (`start`, as for
 * {@link blockingWait}) with what is left of the timeout. The caller has made its first attempt
 * and handled `nowait`.
 */
export function spinThenWait<T>(
  window: SpinWindow,
  attempt: () => T | Error | typeof WOULD_BLOCK,
  start: (callback: WaitCallback) => number,
  options: WaitOptions | undefined,
  details: { syscall: string; object: string; timeoutCode?: 'ETIMEDOUT' | 'EAGAIN'; path?: string },
  owner?: WaitOwner,
): Promise<T> {
  const startedAt = performance.now();
  const timeoutMs = checkWaitOptions(options);
  const result = window.spin(attempt, timeoutMs);
  if (result !== WOULD_BLOCK) return result instanceof Error ? Promise.reject(result) : completedNow(result);
  let rest = options;
  if (Number.isFinite(timeoutMs)) rest = { signal: options?.signal, timeout: Math.max(0, timeoutMs - (performance.now() - startedAt)) };
  return blockingWait<T>(start, rest, details, owner, () => window.parked(startedAt));
}
