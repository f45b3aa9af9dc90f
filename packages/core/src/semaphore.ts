/**
 * System V semaphore sets (`semget`, `semop`, `semtimedop`, `semctl`), as svipc(7) and semop(2)
 * define them.
 *
 * A set holds `size` counters, each `0..SEMVMX` (32767). One {@link SemaphoreSet.operate} call
 * applies a list of operations all-or-nothing: either every operation can be applied now and all
 * are applied at once, or none is and the caller waits (or fails with `EAGAIN` when asked not to
 * wait). The set lives in the kernel until removed, whatever happens to the processes using it.
 *
 * Range rule, the same on every backend: an argument that is out of range by itself (an index past
 * the set's size, a delta or value outside `-SEMVMX..SEMVMX` / `0..SEMVMX`, a size outside
 * `1..SEMMSL`) is a `RangeError` thrown before any call; a result that would leave a counter above
 * `SEMVMX` depends on the set's state and is the kernel's `ERANGE`. Limits that the administrator
 * can tune (`SEMOPM` operations per call, `SEMMNI` sets) are the kernel's to enforce (`E2BIG`,
 * `ENOSPC`).
 */
import type { IpcObject } from './object.js';
import type { NowaitOptions } from './options.js';
import { factoryToken } from './primitives.js';

/** The largest value a semaphore can hold (`SEMVMX`). */
export const SEMVMX = 32767;
/**
 * The largest number of semaphores in one set (`SEMMSL`, Linux's default). Larger sizes are a
 * `RangeError` on every backend, so that code that runs on one runs on all.
 */
export const SEMMSL = 32000;
/**
 * Linux's default limit of operations in one `semop` call (`SEMOPM`, the third field of
 * `/proc/sys/kernel/sem`). More operations fail with `E2BIG` from the kernel, which reads the
 * limit at the time of the call.
 */
export const SEMOPM = 500;

/**
 * One operation of a {@link SemaphoreSet.operate} call, as a `struct sembuf`.
 * - `delta > 0`: add to the semaphore (never waits; `ERANGE` if it would pass `SEMVMX`).
 * - `delta < 0`: subtract; waits while the value is smaller than `-delta`.
 * - `delta === 0`: wait until the value is zero.
 */
export interface SemaphoreOperation {
  /** Which semaphore of the set, `0..size - 1`. */
  readonly index: number;
  /** The amount to add (negative: subtract), `-SEMVMX..SEMVMX`; `0` waits for zero. */
  readonly delta: number;
  /**
   * `IPC_NOWAIT` for this operation: the kernel checks the list in order, and if the first
   * operation that cannot be applied now has this flag, the whole call fails with `EAGAIN` instead
   * of waiting (nothing is applied). If an earlier operation without it has to wait, the call waits.
   */
  readonly nowait?: boolean;
  /**
   * `SEM_UNDO`: the kernel records the opposite of `delta` for this process and applies it when the
   * process ends, however it ends (even `SIGKILL`), so a crashed holder gives its units back.
   */
  readonly undo?: boolean;
}

/**
 * Options of {@link SemaphoreSet.operate}.
 * - `nowait`: `IPC_NOWAIT` on every operation: fail at once with `EAGAIN` instead of waiting.
 * - `timeout`: wait at most this many milliseconds; the kernel's `semtimedop` then fails with
 *   `EAGAIN` (not `ETIMEDOUT`: that is what `semtimedop` reports), and nothing has been applied.
 * - `signal`: abort the wait (`AbortError`); nothing has been applied unless the operations
 *   completed before the abort reached the kernel, in which case the call resolves normally.
 */
export type SemaphoreOperateOptions = NowaitOptions;

/** Options of {@link SemaphoreSet.post}. */
export interface SemaphorePostOptions {
  /** `SEM_UNDO`: subtract the units again when this process ends. */
  readonly undo?: boolean;
}

/** Options of {@link SemaphoreSet.wait} and {@link SemaphoreSet.waitForZero}. */
export interface SemaphoreWaitOptions extends SemaphoreOperateOptions {
  /** `SEM_UNDO`: give the units back when this process ends (only meaningful for `wait`). */
  readonly undo?: boolean;
}

