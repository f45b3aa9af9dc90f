/**
 * Linux event counters (`eventfd2`, eventfd(2)): one unsigned 64-bit counter in the kernel behind
 * a descriptor, the lightest way for processes (or threads) to signal each other.
 *
 * - A write adds its value to the counter. A write that would take the counter past
 *   {@link EVENTFD_MAX} (`0xfffffffffffffffe`) waits until a read makes room (`nowait`: `EAGAIN`).
 * - A read in counter mode returns the whole counter and resets it to zero; in semaphore mode
 *   (`EFD_SEMAPHORE`) it returns `1n` and takes one from the counter. A read of a zero counter
 *   waits until a write (`nowait`: `EAGAIN`).
 * - Values are `bigint` (the counter is a `u64`); writes also take a safe-integer `number`.
 *
 * The object reaches other processes as a descriptor: in `processes.spawn(entry, { args })` (the
 * child gets an `Eventfd`), over a Unix socket (`send(data, { transfer: [eventfd] })`,
 * `SCM_RIGHTS`: a bare descriptor carries no ipcx kind, so on backends with OS descriptors it
 * arrives as a generic `Descriptor` of type `'eventfd'`, which {@link Eventfds.adopt} turns into an
 * `Eventfd`), or to any program through `spawnExecutable`'s descriptor map, where C
 * (`read`/`write` of 8 bytes, `eventfd_read`) and Python (`os.eventfd_read`/`os.eventfd_write`)
 * use it as usual: the native backend's object is the kernel's own. Each copy is a descriptor of the same counter; the counter lives until the last
 * copy in every process is closed (it has no name and is never "removed").
 */
import type { Descriptor, DescriptorBacked } from './descriptor.js';
import { factoryToken } from './primitives.js';
import type { IpcObject } from './object.js';
import type { NowaitOptions } from './options.js';
import type { Transferable } from './transfer.js';

/** The largest value the counter can hold (`0xfffffffffffffffe`, one less than `u64`'s maximum). */
export const EVENTFD_MAX = 0xfffffffffffffffen;

/** The largest initial value: `eventfd2` takes it as an `unsigned int`. */
export const EVENTFD_INITIAL_MAX = 0xffffffff;

/** Options of {@link Eventfds.create}. */
export interface EventfdOptions {
  /** The counter's starting value, 0 (default) to {@link EVENTFD_INITIAL_MAX}. */
  readonly initial?: number | bigint;
  /**
   * Semaphore mode (`EFD_SEMAPHORE`): each read takes one (`1n`) instead of the whole counter.
   * Default false.
   */
  readonly semaphore?: boolean;
}

/**
 * An event counter (see the module's description). `close()` ends this handle's pending reads and
 * writes with `EBADF`; other copies (in children, or received over a socket) keep the counter.
 */
export interface Eventfd extends IpcObject, DescriptorBacked, Transferable {
  /**
   * True when created (or received) in semaphore mode (`EFD_SEMAPHORE`). For a descriptor taken
   * over by {@link Eventfds.adopt} the kernel is asked (`/proc/self/fdinfo`); kernels before 6.4 do
   * not say, and it is then false, while reads still behave as the counter was made.
   */
  readonly semaphore: boolean;
  /**
   * Reads the counter (8 bytes): in counter mode its whole value, leaving zero; in semaphore mode
   * `1n`, taking one. While it is zero the read waits without blocking the event loop; rejects with
   * `EAGAIN` (`nowait`), `ETIMEDOUT` (`timeout`), `AbortError` (`signal`), `EBADF` (closed, also for
   * a read pending at the close). A value the kernel handed over before a cancel reached the wait is
   * delivered (the read resolves), never lost. Waiting readers are not served in a promised order.
   */
  read(options?: NowaitOptions): Promise<bigint>;
  /**
   * Adds `value` (default 1; a `bigint` or a safe integer, 0 to {@link EVENTFD_MAX}) to the counter,
   * waking readers. When the sum would exceed {@link EVENTFD_MAX} it waits until reads make room:
   * `EAGAIN` with `nowait`, `ETIMEDOUT`, `AbortError`, `EBADF` as for {@link Eventfd.read}; a write
   * that was cancelled added nothing. Throws `TypeError`/`RangeError` for a bad value.
   */
  write(value?: number | bigint, options?: NowaitOptions): Promise<void>;
}

/** Creates event counters. */
export interface Eventfds {
  /**
   * A new counter (`eventfd2(initial, EFD_CLOEXEC [| EFD_SEMAPHORE])`). Rejects with `EMFILE` /
   * `ENFILE` (no descriptor left) or `ENOMEM`; throws `TypeError`/`RangeError` for bad options.
   */
  create(options?: EventfdOptions): Promise<Eventfd>;
  /**
   * The `Eventfd` of an object that arrived from elsewhere: an `Eventfd` is returned as it is; a
   * generic {@link Descriptor} of type `'eventfd'` (received over a Unix socket, or in spawn args
   * from code that sent it as a descriptor) is taken over: the result is a new descriptor of the
   * same counter, in the mode the kernel reports for it, and `descriptor` is closed. Throws
   * `TypeError` for anything else, `EBADF` for a closed descriptor.
   */
  adopt(object: Eventfd | Descriptor): Promise<Eventfd>;
}

/** DI token for {@link Eventfds}. */
export const Eventfds: symbol = factoryToken('eventfds');

// Argument checks of this primitive, shared by every backend (same TypeError/RangeError everywhere).
