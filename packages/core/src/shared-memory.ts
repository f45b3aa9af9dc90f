/**
 * Shared memory: System V segments (`shmget`/`shmat`), POSIX shared-memory objects (`shm_open` +
 * `mmap`) and shared file mappings (`mmap` of a regular file), each seen as bytes by every process
 * that maps it, with a cross-process `wait`/`notify` on its 32-bit cells.
 */
import type { IpcObject } from './object.js';
import type { WaitOptions } from './options.js';
import type { Transferable } from './transfer.js';
import { factoryToken } from './primitives.js';

/** Size in bytes of one cell of {@link SharedSegment.wait} / {@link SharedSegment.notify}. */
export const SHARED_CELL_BYTES = 4;

/** What {@link SharedSegment.wait} resolves with: the three answers of `Atomics.wait`. */
export type SharedWaitResult = 'ok' | 'not-equal' | 'timed-out';

/** Options of {@link SharedSegment.wait}. */
export interface SharedWaitOptions extends WaitOptions {
  /**
   * Milliseconds to wait at most. Unlike most ipcx waits, a timeout does not reject: as with
   * `Atomics.wait`, the promise resolves with `'timed-out'`. `0` checks the cell and never sleeps.
   */
  readonly timeout?: number;
}

/**
 * A mapping of shared memory into this process: a System V segment, a POSIX object or a file.
 *
 * **Memory.** {@link SharedSegment.buffer} is an `ArrayBuffer` over the mapping itself: a write
 * through any view of it is seen at once by every process that maps the same memory. `Atomics`
 * operations (`add`, `load`, `store`, `compareExchange`, ...) on an `Int32Array` over it are atomic
 * across processes. `Atomics.wait`/`Atomics.notify` are not (they only see waiters of this
 * process, and refuse a buffer that is not a `SharedArrayBuffer`): use {@link SharedSegment.wait}
 * and {@link SharedSegment.notify}, which are futexes on the shared memory.
 *
 * **Read-only mappings** have no `buffer`: JavaScript has no read-only `ArrayBuffer`, and a write
 * through a view of memory the kernel mapped read-only would kill the process (`SIGSEGV`). They
 * are read with {@link SharedSegment.read}, which copies, and {@link SharedSegment.write} rejects
 * with `EACCES`. `wait` and `notify` work on them.
 *
 * **Closing** unmaps (`shmdt`/`munmap`). The buffer is detached first: every view made from it has
 * length 0 afterwards, so no code can touch unmapped memory. Pending waits end with `EBADF`.
 * Closing does not remove the segment or name (see `remove()`/`unlink()`). A segment object that
 * is garbage-collected (with its buffer and every view) without `close()` is unmapped then.
 *
 * **Size and room.** Creating or growing a POSIX segment or a mapped file reserves its pages, so
 * a segment that does not fit (a full `/dev/shm`) is `ENOSPC` when it is opened, never a crash
 * at a later write. A call that fails removes what it created.
 *
 * **Shrunk by another process** (POSIX objects and files; `ftruncate`, `truncate -s`): the pages
 * past the object's new end are lost. Touching them does not kill the process (as a plain
 * `SIGBUS` would): the lost range reads as zeros through any view of {@link SharedSegment.buffer}
 * and writes to it reach no other process; from the first such access on, the segment is
 * broken: `read`, `write`, `wait`, `notify` and `buffer` fail with `EFAULT` ({@link IpcError}),
 * including the `read`/`write` whose own copy met the lost range. `close()` still works; map the
 * object again to use it at its new size. (Native backend; System V segments cannot shrink.)
 *
 * **Travel.** Passed in `processes.spawn(entry, { args })`, a segment reaches the child by its
 * System V id, POSIX name or file path, and the child maps it again (read-only if it was).
 */
