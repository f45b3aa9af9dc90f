/**
 * Argument checks of shared-memory segments (System V, POSIX, file mappings).
 *
 * For backends only (`@ipcx/core/backend`): every backend validates through these, so misuse
 * raises the same `TypeError`/`RangeError` with the same message before any system call.
 */
import { checkInteger, checkOptionalBoolean, checkOptions, checkString, checkWaitOptions, checkBytes } from './validate.js';
import { type PosixSegmentOptions, SHARED_CELL_BYTES, type SharedWaitOptions, type SysvSegmentOptions } from '../shared-memory.js';
import type { SharedMemory, SharedSegment } from '../shared-memory.js';

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const UINT32_MAX = 2 ** 32 - 1;
// The longest POSIX shared-memory name after its '/' (NAME_MAX).
const NAME_MAX = 255;
const DEFAULT_MODE = 0o600;

/** Validated arguments of {@link SharedMemory.openSysv}. */
export interface CheckedSysvSegmentOpen {
  /** The key as the signed 32-bit `key_t` the kernel stores (0 for `'private'`). */
  readonly key: number;
  /** Size in bytes; 0 when not given (an existing segment). */
  readonly size: number;
  /** `IPC_CREAT`: asked for, or implied by `'private'`. */
  readonly create: boolean;
  /** `IPC_EXCL`. */
  readonly exclusive: boolean;
  /** Permission bits (default `0o600`). */
  readonly mode: number;
  /** Map read-only (`SHM_RDONLY`). */
  readonly readOnly: boolean;
}

/** Validated arguments of {@link SharedMemory.openPosix}. */
export interface CheckedPosixSegmentOpen {
  /** Size in bytes; -1 when not given. */
  readonly size: number;
  /** `O_CREAT` (needs a size). */
  readonly create: boolean;
  /** `O_EXCL`. */
  readonly exclusive: boolean;
  /** Permission bits (default `0o600`). */
  readonly mode: number;
  /** Map read-only. */
  readonly readOnly: boolean;
}

/** For backends: checks a System V segment id (0 to 2^31 - 1). */
export function checkSysvSegmentId(id: unknown): number {
  return checkInteger('id', id, 0, INT32_MAX);
}

/** For backends: checks a segment size in bytes (a non-negative safe integer; the kernel judges the rest). */
export function checkSegmentSize(name: string, size: unknown): number {
  return checkInteger(name, size, 0, Number.MAX_SAFE_INTEGER);
}

/** For backends: checks a POSIX shared-memory name: `'/'`, then 1 to 255 UTF-8 bytes without another `'/'`. */
export function checkPosixSegmentName(name: unknown): string {
  checkString('name', name);
  const text = name as string;
  if (!text.startsWith('/') || text.indexOf('/', 1) !== -1 || text.length === 1) {
    throw new RangeError(`name must be '/' followed by at least one character and no other '/', received '${text}'`);
  }
  // Core runs in browsers too (worker backend): no Buffer here.
  if (new TextEncoder().encode(text).length - 1 > NAME_MAX) throw new RangeError(`name must be at most ${NAME_MAX} bytes after the '/'`);
  return text;
}

/** For backends: checks the key (either 32-bit spelling, or `'private'`, which needs a size) and options of {@link SharedMemory.openSysv}. */
export function checkSysvSegmentOpen(key: unknown, options: unknown): CheckedSysvSegmentOpen {
  if (key !== 'private' && typeof key !== 'number') throw new TypeError(`key must be a number or 'private', received ${typeof key}`);
  const numeric = key === 'private' ? 0 : checkInteger('key', key, INT32_MIN, UINT32_MAX) | 0;
  const { size, mode, create, exclusive, readOnly } = checkOptions<SysvSegmentOptions>('options', options);
  const bytes = size === undefined ? 0 : checkSegmentSize('options.size', size);
  if (key === 'private' && size === undefined) throw new TypeError("options.size is required for a 'private' segment");
  const doCreate = checkOptionalBoolean('options.create', create) || key === 'private';
  const doExclusive = checkOptionalBoolean('options.exclusive', exclusive);
  const permissions = mode === undefined ? DEFAULT_MODE : checkInteger('options.mode', mode, 0, 0o777);
  const ro = checkOptionalBoolean('options.readOnly', readOnly);
  return { key: numeric, size: bytes, create: doCreate, exclusive: doExclusive, mode: permissions, readOnly: ro };
}

