/**
 * Argument checks of POSIX message queues, and the notification iterator every backend builds
 * on its one-shot `notify`.
 *
 * For backends only (`@ipcx/core/backend`): every backend validates through these, so misuse
 * raises the same `TypeError`/`RangeError` with the same message before any system call.
 */
import { checkInteger, checkOptionalBoolean, checkOptions, checkString, checkWaitOptions } from './validate.js';
import type { WaitOptions } from '../options.js';
import { MQ_PRIO_MAX, type PosixMessageQueueAccess, type PosixMessageQueueNotifyOptions, type PosixMessageQueueOpenOptions, type PosixMessageQueueReceiveOptions, type PosixMessageQueueSendOptions } from '../posix-message-queue.js';
import type { PosixMessageQueue, PosixMessageQueues } from '../posix-message-queue.js';

/** Largest `maxMessages`/`messageSize` worth passing on; the kernel refuses far less with `EINVAL`. */
const MAX_ATTRIBUTE = 0x7fffffff;

/** Throws unless `name` is a POSIX queue name: `/`, then at least one character, no other `/`. */
export function checkPosixMessageQueueName(name: unknown): string {
  const value = checkString('name', name);
  if (value[0] !== '/' || value.length < 2 || value.indexOf('/', 1) !== -1) {
    throw new TypeError(`name must be '/' followed by at least one character and no other '/', received ${JSON.stringify(value)}`);
  }
  return value;
}

/** {@link PosixMessageQueueOpenOptions} with every field checked and defaulted. */
export interface CheckedPosixMessageQueueOpen {
  readonly access: PosixMessageQueueAccess;
  readonly create: boolean;
  readonly exclusive: boolean;
  readonly mode: number;
  /** Undefined when not given (the system default applies). */
  readonly maxMessages: number | undefined;
  /** Undefined when not given (the system default applies). */
  readonly messageSize: number | undefined;
}

/**
 * Checks the options of {@link PosixMessageQueues.open}. Negative or non-integer sizes are
 * `RangeError`s; a size of 0, or one above the kernel's limits, is left for the kernel (`EINVAL`).
 */
export function checkPosixMessageQueueOpen(options: unknown): CheckedPosixMessageQueueOpen {
  const given = checkOptions<PosixMessageQueueOpenOptions>('options', options);
  const access = given.access ?? 'readwrite';
  if (access !== 'read' && access !== 'write' && access !== 'readwrite') {
    throw new TypeError(`options.access must be 'read', 'write' or 'readwrite', received ${JSON.stringify(access)}`);
  }
  return {
    access,
    create: checkOptionalBoolean('options.create', given.create),
    exclusive: checkOptionalBoolean('options.exclusive', given.exclusive),
    mode: given.mode === undefined ? 0o600 : checkInteger('options.mode', given.mode, 0, 0o777),
    maxMessages: given.maxMessages === undefined ? undefined : checkInteger('options.maxMessages', given.maxMessages, 0, MAX_ATTRIBUTE),
    messageSize: given.messageSize === undefined ? undefined : checkInteger('options.messageSize', given.messageSize, 0, MAX_ATTRIBUTE),
  };
}

/** Checks the options of {@link PosixMessageQueue.send}: `{ priority, nowait, timeoutMs }`. */
export function checkPosixMessageQueueSend(options: unknown): { priority: number; nowait: boolean; timeoutMs: number } {
  const given = checkOptions<PosixMessageQueueSendOptions>('options', options);
  const priority = given.priority === undefined ? 0 : checkInteger('options.priority', given.priority, 0, MQ_PRIO_MAX - 1);
  return { priority, nowait: checkOptionalBoolean('options.nowait', given.nowait), timeoutMs: checkWaitOptions(given) };
}

/** Checks the options of {@link PosixMessageQueue.receive}: `{ nowait, timeoutMs, maxBytes }` (`maxBytes` undefined when not given). */
export function checkPosixMessageQueueReceive(options: unknown): { nowait: boolean; timeoutMs: number; maxBytes: number | undefined } {
  const given = checkOptions<PosixMessageQueueReceiveOptions>('options', options);
  const maxBytes = given.maxBytes === undefined ? undefined : checkInteger('options.maxBytes', given.maxBytes, 0, MAX_ATTRIBUTE);
  return { nowait: checkOptionalBoolean('options.nowait', given.nowait), timeoutMs: checkWaitOptions(given), maxBytes };
}

/**
 * For backends: {@link PosixMessageQueue.notifications} over the backend's `notify`. Arms a
 * registration at once; each `next()` waits for the armed one, arms the next before it yields
 * (so a drain in the loop body misses nothing), and `return()` or `signal` cancels the armed one.
 */
export function posixQueueNotifications(notify: (options: WaitOptions) => Promise<void>, options?: PosixMessageQueueNotifyOptions): AsyncIterableIterator<void> {
  checkWaitOptions(options);
  const stop = new AbortController();
  const outer = options?.signal;
  const onOuterAbort = () => stop.abort(outer?.reason);
  if (outer?.aborted) stop.abort(outer.reason);
  else outer?.addEventListener('abort', onOuterAbort, { once: true });
  let finished = false;
  const finish = () => {
    finished = true;
    outer?.removeEventListener('abort', onOuterAbort);
    stop.abort();
  };
  let armed: Promise<void> | undefined;
  const arm = () => {
    try {
      armed = notify({ signal: stop.signal });
    } catch (error) {
      armed = Promise.reject(error);
    }
    // Observed here so that a registration cancelled by return() is no unhandled rejection.
    armed.catch(() => {});
  };
  arm();
  const iterator: AsyncIterableIterator<void> = {
    async next(): Promise<IteratorResult<void>> {
      if (finished && armed === undefined) return { done: true, value: undefined };
      const current = armed!;
      armed = undefined;
      try {
        await current;
      } catch (error) {
        finish();
        throw error;
      }
      if (finished) return { done: true, value: undefined };
      arm();
      return { done: false, value: undefined };
    },
    async return(): Promise<IteratorResult<void>> {
      finish();
      armed = undefined;
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