/** What `IPC_STAT` reports about a set (`struct semid_ds`). */
export interface SemaphoreSetStat {
  /** The set's key (`0` for an `IPC_PRIVATE` set). */
  readonly key: number;
  /** Number of semaphores (`sem_nsems`). */
  readonly size: number;
  /** Permission bits (`sem_perm.mode & 0o777`). */
  readonly mode: number;
  /** Owner's user and group ids (`sem_perm.uid`, `sem_perm.gid`). */
  readonly uid: number;
  readonly gid: number;
  /** Creator's user and group ids (`sem_perm.cuid`, `sem_perm.cgid`). */
  readonly cuid: number;
  readonly cgid: number;
  /** Time of the last `semop` (`sem_otime`), `null` if none yet. Second resolution. */
  readonly otime: Date | null;
  /** Time of creation or the last `IPC_SET`/`SETVAL`/`SETALL` (`sem_ctime`). Second resolution. */
  readonly ctime: Date;
}

/** Fields `IPC_SET` can change; omitted ones keep their value. Needs ownership (or privilege). */
export interface SemaphoreSetAttributes {
  /** New permission bits (`0..0o777`). */
  readonly mode?: number;
  /** New owner user id. */
  readonly uid?: number;
  /** New owner group id. */
  readonly gid?: number;
}

/**
 * A System V semaphore set, reached by its id.
 *
 * Travels to children by id (`processes.spawn(entry, { args: [set] })`): the child operates on the
 * same kernel set. `close()` only gives up this handle (pending waits reject with `EBADF`); the set
 * stays in the kernel until {@link remove} (or `ipcrm -s`). Every method throws or rejects with
 * `EBADF` after `close()`.
 *
 * The `semctl` reads and writes below are synchronous: they never wait in the kernel. Failures are
 * `IpcError`s with the kernel's code: `EACCES` without permission, `EINVAL`/`EIDRM` once the set has
 * been removed, `EPERM` for `IPC_SET`/`IPC_RMID` by a non-owner.
 */
export interface SemaphoreSet extends IpcObject {
  /** The kernel's id of the set (what `ipcs -s` lists as `semid`). */
  readonly id: number;
  /** The key it was opened by (`0` for `IPC_PRIVATE` or when opened by id). */
  readonly key: number;
  /** Number of semaphores in the set, fixed at creation. */
  readonly size: number;

  /**
   * Applies `operations` atomically, all-or-nothing, in one `semop`/`semtimedop` call: nothing is
   * applied until every operation can be, and then all are applied at once. Resolves when applied.
   *
   * Waits (without blocking the event loop) while any operation would make a value negative or
   * waits for zero. Rejects with `EAGAIN` if `nowait` (or the own `nowait` of the first operation
   * that cannot be applied) and it would wait, or when `timeout` passes (the kernel's `semtimedop` code); `EIDRM` if the set is removed
   * while waiting; `ERANGE` if a value would exceed `SEMVMX`; `E2BIG` with more operations than
   * the kernel's `SEMOPM`; `EACCES` without permission; `AbortError` when `signal` fires; `EBADF`
   * when this handle is closed; `EAGAIN` with `syscall` `'pthread_create'` when the wait needs a
   * thread and none can be started (see `WaitOptions`; nothing was applied). Throws
   * `TypeError`/`RangeError` for an empty list, a hole in it (a sparse array), an index outside
   * the set, or a delta that is not an integer in `-SEMVMX..SEMVMX`.
   */
  operate(operations: readonly SemaphoreOperation[], options?: SemaphoreOperateOptions): Promise<void>;
  /** `operate([{ index, delta: -count, undo }])`: takes `count` (default 1) units, waiting for them. */
  wait(index: number, count?: number, options?: SemaphoreWaitOptions): Promise<void>;
  /**
   * Adds `count` (default 1) units to semaphore `index` at once (`semop`, never waits) and wakes the
   * waiters that can now proceed. Throws `ERANGE` if the value would exceed `SEMVMX`.
   */
  post(index: number, count?: number, options?: SemaphorePostOptions): void;
  /** `operate([{ index, delta: 0 }])`: waits until semaphore `index` is zero. */
  waitForZero(index: number, options?: SemaphoreOperateOptions): Promise<void>;

