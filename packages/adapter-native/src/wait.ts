/**
 * Cancellation for pending operations: an AbortSignal, a timeout, or closing the object.
 *
 * Descriptor operations (pending reads and writes) simply leave their queue. Blocking waits on
 * waiter threads are cancelled in the kernel (`cancelWait`) and settle when the thread has
 * reported back, so that an operation that completed in the meantime still delivers its result and
 * nothing (a message, a semaphore unit) is lost.
 */
import { abortErrorFor, completedNow, type WaitOptions } from '@ipcx/core';
import { SpinWindow, WOULD_BLOCK, YieldGate, cancellationError, checkWaitOptions, watchCancellation, type CancelReason, type WaitPolicyHost } from '@ipcx/core/backend';
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
 * The TypeError for a call that was queued with the caller's bytes and finds them gone when it
 * runs: the buffer was detached (transferred, `ArrayBuffer.prototype.transfer`) or shrunk (a
 * resizable ArrayBuffer), so its view covers fewer than the `length` bytes it had when the call
 * was made (none once detached). Going on would settle as a false success: a read into 0 bytes
 * resolves 0, which callers take for end of file, and a write of 0 bytes resolves having sent
 * nothing. `undefined` while the view still covers `length` bytes. `what` names the argument and
 * `outcome` says what was done before the call stopped (`'nothing was read'`).
 */
export function bufferGoneError(what: string, view: ArrayBufferView, length: number, operation: string, outcome: string): TypeError | undefined {
  if (view.byteLength >= length) return undefined;
  return new TypeError(`${what} was detached or shrunk while the ${operation} was queued: ${outcome}`);
}

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

export { WOULD_BLOCK };

/**
 * How the native backend feeds the one wait policy (`SpinWindow` in `@ipcx/core/backend`): its
 * clock, and `sched_yield()` every YIELD_EVERY_MS (1 µs) of a spin: an attempt here is a system
 * call, and a peer that shares this CPU then runs and answers within the spin (measured at load
 * 3.5 on 2 CPUs: 97% of waits caught; without, both ends parked). There is no hand-off: once the
 * policy notices oversubscription, operations park at once. Parking itself stays here: a waiter
 * thread ({@link blockingWait}) or a libuv poll.
 */
const YIELD_EVERY_MS = 0.001;
// The gap that counts as a preemption is the policy's default (PREEMPTED_MS, 50 µs). A 10 µs gap
// was tried (2026-12-07): on a loaded machine it noticed a peer sharing this CPU within 17 reads
// (54 -> 42-49 µs per pipe round trip, one busy loop, load 12-40 from other work), but on an idle
// machine the paravirtualised guest's own exits make 10 µs gaps often, so the waiter-thread
// ping-pongs parked where a spin would have caught: System V semaphore 22.5-25.5 µs with 50 µs
// against 38-80 µs with 10, System V queue 26.7-31.5 against 65-66 µs, and with one busy loop
// 68.5 against 104 and 45.7 against 102 µs (full runs in turn, load < 3: docs/BENCHMARKS.md).

/**
 * Whether yielding still pays is measured (`YieldGate` in `@ipcx/core/backend`: a yield that
 * returned after more than 100 µs gave a time slice to another thread; four of those within 64
 * yields pause yielding, 20 ms doubling up to 5 s).
 *
 * Why measured: on an oversubscribed CPU `sched_yield` hands it to another runnable thread for a
 * whole slice, so every spin that yields loses a round of the run queue (with one busy loop beside
 * the bench at load 20-65 from other work, 2026-12-06: pipe / shared-memory futex / System V
 * semaphore ping-pongs took 1.2-5.6 ms per round trip with the yield and 0.16-0.38 ms without).
 * The rule that stopped it then (the 1-minute load average at the CPU count) also stopped it where
 * yielding wins: with one busy loop on an otherwise idle 2-CPU machine the load average is ~2-3
 * (the busy loop and both spinning ends count), yet 99.8% of the yields returned within 100 µs,
 * i.e. went to the peer. Full runs in turn (2026-12-07, `npm run bench -- --busy 1 --filter ...`,
 * two pairs): native pipe 15.4-16.6 µs per round trip against 27.3-28.2 with the load rule, Unix
 * stream 21.2-31.1 against 34.6-35.6, System V queue 17.7-19.8 against 36.3-37.3, System V
 * semaphore 21.1-34.7 against 33.7-34.2; with six busy loops the two were alike
 * (docs/BENCHMARKS.md, "Session 12").
 */
const yieldGate = new YieldGate({ now: () => performance.now(), yieldCpu: () => addon.yieldCpu() });

/**
 * `sched_yield()` unless the gate has paused yields: the native host's `yieldCpu`, which native
 * shared segments also offer to layers that spin on their cells (`segmentYieldSymbol`).
 */
export function spinYield(): void {
  yieldGate.yieldCpu();
}

const NATIVE_HOST: WaitPolicyHost = {
  now: () => performance.now(),
  yieldCpu: spinYield,
  yieldEveryMs: YIELD_EVERY_MS,
};

/** A new spin window (one per handle and direction) on the native host. */
export function spinWindow(): SpinWindow {
  return new SpinWindow(NATIVE_HOST);
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
