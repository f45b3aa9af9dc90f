/**
 * Argument checks of advisory file locks, and the one held-lock class every backend returns
 * ({@link HeldRangeLock} over the backend's {@link RangeLockFile}).
 *
 * For backends only (`@ipcx/core/backend`): every backend validates through these, so misuse
 * raises the same `TypeError`/`RangeError` with the same message before any system call.
 */
import { checkInteger, checkOptionalBoolean, checkOptions, checkString, checkWaitOptions } from './validate.js';
import { closedError } from '../errors.js';
import type { FileLockOptions, FileLockQuery, FileLockRange, HeldFileLock, LockFile, LockFileOpenOptions } from '../file-lock.js';
import type { NowaitOptions } from '../options.js';
import type { FileLocks } from '../file-lock.js';

/** A range with every field checked: `length` is `Infinity` for "to the end". */
export interface CheckedFileLockRange {
  readonly start: number;
  readonly length: number;
}

/** For backends: checks the path and options of {@link FileLocks.open}. */
export function checkLockFileOpen(path: unknown, options: unknown): { create: boolean; mode: number } {
  checkString('path', path);
  const { create, mode } = checkOptions<LockFileOpenOptions>('options', options);
  return {
    create: checkOptionalBoolean('options.create', create),
    mode: mode === undefined ? 0o600 : checkInteger('options.mode', mode, 0, 0o7777),
  };
}

/**
 * For backends: checks a {@link FileLockRange}. Offsets are integers up to
 * `Number.MAX_SAFE_INTEGER`, and so is the last byte of a finite range.
 */
export function checkFileLockRange(range: FileLockRange | undefined): CheckedFileLockRange {
  const { start, length } = checkOptions<FileLockRange>('options', range);
  const first = start === undefined ? 0 : checkInteger('options.start', start, 0, Number.MAX_SAFE_INTEGER);
  if (length === undefined || length === Infinity) return { start: first, length: Infinity };
  const size = checkInteger('options.length', length, 1, Number.MAX_SAFE_INTEGER);
  if (size - 1 > Number.MAX_SAFE_INTEGER - first) throw new RangeError(`options.start + options.length must not pass ${Number.MAX_SAFE_INTEGER}, received ${first} + ${size}`);
  return { start: first, length: size };
}

/** For backends: checks the options of {@link LockFile.lock}. */
export function checkLockFileLock(options: unknown): CheckedFileLockRange & { shared: boolean; nowait: boolean; signal: AbortSignal | undefined; timeoutMs: number } {
  const given = checkOptions<FileLockOptions>('options', options);
  const range = checkFileLockRange(given);
  const timeoutMs = checkWaitOptions(given);
  return { ...range, shared: checkOptionalBoolean('options.shared', given.shared), nowait: checkOptionalBoolean('options.nowait', given.nowait), signal: given.signal, timeoutMs };
}

/** For backends: checks the query of {@link LockFile.holder}. */
export function checkLockFileHolder(query: unknown): CheckedFileLockRange & { shared: boolean } {
  const given = checkOptions<FileLockQuery>('query', query);
  return { ...checkFileLockRange(given), shared: checkOptionalBoolean('query.shared', given.shared) };
}

/**
 * For backends: what a lock file gives the {@link HeldRangeLock} it hands out. `setLock` takes
 * (or converts) a lock of `exclusive` kind over the range, waiting as `options` say; `unlock`
 * drops the range; `forget`, if present, stops tracking `held` (it is being released).
 */
export interface RangeLockFile extends LockFile {
  setLock(exclusive: boolean, start: number, length: number, options: NowaitOptions | undefined): Promise<void>;
  forget?(held: HeldFileLock): void;
}

/**
 * For backends: the {@link HeldFileLock} of every backend. Release, upgrade and downgrade are
 * operations on the lock file's range (the kernel, or the emulation, converts a range in place),
 * so the held lock only remembers its range and kind.
 */
export class HeldRangeLock implements HeldFileLock {
  private isShared: boolean;
  private isReleased = false;

  constructor(
    /** See {@link HeldFileLock.file}. */
    readonly file: RangeLockFile,
    shared: boolean,
    /** See {@link HeldFileLock.start}. */
    readonly start: number,
    /** See {@link HeldFileLock.length}. */
    readonly length: number,
  ) {
    this.isShared = shared;
  }

  /** See {@link HeldFileLock.shared}. */
  get shared(): boolean {
    return this.isShared;
  }

  /** See {@link HeldFileLock.released}. */
  get released(): boolean {
    return this.isReleased || this.file.closed;
  }

  /** See {@link HeldFileLock.release}. */
  async release(): Promise<void> {
    if (this.released) return;
    this.isReleased = true;
    this.file.forget?.(this);
    await this.file.unlock({ start: this.start, length: this.length });
  }

  /** See {@link HeldFileLock.upgrade}: the range is converted in place, the shared lock kept while it waits. */
  async upgrade(options?: NowaitOptions): Promise<void> {
    if (this.released) throw closedError(`file lock on '${this.file.path}'`, 'fcntl');
    await this.file.setLock(true, this.start, this.length, options);
    this.isShared = false;
  }

  /** See {@link HeldFileLock.downgrade}. */
  async downgrade(): Promise<void> {
    if (this.released) throw closedError(`file lock on '${this.file.path}'`, 'fcntl');
    // A shared lock over bytes this file holds exclusively never conflicts: it cannot wait.
    await this.file.setLock(false, this.start, this.length, { nowait: true });
    this.isShared = true;
  }

  /** `await using`: {@link HeldRangeLock.release}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }
}