/** For backends: checks the arguments of {@link SharedMemory.attachSysv}; returns whether to map read-only. */
export function checkSysvSegmentAttach(id: unknown, options: unknown): boolean {
  checkSysvSegmentId(id);
  const { readOnly } = checkOptions<{ readOnly?: boolean }>('options', options);
  return checkOptionalBoolean('options.readOnly', readOnly);
}

/** For backends: checks the name and options of {@link SharedMemory.openPosix}; `create` needs a size. */
export function checkPosixSegmentOpen(name: unknown, options: unknown): CheckedPosixSegmentOpen {
  checkPosixSegmentName(name);
  const { size, mode, create, exclusive, readOnly } = checkOptions<PosixSegmentOptions>('options', options);
  const bytes = size === undefined ? -1 : checkSegmentSize('options.size', size);
  const doCreate = checkOptionalBoolean('options.create', create);
  const doExclusive = checkOptionalBoolean('options.exclusive', exclusive);
  const permissions = mode === undefined ? DEFAULT_MODE : checkInteger('options.mode', mode, 0, 0o777);
  const ro = checkOptionalBoolean('options.readOnly', readOnly);
  if (doCreate && size === undefined) throw new TypeError('options.size is required with options.create');
  return { size: bytes, create: doCreate, exclusive: doExclusive, mode: permissions, readOnly: ro };
}

/** For backends: checks {@link SharedSegment.read}'s range in a segment of `size` bytes (default: all of it from `offset`). */
export function checkSegmentRead(size: number, offset: unknown, length: unknown): { start: number; count: number } {
  const start = offset === undefined ? 0 : checkInteger('offset', offset, 0, size);
  const count = length === undefined ? size - start : checkInteger('length', length, 0, size - start);
  return { start, count };
}

/** For backends: checks {@link SharedSegment.write}'s bytes and offset in a segment of `size` bytes (`RangeError` if they do not fit). */
export function checkSegmentWrite(size: number, bytes: unknown, offset: unknown): { data: Uint8Array; start: number } {
  const data = checkBytes('bytes', bytes);
  const start = offset === undefined ? 0 : checkInteger('offset', offset, 0, size);
  if (data.length > size - start) throw new RangeError(`${data.length} bytes at offset ${start} do not fit in ${size} bytes`);
  return { data, start };
}

/** For backends: checks a cell index in a segment of `size` bytes ({@link SHARED_CELL_BYTES} per cell). */
export function checkSegmentCell(size: number, index: unknown): number {
  return checkInteger('index', index, 0, Math.floor(size / SHARED_CELL_BYTES) - 1);
}

/** For backends: checks the arguments of {@link SharedSegment.wait}; returns the cell and the timeout in ms. */
export function checkSegmentWait(size: number, index: unknown, value: unknown, options: unknown): { cell: number; timeoutMs: number } {
  const cell = checkSegmentCell(size, index);
  checkInteger('value', value, INT32_MIN, INT32_MAX);
  checkOptions('options', options);
  return { cell, timeoutMs: checkWaitOptions(options as SharedWaitOptions | undefined) };
}

/** For backends: checks the arguments of {@link SharedSegment.notify}; `most` is 2^31 - 1 for "all" (`undefined` or `Infinity`). */
export function checkSegmentNotify(size: number, index: unknown, count: unknown): { cell: number; most: number } {
  const cell = checkSegmentCell(size, index);
  const most = count === undefined || count === Infinity ? INT32_MAX : checkInteger('count', count, 0, UINT32_MAX);
  return { cell, most };
}
