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
 * cancellation error once the thread confirms the cancel.
 */
export function blockingWait<T>(
  start: (callback: WaitCallback) => number,
  options: WaitOptions | undefined,
  details: { syscall: string; object: string; timeoutCode?: 'ETIMEDOUT' | 'EAGAIN'; path?: string },
  owner?: WaitOwner,
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
