import { Errno, errnoMessage, type ErrnoName } from './errno.js';

/** What an {@link IpcError} concerns, beyond the system call: the object's name, path or key. */
export interface IpcErrorDetails {
  /** The system call that failed (`'msgrcv'`, `'open'`, ...), or the emulated operation's name. */
  readonly syscall: string;
  /** The Linux errno number; derived from the code when omitted. */
  readonly errno?: number;
  /** A path the call concerned (FIFO, socket path, POSIX name). */
  readonly path?: string;
  /** A System V key or id the call concerned. */
  readonly key?: number;
  /** A short description of the ipcx object, e.g. `'pipe reader'`. */
  readonly object?: string;
  /**
   * Human-readable text. The default is the code, the system's text for it and what the call
   * concerned: `ENOMSG: No message of desired type (msgrcv, key 0x0000002a)`.
   */
  readonly message?: string;
}

/**
 * What the system (or an emulated kernel) refused. `code` is the errno name that Node users already
 * test for (`'EEXIST'`, `'EAGAIN'`, `'EIDRM'`, ...); `errno` is its Linux number; `syscall` names the
 * call. Backends raise the same `code` in the same situation, so code that handles errors by `code`
 * runs unchanged on every backend.
 */
export class IpcError extends Error {
  /** The errno name, e.g. `'ENOMSG'`. */
  readonly code: ErrnoName | `E${string}`;
  /** The Linux errno number (e.g. 42 for `ENOMSG`). */
  readonly errno: number;
  /** The system call, or emulated operation, that failed. */
  readonly syscall: string;
  /** The path concerned, if any. */
  readonly path?: string;
  /** The System V key or id concerned, if any. */
  readonly key?: number;
  /** The ipcx object concerned, if any. */
  readonly object?: string;

  constructor(code: ErrnoName | `E${string}`, details: IpcErrorDetails) {
    const concerns = [
      details.syscall,
      details.path !== undefined ? `'${details.path}'` : undefined,
      // As ipcs prints keys: 32-bit hexadecimal.
      details.key !== undefined ? `key 0x${(details.key >>> 0).toString(16).padStart(8, '0')}` : undefined,
      details.object,
    ].filter((part) => part !== undefined && part !== '');
    super(details.message ?? `${code}: ${errnoMessage(code)} (${concerns.join(', ')})`);
    this.name = 'IpcError';
    this.code = code;
    this.errno = details.errno ?? (Errno as Record<string, number>)[code] ?? 0;
    this.syscall = details.syscall;
    if (details.path !== undefined) this.path = details.path;
    if (details.key !== undefined) this.key = details.key;
    if (details.object !== undefined) this.object = details.object;
  }
}

/**
 * The rejection of an operation whose `AbortSignal` fired: `name` `'AbortError'` and code
 * `'ABORT_ERR'`, as Node's own APIs report it. The signal's reason is kept as `cause`.
 */
export class AbortError extends Error {
  /** Always `'ABORT_ERR'`, as in Node. */
  readonly code = 'ABORT_ERR' as const;

  constructor(message = 'The operation was aborted', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AbortError';
  }
}

/** True for an {@link IpcError} with the given code (or any code when omitted). */
export function isIpcError(value: unknown, code?: string): value is IpcError {
  return value instanceof Error && value.name === 'IpcError' && (code === undefined || (value as IpcError).code === code);
}

/** The error to reject with when `signal` has fired. */
export function abortErrorFor(signal: AbortSignal): AbortError {
  return new AbortError(undefined, { cause: signal.reason });
}

/** The error for using an object after `close()`: `EBADF`, as the kernel says for a closed descriptor. */
export function closedError(object: string, syscall: string): IpcError {
  return new IpcError('EBADF', { syscall, object, message: `EBADF: ${object} is closed (${syscall})` });
}
