/**
 * The errors of this package, as Python's module names them, each with a `code` to test for
 * (`err.code === 'EMPTY'`), because a class does not survive every hop between processes and a
 * code does.
 */

/** The codes of {@link MultiprocessingError}. */
export const ErrorCode = {
  /** The other end of a {@link Connection} closed: Python's `EOFError`. */
  eof: 'EOF',
  /** A `nowait` get found the queue empty: Python's `queue.Empty`. */
  empty: 'EMPTY',
  /** A `nowait` put found the queue full: Python's `queue.Full`. */
  full: 'FULL',
  /** A wait with `timeout` ended before it was satisfied. */
  timedOut: 'ETIMEDOUT',
  /** The object (or the queue, for a put) was closed. */
  closed: 'CLOSED',
  /** The queue was shut down (`shutdown()`): puts fail, gets fail once it is empty (Python 3.13's `ShutDown`). */
  shutDown: 'SHUT_DOWN',
  /** A {@link Barrier} was broken (reset, aborted, timed out): Python's `BrokenBarrierError`. */
  brokenBarrier: 'BROKEN_BARRIER',
  /** Released more often than acquired: Python's `ValueError` of `BoundedSemaphore` and `task_done`. */
  overRelease: 'OVER_RELEASE',
  /** Released by a process that does not hold it: Python's `RuntimeError` for an `RLock`/`Condition`. */
  notOwner: 'NOT_OWNER',
  /** A pool's worker died while running this task; the worker was replaced. */
  workerDied: 'WORKER_DIED',
  /** A pool task's function is not an export of its module. */
  noSuchTask: 'NO_SUCH_TASK',
  /** A pool was closed or terminated before this task ran. */
  poolClosed: 'POOL_CLOSED',
  /**
   * `recvBytesInto` was given a buffer too small for the message: Python's `BufferTooShort`. The
   * message was taken; the error's `bytes` holds it whole.
   */
  bufferTooShort: 'BUFFER_TOO_SHORT',
} as const;

/** One of {@link ErrorCode}'s values. */
export type ErrorCodeName = (typeof ErrorCode)[keyof typeof ErrorCode];

/** An error of this package; `code` says which (see {@link ErrorCode}). */
export class MultiprocessingError extends Error {
  /** What happened, as a stable string. */
  readonly code: ErrorCodeName;

  /** An error with `code` and `message` (and the error that caused it, if any). */
  constructor(code: ErrorCodeName, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MultiprocessingError';
    this.code = code;
  }
}

/**
 * A value that cannot be serialized (a function, a symbol, a class instance the codec refuses, a
 * descriptor-based ipcx object in a value that crosses shared memory): a `TypeError` with the
 * name and code of the web platform's `DataCloneError`. Thrown before anything is sent.
 */
export class DataCloneError extends TypeError {
  /** Always `'DATA_CLONE_ERR'`. */
  readonly code = 'DATA_CLONE_ERR' as const;

  /** A DataCloneError saying what could not be serialized. */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DataCloneError';
  }
}

/** The {@link ErrorCode.bufferTooShort} error of a message of `bytes` that did not fit `room` bytes. */
export function bufferTooShort(bytes: Uint8Array, room: number): MultiprocessingError & { readonly bytes: Uint8Array } {
  const error = new MultiprocessingError(ErrorCode.bufferTooShort, `the message has ${bytes.length} bytes, the buffer room for ${room}`);
  return Object.assign(error, { bytes });
}

/** @internal `ETIMEDOUT` for `operation` (a deadline passed, while it waited or while it waited for its turn). */
export function timedOut(operation: string): MultiprocessingError {
  return new MultiprocessingError(ErrorCode.timedOut, `timed out (${operation})`);
}

/** True for a {@link MultiprocessingError} with `code` (or any). */
export function isMultiprocessingError(value: unknown, code?: ErrorCodeName): value is MultiprocessingError {
  return value instanceof Error && value.name === 'MultiprocessingError' && (code === undefined || (value as MultiprocessingError).code === code);
}
