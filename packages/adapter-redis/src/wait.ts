/**
 * The one waiting loop of every blocking operation: try the operation's script; if it answers
 * BLOCK (nothing changed on the server), hold the object's notice channel, try again, and sleep
 * until a notice arrives or the wait is cancelled (abort, timeout, close, lost connection).
 * There is no timer-driven retry: every retry follows a notice that the object changed.
 */
import { abortErrorFor } from '@ipcx/core';
import type { RedisConnection, ScriptReply } from './connection.js';
import type { Relevance, Wakening } from './notifier.js';

/** Something that can cancel pending waits (a handle being closed). */
export interface Cancellable {
  /** Adds a canceller; returns its removal. */
  onCancel(cancel: (error: Error) => void): () => void;
}

/** What {@link blockingCall} needs. */
export interface BlockingCall {
  readonly connection: RedisConnection;
  /** The object's notice channel. */
  readonly channel: string;
  /** What a notice means to this call (default: `'all'`, wake on every notice). */
  readonly filter?: (notice: string) => Relevance;
  /** Runs the script once. */
  attempt(): Promise<ScriptReply>;
  /** Milliseconds, `Infinity` for none. */
  readonly timeoutMs: number;
  readonly signal: AbortSignal | undefined;
  /** The error for a timeout (`ETIMEDOUT`, or `EAGAIN` for semtimedop). */
  timeoutError(): Error;
  /** The handle whose `close()` ends the wait with EBADF. */
  readonly owner: Cancellable;
  /** Undoes what a blocked attempt registered on the server (a semaphore's waiter entry). */
  unregister?(): Promise<void>;
}

/** A finished call: the decisive reply, and whether it came after waiting. */
export interface BlockingResult {
  readonly reply: ScriptReply;
  /** True if at least one attempt answered BLOCK (an EINVAL then means the object was removed: EIDRM). */
  readonly waited: boolean;
}

/**
 * Runs `call` until its script answers something other than BLOCK, or the wait is cancelled.
 * A reply that arrives while the wait is being cancelled is returned, never dropped: a message the
 * script handed over is delivered.
 */
export async function blockingCall(call: BlockingCall): Promise<BlockingResult> {
  if (call.signal?.aborted) throw abortErrorFor(call.signal);
  // Every way to cancel is armed before the first attempt, so a close() or abort that comes while
  // it is in flight is seen as soon as it answers.
  let cancelled: Error | undefined;
  let wakeCancelled!: () => void;
  const cancelledPromise = new Promise<void>((resolve) => {
    wakeCancelled = resolve;
  });
  const cancel = (error: Error): void => {
    if (cancelled !== undefined) return;
    cancelled = error;
    wakeCancelled();
  };
  const onAbort = (): void => cancel(abortErrorFor(call.signal!));
  call.signal?.addEventListener('abort', onAbort, { once: true });
  const stopOwner = call.owner.onCancel(cancel);
  const notifier = call.connection.notifier;
  let timer: NodeJS.Timeout | undefined;
  let stopLost: (() => void) | undefined;
  let held = false;
  /** The notice that woke this call alone (it must pass it on if it does not use it). */
  let owed: Wakening | undefined;
  const settle = (reply: ScriptReply): void => {
    // Anything but OK took nothing: the next sleeper gets the notice instead.
    if (owed !== undefined && reply.status !== 'OK') notifier.passOn(call.channel, owed);
    owed = undefined;
  };
  try {
    let reply: ScriptReply;
    let waited = false;
    if (notifier.isSubscribed(call.channel)) {
      // The channel is still subscribed from an earlier wait: hold it at once and let the loop's
      // first attempt be the only one (one round trip fewer in a ping-pong).
      await notifier.hold(call.channel);
      held = true;
    } else {
      reply = await call.attempt();
      if (reply.status !== 'BLOCK') return { reply, waited: false };
      waited = true;
    }
    if (call.timeoutMs === 0 && waited) cancel(call.timeoutError());
    if (call.timeoutMs > 0 && call.timeoutMs !== Infinity) timer = setTimeout(() => cancel(call.timeoutError()), call.timeoutMs);
    stopLost = notifier.onLost(cancel);
    if (cancelled === undefined && !held) {
      await notifier.hold(call.channel);
      held = true;
    }
    while (cancelled === undefined) {
      // Sleep registration first: a notice that arrives during the attempt wakes it at once.
      const sleeper = notifier.sleep(call.channel, call.filter);
      try {
        reply = await call.attempt();
        settle(reply);
        if (reply.status !== 'BLOCK') return { reply, waited };
        waited = true;
        // A timeout of 0 allows one attempt and no wait.
        if (call.timeoutMs === 0) cancel(call.timeoutError());
        if (cancelled !== undefined) break;
        const woken = await Promise.race([sleeper.woken, cancelledPromise]);
        if (woken && woken.single) owed = woken;
      } finally {
        sleeper.cancel();
      }
    }
    if (owed !== undefined) notifier.passOn(call.channel, owed);
    owed = undefined;
    if (call.unregister) await call.unregister().catch(() => undefined);
    throw cancelled;
  } finally {
    if (owed !== undefined) notifier.passOn(call.channel, owed);
    if (timer) clearTimeout(timer);
    call.signal?.removeEventListener('abort', onAbort);
    stopOwner();
    stopLost?.();
    if (held) notifier.release(call.channel);
  }
}

/**
 * Marks `promise` as handled and returns it: a pending operation that `close()` ends rejects
 * while `close()` still talks to the server, before the caller had a chance to attach its
 * handler; the caller still receives the rejection.
 */
export function quiet<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}
