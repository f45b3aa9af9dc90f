/**
 * Advisory file locks: the kernel's own cross-process lock, as open file description locks
 * (`fcntl` with `F_OFD_SETLK`, `F_OFD_SETLKW`, `F_OFD_GETLK`; Linux 3.15+, fcntl(2)).
 *
 * A lock is taken on a byte range of a file that every party opens by its path (the "lock file").
 * It is advisory: it stops nobody from reading or writing the file, only other lockers. Shared
 * (read) locks coexist with each other; an exclusive (write) lock excludes every other lock on
 * the bytes it covers. Ranges that do not overlap never conflict, so one file can hold many
 * independent locks.
 *
 * Who owns a lock: the open file description, i.e. one {@link LockFile} (one `open` of the
 * path). Two `LockFile`s conflict with each other even inside one process or thread; locks taken
 * through the same `LockFile` never conflict with each other: a second lock over the same bytes
 * converts them (upgrade or downgrade) and unlocking a range releases those bytes whichever call
 * locked them, as the kernel keeps one record per description and merges adjacent ranges of the
 * same type.
 *
 * The kernel releases every lock of a description when its last descriptor closes: on
 * {@link LockFile.close}, and when the process holding it dies however it dies (`SIGKILL`
 * included), so a waiter in another process then acquires. This is what lock-file packages that
 * write a pid into a file cannot do: a dead holder never leaves a stale lock behind.
 *
 * Not the same locks as `flock(2)`/`flock(1)`: on Linux those are a separate kind that never
 * conflicts with `fcntl` locks. Traditional (process-owned) `F_SETLK` locks and OFD locks do
 * conflict with each other, so a C or Python program using either `fcntl` form interoperates.
 *
 * There is no deadlock detection for OFD locks (`EDEADLK` is reported for process-owned locks
 * only): two holders of shared locks that both upgrade wait for each other until a timeout or an
 * abort ends one of the waits. Give waits that can meet that way a `timeout`.
 */
import type { IpcObject } from './object.js';
import type { NowaitOptions } from './options.js';
import { factoryToken } from './primitives.js';

/**
 * A byte range of the lock file. `start` defaults to 0; `length` defaults to `Infinity`, which
 * covers every byte from `start` on, including bytes the file does not have yet (the kernel's
 * `l_len = 0`). Locks may cover bytes past the end of the file: nothing is written to it.
 */
export interface FileLockRange {
  /** First byte, an integer >= 0 (default 0). */
  readonly start?: number;
  /** Number of bytes, an integer >= 1, or `Infinity` (default): up to the end of every possible file. */
  readonly length?: number;
}

/** Options of {@link FileLocks.open}. */
export interface LockFileOpenOptions {
  /** Create the file if it does not exist (`O_CREAT`). Without it, a missing path rejects with `ENOENT`. */
  readonly create?: boolean;
  /** Permission bits of a created file (default `0o600`), before the process's umask. */
  readonly mode?: number;
}

/**
 * Options of {@link LockFile.lock}: the range, the kind and how to wait.
 * - `nowait`: `F_OFD_SETLK`: reject at once with `EAGAIN` when another description holds a
 *   conflicting lock.
 * - `timeout`: reject with `ETIMEDOUT` once it passes (fcntl itself has no timeout: the wait is
 *   interrupted, and nothing stays locked).
 * - `signal`: abort the wait (`AbortError`). A lock the kernel granted before the abort reached it
 *   is delivered, not lost (the call then resolves).
 */
export interface FileLockOptions extends FileLockRange, NowaitOptions {
  /** A shared (read, `F_RDLCK`) lock instead of an exclusive (write, `F_WRLCK`) one. Default false. */
  readonly shared?: boolean;
}

/** Options of {@link LockFile.holder}: the range to ask about, and for which kind of lock. */
export interface FileLockQuery extends FileLockRange {
  /**
   * Ask whether a shared lock could be taken (only exclusive locks of others are then reported).
   * Default false: ask for an exclusive lock, so any lock of another description is reported.
   */
  readonly shared?: boolean;
}

/** A lock held by another open file description, as `F_OFD_GETLK` reports it. */
export interface FileLockHolder {
  /** True for a shared (read) lock, false for an exclusive (write) one. */
  readonly shared: boolean;
  /** First byte of the conflicting lock (the kernel's merged record, which may extend past the range asked about). */
  readonly start: number;
  /** Its length in bytes; `Infinity` when it runs to the end of every possible file. */
  readonly length: number;
  /**
   * Always -1: an OFD lock belongs to an open file description, which may be shared by several
   * processes (inherited or passed descriptors), so the kernel reports no process for it (`l_pid`
   * is -1; `/proc/locks` lists OFD locks without a pid too). What can be said is that the holder
   * is another open description of the same file, its kind and its range. A program that needs to
   * name the holder writes its pid into the lock file while it holds the lock. The one exception:
   * a traditional process-owned lock (`F_SETLK`, taken by a program that is not ipcx, e.g.
   * Python's `fcntl.lockf`) conflicts too, and for it the kernel reports the owning process's pid.
   */
  readonly pid: number;
}