  /** The value of semaphore `index` (`GETVAL`). */
  value(index: number): number;
  /**
   * Sets semaphore `index` to `value` (`SETVAL`, `0..SEMVMX`, else `RangeError`), waking waiters it
   * satisfies. Clears every process's `SEM_UNDO` adjustment for that semaphore, as the kernel does.
   */
  setValue(index: number, value: number): void;
  /** Every value, in index order (`GETALL`). */
  values(): number[];
  /** Sets every value at once (`SETALL`); `values.length` must equal `size`, each `0..SEMVMX`. */
  setValues(values: readonly number[]): void;
  /** How many processes (threads) wait for semaphore `index` to increase (`GETNCNT`). */
  waitingForIncrease(index: number): number;
  /** How many wait for semaphore `index` to become zero (`GETZCNT`). */
  waitingForZero(index: number): number;
  /** The pid of the process that last operated on semaphore `index` (`GETPID`); `0` if none. */
  lastPid(index: number): number;
  /** The set's metadata (`IPC_STAT`). */
  stat(): SemaphoreSetStat;
  /** Changes owner and permissions (`IPC_SET`). `EPERM` unless owner, creator or privileged. */
  set(attributes: SemaphoreSetAttributes): void;
  /**
   * Removes the set from the kernel (`IPC_RMID`) at once: every process waiting on it, here or
   * elsewhere, fails with `EIDRM`; later use of its id fails with `EINVAL` (or `EIDRM`). Does not
   * close this handle.
   */
  remove(): Promise<void>;
}

/** Options of {@link Semaphores.open}, the flags of `semget`. */
export interface SemaphoreSetOpenOptions {
  /**
   * Number of semaphores (`1..SEMMSL`). Needed to create; when opening an existing set it may be
   * omitted, else it must not exceed the set's size (`EINVAL`). The handle's
   * {@link SemaphoreSet.size} is always the kernel's size of the set, never this number (also for
   * a user who may alter the set but not read it).
   */
  readonly size?: number;
  /** `IPC_CREAT`: create the set if the key has none. New semaphores start at 0. */
  readonly create?: boolean;
  /** `IPC_EXCL` (with `create`): fail with `EEXIST` if the key already has a set. */
  readonly exclusive?: boolean;
  /** Permission bits of a new set (default `0o600`). There is no umask for System V objects. */
  readonly mode?: number;
}

/**
 * System V semaphore sets: `semget` by key, or a private set that only the processes it is passed
 * to can reach.
 */
export interface Semaphores {
  /**
   * `semget(key, size, flags)`. `key` is a number (e.g. from `ftok`) or `'private'` for
   * `IPC_PRIVATE` (always a new set; `size` required; key `0` means the same).
   *
   * Rejects with `ENOENT` when the key has no set and `create` is not set, `EEXIST` for
   * `create` + `exclusive` on an existing key, `EACCES` when `mode` asks for more than the caller
   * is allowed or the caller may neither read nor alter the set, `EINVAL` when `size` exceeds an existing set's size, `ENOSPC` when the system's
   * limit of sets is reached. Throws `TypeError`/`RangeError` for bad arguments.
   */
  open(key: number | 'private', options?: SemaphoreSetOpenOptions): Promise<SemaphoreSet>;
  /**
   * A set by its id (what `ipcs -s` and `ipcmk -S` print), e.g. one made by another program.
   * Reads its size with `IPC_STAT`: `EACCES` without read permission, `EINVAL` for no such set.
   */
  openById(id: number): Promise<SemaphoreSet>;
  /**
   * Removes the set `id` (`semctl(IPC_RMID)`) without a handle, as `ipcrm -s` does: every process
   * waiting on it gets `EIDRM`. Needs no read permission (unlike {@link openById}): allowed to the
   * owner, the creator and privileged processes (`EPERM` otherwise). Rejects with `EINVAL` when no
   * set has this id. Throws `TypeError`/`RangeError` unless `id` is an integer from 0 to 2^31 - 1.
   */
  removeById(id: number): Promise<void>;
}

/** DI token for {@link Semaphores}. */
export const Semaphores: symbol = factoryToken('semaphores');
