/**
 * Cancellation of a pending operation by its `AbortSignal`, its timeout or closing its object, and
 * the error each way rejects with. Every backend ends its waits through these, so an abort is the
 * same `AbortError` and a timeout the same `IpcError` code whatever the backend; each backend only
 * says how it ends the wait itself (a native waiter thread is interrupted, a worker wait cell is
 * notified, a Redis sleeper is woken).
 */
import { AbortError, IpcError, abortErrorFor, closedError } from '../errors.js';
import type { WaitOptions } from '../options.js';

/** Why a pending operation was cancelled. */
export type CancelReason = 'abort' | 'timeout' | 'close';

/** What a cancelled operation's error names: its call, its object, and the code of a timeout. */
export interface CancellationDetails {
  /** The system call (or its emulation) that was waiting, e.g. `'msgrcv'`. */
  readonly syscall: string;
  /** The object it waited on, as error messages name it. */
  readonly object: string;
  /** The code of a timeout: the kernel's for that call (`semtimedop` gives `EAGAIN`). Default `ETIMEDOUT`. */
  readonly timeoutCode?: 'ETIMEDOUT' | 'EAGAIN';
  /** The path the call concerned, if any. */
  readonly path?: string;
}

/**
 * Watches `options.signal` and `timeoutMs` for one pending operation; calls `onCancel` once with
 * the reason. Call the returned function when the operation settles otherwise. A signal that is
 * already aborted cancels too (in a microtask, so the caller has finished arming its wait): the
 * operation may have got here after an awaited first step, and would otherwise wait forever.
 */
export function watchCancellation(options: WaitOptions | undefined, timeoutMs: number, onCancel: (reason: CancelReason) => void): () => void {
  const signal = options?.signal;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let done = false;
  const cleanup = (): void => {
    done = true;
    if (timer !== undefined) clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  };
  const fire = (reason: CancelReason): void => {
    if (done) return;
    cleanup();
    onCancel(reason);
  };
  const onAbort = (): void => fire('abort');
  if (signal?.aborted) {
    queueMicrotask(onAbort);
    return cleanup;
  }
  signal?.addEventListener('abort', onAbort, { once: true });
  if (Number.isFinite(timeoutMs)) timer = setTimeout(() => fire('timeout'), timeoutMs);
  return cleanup;
}

/**
 * The rejection for a cancelled operation: the signal's `AbortError` (its reason kept), `EBADF`
 * for a close, the call's timeout code for a timeout.
 */
export function cancellationError(reason: CancelReason, options: WaitOptions | undefined, details: CancellationDetails): Error {
  if (reason === 'abort') return options?.signal ? abortErrorFor(options.signal) : new AbortError();
  if (reason === 'close') return closedError(details.object, details.syscall);
  return new IpcError(details.timeoutCode ?? 'ETIMEDOUT', { syscall: details.syscall, object: details.object, path: details.path });
}
