/**
 * Cancellation for pending operations: an AbortSignal, a timeout, or closing the object.
 *
 * Descriptor operations (pending reads and writes) simply leave their queue. Blocking waits on
 * waiter threads are cancelled in the kernel (`cancelWait`) and settle when the thread has
 * reported back, so that an operation that completed in the meantime still delivers its result and
 * nothing (a message, a semaphore unit) is lost.
 */
import { AbortError, IpcError, abortErrorFor, checkWaitOptions, closedError, type WaitOptions } from '@ipcx/core';
import { addon, type WaitCallback } from './addon.js';

/** Why a pending operation was cancelled. */
export type CancelReason = 'abort' | 'timeout' | 'close';

/**
 * Watches `options.signal` and `options.timeout` for one pending operation; calls `onCancel` once
 * with the reason. Call the returned function when the operation settles otherwise.
 */
export function watchCancellation(options: WaitOptions | undefined, timeoutMs: number, onCancel: (reason: CancelReason) => void): () => void {
  const signal = options?.signal;
  let timer: NodeJS.Timeout | undefined;
  let done = false;
  const fire = (reason: CancelReason) => {
    if (done) return;
    done = true;
    cleanup();
    onCancel(reason);
  };
  const onAbort = () => fire('abort');
  const cleanup = () => {
    done = true;
    if (timer !== undefined) clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  if (Number.isFinite(timeoutMs)) timer = setTimeout(() => fire('timeout'), timeoutMs);
  return cleanup;
}

/** The rejection for a cancelled operation. */
export function cancellationError(reason: CancelReason, options: WaitOptions | undefined, details: { syscall: string; object: string; timeoutCode?: 'ETIMEDOUT' | 'EAGAIN'; path?: string }): Error {
  if (reason === 'abort') return options?.signal ? abortErrorFor(options.signal) : new AbortError();
  if (reason === 'close') return closedError(details.object, details.syscall);
  return new IpcError(details.timeoutCode ?? 'ETIMEDOUT', { syscall: details.syscall, object: details.object, path: details.path });
}

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
 * Longest spin before an operation parks (on a waiter thread or in libuv's poll), in milliseconds
 * (20 µs). Waking a parked process on another CPU costs ~20 µs here, a waiter thread's hop back to
 * JS much more (PERF-FLOOR.md, TOOLCHAIN.md); a peer that answers within the window is served
 * without either cost.
 */
export const MAX_SPIN_MS = 0.02;
/** Below this window spinning is switched off; it is tried again every PROBE_EVERY parked operations. */
const MIN_SPIN_MS = 0.0025;
const PROBE_EVERY = 16;
/**
 * A parked operation that still completed this soon after it started (100 µs) had a peer in a
 * tight exchange: the miss was the cost of waking a parked side, which spinning on both sides
 * avoids, so the window opens fully again. Slower answers (an idle peer) keep it shrinking. A
 * longer window than MAX_SPIN_MS would catch a parked peer too, but costs that much CPU per
 * operation whenever both ends share one CPU (measured: 200 µs round trips under load).
 */
const REWARM_MS = 0.1;

/**
 * But a parked operation that completed less than this (10 µs) after its spin gave up was most
 * likely answered by a peer that could not run while this side spun: both on one CPU (other load
 * packs them so). Spinning only delays such a peer, so it is switched off (and probed later).
 */
const STARVED_PEER_MS = 0.01;

/**
 * The adaptive spin policy of one handle (and one direction): how long an operation that cannot
 * complete now retries its non-blocking form before parking. Full after a spin that caught the
 * peer or after a park the peer ended soon (see REWARM_MS), halved
 * after each spin that did not catch it, off below
 * MIN_SPIN_MS and then probed again every PROBE_EVERY parks (the peer's pace may change). So an
 * idle waiter spends at most one window of CPU, a busy exchange completes without sleeping.
 *
 * Use: try the operation once; on WOULD_BLOCK call {@link SpinWindow.spin}; if that still gives
 * WOULD_BLOCK, park (see {@link spinThenWait} for BlockingWait-based operations) and call
 * {@link SpinWindow.parked} with {@link SpinWindow.spin}'s start time when the parked operation completes.
 */
export class SpinWindow {
  private windowMs = MAX_SPIN_MS;
  private parks = 0;
  /** When the last spin gave up (`performance.now()`); NaN when the last operation did not spin. */
  private gaveUpAt = Number.NaN;

  /**
   * Retries `attempt` until it returns something other than WOULD_BLOCK or the window closes
   * (never longer than `limitMs`, e.g. what is left of a timeout). Synchronous: it holds the
   * calling thread for at most MAX_SPIN_MS.
   */
  spin<T>(attempt: () => T | typeof WOULD_BLOCK, limitMs = Infinity): T | typeof WOULD_BLOCK {
    if (this.windowMs === 0) {
      if (++this.parks % PROBE_EVERY !== 0) {
        this.gaveUpAt = Number.NaN;
        return WOULD_BLOCK;
      }
      this.windowMs = MIN_SPIN_MS;
    }
    const deadline = performance.now() + Math.min(this.windowMs, limitMs);
    do {
      const result = attempt();
      if (result !== WOULD_BLOCK) {
        this.windowMs = MAX_SPIN_MS;
        return result;
      }
      this.gaveUpAt = performance.now();
    } while (this.gaveUpAt < deadline);
    this.windowMs = this.windowMs / 2 < MIN_SPIN_MS ? 0 : this.windowMs / 2;
    return WOULD_BLOCK;
  }

  /** A parked operation that began (before its spin) at `startedAt` (`performance.now()`) completed. */
  parked(startedAt: number): void {
    // Without a spin (switched off) there is nothing to learn: the periodic probe reopens it.
    if (Number.isNaN(this.gaveUpAt)) return;
    const now = performance.now();
    if (now - this.gaveUpAt < STARVED_PEER_MS) this.windowMs = 0;
    else if (now - startedAt < REWARM_MS) this.windowMs = MAX_SPIN_MS;
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
  if (result !== WOULD_BLOCK) return result instanceof Error ? Promise.reject(result) : Promise.resolve(result);
  let rest = options;
  if (Number.isFinite(timeoutMs)) rest = { signal: options?.signal, timeout: Math.max(0, timeoutMs - (performance.now() - startedAt)) };
  return blockingWait<T>(start, rest, details, owner, () => window.parked(startedAt));
}