export interface SharedSegment extends IpcObject, Transferable {
  /** Which kind of shared memory this is. */
  readonly kind: 'sysv' | 'posix' | 'file';
  /** Bytes mapped. */
  readonly size: number;
  /** True when mapped read-only (no {@link SharedSegment.buffer}; see above). */
  readonly readOnly: boolean;
  /**
   * The mapped memory. Throws `EACCES` (an `IpcError`) for a read-only mapping and `EBADF`
   * after `close()` (the buffer obtained before is then detached: `byteLength` 0).
   *
   * A mapping longer than the largest `ArrayBuffer` the runtime can make over foreign memory
   * (`buffer.constants.MAX_LENGTH`: 4 GiB on Node 20) has no buffer: this throws `RangeError`,
   * while {@link SharedSegment.read}, {@link SharedSegment.write}, `wait` and `notify` reach
   * every byte of it.
   */
  readonly buffer: ArrayBuffer;
  /**
   * A copy of `length` bytes from `offset` (default: from 0 to the end). Never blocks.
   * `RangeError` outside the mapping, `EBADF` after close.
   */
  read(offset?: number, length?: number): Uint8Array;
  /**
   * Copies `bytes` (a string is UTF-8 encoded) into the mapping at `offset` (default 0); returns
   * the number of bytes written. `RangeError` if it does not fit, `EACCES` when read-only,
   * `EBADF` after close.
   */
  write(bytes: Uint8Array | string, offset?: number): number;
  /**
   * Waits until another thread or process calls {@link SharedSegment.notify} on the 32-bit cell
   * `index` (in units of 4 bytes), like `Atomics.wait` but across processes and without blocking
   * the event loop: a futex wait on the shared mapping.
   *
   * The cell is first compared on the calling thread: `'not-equal'` at once when it does not hold
   * `value` (an int32). Otherwise the wait runs on a dedicated thread and resolves `'ok'` when
   * woken or `'timed-out'` after `options.timeout` milliseconds (it does not reject on timeout).
   * Aborting rejects with `AbortError` and closing the segment with `EBADF`; either ends the
   * kernel wait. As with any futex, a wake is not tied to a change of the value: re-check it.
   *
   * `RangeError` if `index` is outside the segment or `value` is not an int32.
   */
  wait(index: number, value: number, options?: SharedWaitOptions): Promise<SharedWaitResult>;
  /**
   * Wakes up to `count` (default: all) waiters of cell `index`, in every process (`FUTEX_WAKE`),
   * and returns how many were woken. Waiters of `Atomics.wait` are not woken by it. Never blocks.
   * `RangeError` for a bad index or count, `EBADF` after close.
   */
  notify(index: number, count?: number): number;
}

/** What `shmctl(IPC_STAT)` reports about a System V segment. */
export interface SysvSegmentStat {
  /** The key it was created with (0 for `IPC_PRIVATE`, and once removed), as an unsigned number. */
  readonly key: number;
  /** Size in bytes (`shm_segsz`). */
  readonly size: number;
  /** Attachments in all processes (`shm_nattch`). */
  readonly attachments: number;
  /** Process that created it (`shm_cpid`). */
  readonly creatorPid: number;
  /** Process of the last `shmat`/`shmdt` (`shm_lpid`). */
  readonly lastPid: number;
  /** Permission bits (`shm_perm.mode & 0o777`). */
  readonly mode: number;
  /** True once removed (`SHM_DEST`): it disappears when the last attachment goes. */
  readonly removed: boolean;
  /** Owner user and group. */
  readonly uid: number;
  readonly gid: number;
  /** Creator user and group. */
  readonly creatorUid: number;
  readonly creatorGid: number;
  /** Times of the last attach, detach and change, in milliseconds since the epoch; `null` if never. */
  readonly attachTime: number | null;
  readonly detachTime: number | null;
  readonly changeTime: number | null;
}

/** A System V shared-memory segment attached to this process (`shmat`). */
export interface SysvSegment extends SharedSegment {
  readonly kind: 'sysv';
  /** The segment's id (`shmid`), which other processes attach with {@link SharedMemory.attachSysv}. */
  readonly id: number;
  /** `shmctl(IPC_STAT)`. `EIDRM`/`EINVAL` once the segment is gone. Works after `close()` too. */
  stat(): Promise<SysvSegmentStat>;
  /**
   * `shmctl(IPC_RMID)`: marks the segment removed. Its key is free again at once; the memory stays
   * usable by every process attached now and disappears when the last one detaches. (Linux still
   * lets a process attach it by id until then; afterwards attaching fails with `EINVAL`.)
   * Works after `close()` too.
   */
  remove(): Promise<void>;
}

/** A POSIX shared-memory object mapped into this process (`shm_open` + `mmap(MAP_SHARED)`). */
export interface PosixSegment extends SharedSegment {
  readonly kind: 'posix';
  /** Its name, e.g. `'/app-state'` (visible as `/dev/shm/app-state`). */
  readonly name: string;
  /** `shm_unlink`: removes the name; mappings stay valid until unmapped. `ENOENT` if already gone. */
  unlink(): Promise<void>;
}

/** A regular file mapped shared (`mmap(MAP_SHARED)`): writes reach the file. */
export interface FileMapping extends SharedSegment {
  readonly kind: 'file';
  /** The file's path. */
  readonly path: string;
}

