/**
 * OS descriptors: what ipcx objects expose of theirs ({@link DescriptorBacked}), what may be given
 * where an object is passed ({@link DescriptorSource}), and the generic {@link Descriptor} that
 * every received descriptor becomes when it is no pipe, FIFO or socket ipcx knows (a regular file,
 * a directory, a memfd, an eventfd, a character device, ...).
 */
import type { IpcObject } from './object.js';
import type { WaitOptions } from './options.js';
import type { Transferable } from './transfer.js';

/**
 * An object that is an OS descriptor on backends whose objects are the kernel's own (native).
 */
export interface DescriptorBacked {
  /**
   * The descriptor number of this object in this process, for handing it to code outside ipcx:
   * a `processes.spawnExecutable` descriptor map, Node's `child_process` `stdio`, `fs.fstatSync`,
   * a C addon. ipcx owns it: do not close it, `dup2` over it or change its flags (ipcx keeps the
   * kernel's default, blocking, on descriptions that other processes may share, and does not rely
   * on any flag of them). `-1` once closed; `undefined` on a backend whose objects are no OS
   * descriptors (worker).
   */
  readonly fd?: number;
}

/**
 * What may be given where a descriptor is passed to something outside ipcx (the descriptor map of
 * `spawnExecutable`, `transfer` of a socket `send`): an ipcx object with a descriptor, Node's
 * `fs.promises.FileHandle` (anything with a numeric `fd`), or a plain descriptor number. The
 * descriptor stays owned by whoever owned it; the receiver gets its own copy.
 */
export type DescriptorSource = (IpcObject & DescriptorBacked) | Transferable | { readonly fd: number } | number;

/** What kind of file a descriptor refers to, from `fstat` (and `/proc/self/fd` for anonymous inodes). */
export type DescriptorType =
  | 'file'
  | 'memfd'
  | 'directory'
  | 'character-device'
  | 'block-device'
  | 'fifo'
  | 'socket'
  | 'symlink'
  | 'eventfd'
  | 'epoll'
  | 'timerfd'
  | 'signalfd'
  | 'pidfd'
  | 'inotify'
  | 'other';

/** What {@link Descriptor.stat} reports (`fstat`). */
export interface DescriptorStat {
  readonly type: DescriptorType;
  /** Size in bytes (regular files and memfds; 0 or device-specific otherwise). */
  readonly size: number;
  /** Permission bits. */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly dev: number;
  readonly ino: number;
}

/** Options of {@link Descriptor.read}. */
export interface DescriptorReadOptions extends WaitOptions {
  /** Most bytes to read (default 65536). */
  readonly maxBytes?: number;
  /** Read at this offset (`pread`), leaving the file offset alone. Default: at the file offset (`read`). */
  readonly position?: number;
}

/** Options of {@link Descriptor.write}. */
export interface DescriptorWriteOptions extends WaitOptions {
  /** Write at this offset (`pwrite`), leaving the file offset alone. Default: at the file offset (`write`). */
  readonly position?: number;
}

/**
 * Any open descriptor that is no pipe, FIFO or socket ipcx knows: a regular file, a directory, a
 * memfd, an eventfd (`eventfds.adopt` makes it an `Eventfd`), a character device, ... It is what
 * such a descriptor becomes when it arrives over a Unix socket (`SCM_RIGHTS`) or in a child's
 * spawn args, and it can be sent on like any other object (`send(data, { transfer: [descriptor] })`,
 * `spawn(entry, { args: [descriptor] })`).
 *
 * Reads and writes never block the event loop: each first tries without waiting
 * (`preadv2`/`pwritev2` with `RWF_NOWAIT`); what would wait (a page not in the cache, an empty
 * eventfd, a terminal) waits on a thread of the backend's, which `signal`, `timeout` and `close()`
 * interrupt. A descriptor may refer to something shared with other processes (its file offset is
 * shared with every copy of the same open file description).
 */
export interface Descriptor extends IpcObject, Transferable {
  /** The descriptor number (see {@link DescriptorBacked.fd}); -1 once closed. */
  readonly fd: number;
  /** What it refers to, as of when it arrived. */
  readonly type: DescriptorType;
  /** How it was opened: `O_RDONLY`, `O_WRONLY` or `O_RDWR`. */
  readonly access: 'read' | 'write' | 'readwrite';
  /** `fstat` now. Throws `EBADF` once closed. */
  stat(): DescriptorStat;
  /**
   * A second descriptor for the same open file description (`fcntl(F_DUPFD_CLOEXEC)`): shares the
   * file offset and flags; closing one leaves the other open.
   */
  dup(): Descriptor;
  /**
   * Resolves with the bytes read (up to `maxBytes`), or `null` at end of file (a read of 0
   * bytes). Waits while there is nothing to read (an empty eventfd, a terminal) without blocking
   * the event loop; `ETIMEDOUT` on timeout. Errors are the kernel's (`EISDIR` for a directory,
   * `EBADF` for a descriptor not opened for reading, `EINVAL` for an eventfd read of under 8 bytes).
   */
  read(options?: DescriptorReadOptions): Promise<Uint8Array | null>;
  /** Writes all of `data` (a string is UTF-8), at `position` or the file offset; resolves with the byte count. */
  write(data: Uint8Array | string, options?: DescriptorWriteOptions): Promise<number>;
  /** A Web `ReadableStream` of the bytes from the file offset to end of file; cancelling closes the descriptor. */
  readableStream(): ReadableStream<Uint8Array>;
  /** A Web `WritableStream` writing at the file offset; closing it closes the descriptor. */
  writableStream(): WritableStream<Uint8Array>;
}
