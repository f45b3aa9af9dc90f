/**
 * POSIX named semaphores (`sem_open`, `sem_wait`, `sem_trywait`, `sem_timedwait`, `sem_post`,
 * `sem_getvalue`, `sem_close`, `sem_unlink`), as sem_overview(7) defines them: one counter per
 * name, shared by every process that opens the name, living until unlinked.
 */
import type { IpcObject } from './object.js';
import type { NowaitOptions } from './options.js';
import type { SharedSegment } from './shared-memory.js';
import { factoryToken } from './primitives.js';

/** The largest value a POSIX semaphore can hold on Linux (`SEM_VALUE_MAX`, `INT_MAX`). */
export const SEM_VALUE_MAX = 2147483647;

/** Bytes an unnamed semaphore takes inside a segment (`sizeof(sem_t)` on 64-bit Linux). */
export const POSIX_SEMAPHORE_BYTES = 32;

/** Alignment, in bytes, of an unnamed semaphore's offset inside a segment (`alignof(sem_t)`). */
export const POSIX_SEMAPHORE_ALIGN = 8;

/** Options of {@link PosixSemaphores.open}: the flags and arguments of `sem_open`. */
export interface PosixSemaphoreOpenOptions {
  /** `O_CREAT`: create the semaphore if the name does not exist. */
  readonly create?: boolean;
  /** `O_EXCL` (with `create`): fail with `EEXIST` if the name exists. */
  readonly exclusive?: boolean;
  /** Permission bits of a new semaphore (default `0o600`), before the process's umask. */
  readonly mode?: number;
  /** Initial value of a new semaphore, `0..SEM_VALUE_MAX` (default 0). Ignored if it exists. */
  readonly initial?: number;
}

/**
 * Options of {@link PosixSemaphore.wait}.
 * - `nowait`: `sem_trywait`: fail at once with `EAGAIN` if the value is zero.
 * - `timeout`: `sem_timedwait`: fail with `ETIMEDOUT` once it passes (measured on the monotonic
 *   clock, so a change of the wall clock does not shorten or stretch it).
 * - `signal`: abort the wait (`AbortError`). A unit taken before the abort reached the kernel is
 *   not lost: the call then resolves normally.
 */
export type PosixSemaphoreWaitOptions = NowaitOptions;

/**
 * An open POSIX named semaphore.
 *
 * Travels to children by name (`processes.spawn(entry, { args: [semaphore] })`): the child opens the
 * same name, so it must not have been unlinked before the child starts. `close()` (`sem_close`)
 * gives up this handle only, after rejecting pending waits with `EBADF`; the semaphore lives on
 * until {@link PosixSemaphores.unlink} and the last close. Every method throws or rejects with
 * `EBADF` after `close()`.
 */
export interface PosixSemaphore extends IpcObject {
  /** The name it was opened by, e.g. `'/jobs'`; `''` for an unnamed semaphore. */
  readonly name: string;
  /**
   * Takes one unit (`sem_wait`), waiting while the value is zero, without blocking the event loop.
   * Waiters are woken one per `post`. Rejects with `EAGAIN` (`nowait`), `ETIMEDOUT` (`timeout`),
   * `AbortError` (`signal`) or `EBADF` (closed).
   */
  wait(options?: PosixSemaphoreWaitOptions): Promise<void>;
  /** `sem_trywait`: takes one unit if there is one; returns false (the kernel's `EAGAIN`) if not. */
  tryWait(): boolean;
  /** Adds one unit (`sem_post`), waking one waiter. Throws `EOVERFLOW` at `SEM_VALUE_MAX`. */
  post(): void;
  /** The current value (`sem_getvalue`); 0 while processes are waiting (Linux never reports negative). */
  value(): number;
}

/**
 * POSIX semaphores, named and unnamed.
 *
 * Named: a name is `'/something'` (one slash, at the start, at most 251 bytes); on Linux it
 * appears as `/dev/shm/sem.something`.
 *
 * Unnamed: `sem_init` with `pshared = 1` places a semaphore inside a writable shared-memory segment
 * at a byte offset ({@link POSIX_SEMAPHORE_BYTES} bytes, aligned to {@link POSIX_SEMAPHORE_ALIGN});
 * every process that maps the segment uses it through {@link PosixSemaphores.attach}. It lives as
 * long as the segment's memory; the handle keeps the segment mapped while waits are in flight, and
 * closing the segment first closes the semaphores placed in it (their pending waits reject with
 * `EBADF`). It travels to children with its segment.
 */
export interface PosixSemaphores {
  /**
   * Opens (or with `create`, creates) a named semaphore (`sem_open`). Rejects with `ENOENT` if it
   * does not exist and `create` is not set, `EEXIST` for `create` + `exclusive` on an existing
   * name, `EACCES` without permission, `EINVAL` for a malformed name, `ENAMETOOLONG`. Throws
   * `TypeError`/`RangeError` for bad arguments.
   */
  open(name: string, options?: PosixSemaphoreOpenOptions): Promise<PosixSemaphore>;
  /**
   * Removes the name (`sem_unlink`): later opens get `ENOENT` (or create a new semaphore); processes
   * that have it open keep using it until they close it. Rejects with `ENOENT` if missing, `EACCES`.
   */
  unlink(name: string): Promise<void>;
  /**
   * Initializes a new unnamed semaphore with value `initial` (default 0) at `byteOffset` of
   * `segment` (`sem_init(sem, 1, initial)`), overwriting those bytes, and returns a handle on it.
   * Do it once, before other processes attach. Throws `RangeError` for an offset that is not
   * aligned or does not leave {@link POSIX_SEMAPHORE_BYTES} bytes, `TypeError` for a segment of
   * another backend, `EACCES` for a read-only segment, `EBADF` for a closed one.
   */
  init(segment: SharedSegment, byteOffset: number, initial?: number): Promise<PosixSemaphore>;
  /** A handle on the unnamed semaphore that some process initialized at `byteOffset` of `segment`. Errors as for {@link init}. */
  attach(segment: SharedSegment, byteOffset: number): Promise<PosixSemaphore>;
}

/** DI token for {@link PosixSemaphores}. */
export const PosixSemaphores: symbol = factoryToken('posixSemaphores');
