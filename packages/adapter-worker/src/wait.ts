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