/** Options of {@link SharedMemory.openSysv}. */
export interface SysvSegmentOptions {
  /**
   * Size in bytes; needed to create. Opening an existing segment with a size larger than its own
   * fails with `EINVAL`, and so does a size the kernel refuses (0, or above `shmmax`).
   */
  readonly size?: number;
  /** `IPC_CREAT`: create the segment if the key has none. Implied by `'private'`. */
  readonly create?: boolean;
  /** `IPC_EXCL` with `create`: fail with `EEXIST` if the key has a segment. */
  readonly exclusive?: boolean;
  /** Permission bits for a new segment (default `0o600`). */
  readonly mode?: number;
  /** Attach read-only (`SHM_RDONLY`); see {@link SharedSegment}. */
  readonly readOnly?: boolean;
}

/** Options of {@link SharedMemory.openPosix}. */
export interface PosixSegmentOptions {
  /**
   * Bytes to map. A created object is sized to it (`ftruncate`); it is needed then. For an
   * existing object the default is its current size; a larger size grows it when `create` is set
   * and it is opened read-write, and fails with `EINVAL` otherwise (memory past the end of an
   * object cannot be touched). `EINVAL` for 0, as `mmap` says.
   */
  readonly size?: number;
  /** `O_CREAT`: create the object if the name has none. */
  readonly create?: boolean;
  /** `O_EXCL` with `create`: fail with `EEXIST` if the name exists. */
  readonly exclusive?: boolean;
  /** Permission bits for a new object (default `0o600`). */
  readonly mode?: number;
  /** Open and map read-only (`O_RDONLY`, `PROT_READ`); see {@link SharedSegment}. */
  readonly readOnly?: boolean;
}

/** Options of {@link SharedMemory.mapFile}. */
export interface FileMappingOptions {
  /**
   * Bytes to map from the start of the file. Default: its current size (`EINVAL` if it is empty).
   * A larger size grows a file mapped read-write (`ftruncate`, zero bytes) and fails with `EINVAL`
   * for a read-only mapping.
   */
  readonly size?: number;
  /** `O_CREAT`: create the file if missing. Needs `size` (`TypeError` without). */
  readonly create?: boolean;
  /** Permission bits for a created file (default `0o600`). */
  readonly mode?: number;
  /** Map read-only (`O_RDONLY`, `PROT_READ`); see {@link SharedSegment}. */
  readonly readOnly?: boolean;
}

/**
 * Shared memory of three kinds, all returning {@link SharedSegment}s. Making and mapping never
 * wait; errors are the kernel's (`EEXIST`, `ENOENT`, `EACCES`, `EINVAL`, `EIDRM`, ...) as
 * {@link IpcError}s, and misuse is a `TypeError`/`RangeError` before any call.
 *
 * Segments, names and files outlive every process until removed: `remove()` / {@link removeSysv},
 * `unlink()` / {@link unlinkPosix}, or deleting the file.
 */
export interface SharedMemory {
  /**
   * `shmget` + `shmat`: the System V segment of `key` (an int32, or unsigned 32-bit as `ftok`
   * gives), or a new private one for `'private'` (`IPC_PRIVATE`, which needs `size`).
   * `ENOENT` when the key has no segment and `create` is not set.
   */
  openSysv(key: number | 'private', options?: SysvSegmentOptions): Promise<SysvSegment>;
  /** `shmat` of an existing segment by id. `EINVAL`/`EIDRM` if there is none, `EACCES` if not allowed. */
  attachSysv(id: number, options?: { readonly readOnly?: boolean }): Promise<SysvSegment>;
  /** `shmctl(IPC_STAT)` by id, without attaching. */
  statSysv(id: number): Promise<SysvSegmentStat>;
  /** `shmctl(IPC_RMID)` by id (see {@link SysvSegment.remove}). */
  removeSysv(id: number): Promise<void>;
  /**
   * `shm_open` + `mmap(MAP_SHARED)` of the POSIX object `name`: a leading `/` and no other
   * (`RangeError` otherwise), at most 255 bytes. `ENOENT` if missing without `create`.
   */
  openPosix(name: string, options?: PosixSegmentOptions): Promise<PosixSegment>;
  /** `shm_unlink`: removes the name. `ENOENT` if missing. */
  unlinkPosix(name: string): Promise<void>;
  /** `open` + `mmap(MAP_SHARED)` of a regular file: writes to the mapping reach the file. */
  mapFile(path: string, options?: FileMappingOptions): Promise<FileMapping>;
}

/** DI token for {@link SharedMemory}. */
export const SharedMemory: symbol = factoryToken('sharedMemory');