/**
 * A lock held through a {@link LockFile}: the range and kind it was taken with. `await using`
 * releases it. It stays valid until released or until its file is closed (which releases every
 * lock of the file); other calls on the same file that cover its bytes change those bytes (see
 * {@link LockFile}).
 */
export interface HeldFileLock extends AsyncDisposable {
  /** The file it was taken on. */
  readonly file: LockFile;
  /** True while it is a shared lock; changes with {@link upgrade} and {@link downgrade}. */
  readonly shared: boolean;
  /** First byte. */
  readonly start: number;
  /** Length in bytes; `Infinity` to the end of every possible file. */
  readonly length: number;
  /** True once released (by {@link release}, `await using`, or closing its file). */
  readonly released: boolean;
  /**
   * Unlocks its range (`F_UNLCK`), waking waiters of other descriptions. Does nothing if already
   * released or if its file was closed.
   */
  release(): Promise<void>;
  /**
   * Converts the range to an exclusive lock, waiting while other descriptions hold shared locks
   * on it. The conversion is atomic: the shared lock stays held while it waits and is kept if
   * the upgrade fails (`EAGAIN` with `nowait`, `ETIMEDOUT`, `AbortError`). Rejects with `EBADF`
   * once released or closed.
   */
  upgrade(options?: NowaitOptions): Promise<void>;
  /** Converts the range to a shared lock at once (never waits), waking shared waiters. `EBADF` once released. */
  downgrade(): Promise<void>;
}

/**
 * An open lock file: one open file description (`open(path, O_RDWR | O_CLOEXEC)`), the owner of
 * the locks taken through it. Waits never block the event loop; `close()` rejects pending waits
 * with `EBADF` and releases every lock of this file.
 */
export interface LockFile extends IpcObject {
  /** The path it was opened by. */
  readonly path: string;
  /**
   * Locks a range (default: the whole file) shared or exclusive (default), waiting while another
   * description holds a conflicting lock on any byte of it (`F_OFD_SETLKW`). Resolves with the
   * held lock. Rejects with `EAGAIN` (`nowait`), `ETIMEDOUT` (`timeout`), `AbortError` (`signal`),
   * `EBADF` (closed), `ENOLCK` (the kernel's lock table is full). Waiters are not served in any
   * promised order (the kernel wakes them all and the first to retry wins).
   */
  lock(options?: FileLockOptions): Promise<HeldFileLock>;
  /**
   * Unlocks a range (default: the whole file) of this description's locks (`F_UNLCK`), whatever
   * call took them; unlocking the middle of a lock leaves its two ends locked. Never waits.
   */
  unlock(range?: FileLockRange): Promise<void>;
  /**
   * Who would block a lock on a range (`F_OFD_GETLK`): the first conflicting lock of another open
   * description, or `null` if the lock could be taken now. This description's own locks are never
   * reported. The answer may be stale by the time it arrives. See {@link FileLockHolder.pid}.
   */
  holder(query?: FileLockQuery): Promise<FileLockHolder | null>;
}

/**
 * Advisory locks on files. Native: a real file that any program can lock with `fcntl`
 * (`F_OFD_SETLK` or `F_SETLK`). Worker: a path in the emulated kernel's namespace (no file is
 * created), locked with the same rules by threads that share the kernel.
 */
export interface FileLocks {
  /**
   * Opens (with `create`, creates) the lock file at `path` for reading and writing. Rejects with
   * `ENOENT` (missing without `create`, or a missing folder), `EACCES` (no read and write
   * permission), `EISDIR`, `ENAMETOOLONG` and the other errors of `open(2)`. Throws
   * `TypeError`/`RangeError` for bad arguments.
   */
  open(path: string, options?: LockFileOpenOptions): Promise<LockFile>;
  /**
   * Removes the path (`unlink`). Open lock files keep working and keep their locks, but a later
   * `open` with `create` makes a new file whose locks are independent: remove a lock file only
   * when nobody uses it. Rejects with `ENOENT` if missing.
   */
  remove(path: string): Promise<void>;
}

/** DI token for {@link FileLocks}. */
export const FileLocks: symbol = factoryToken('fileLocks');
