/**
 * Argument checks shared by every backend, so misuse raises the same `TypeError`/`RangeError` with
 * the same message before any system call, whatever the backend. Generic checks are named by the
 * kind of value (`checkInteger`, `checkBytes`, `checkWaitOptions`); a primitive's checks by the
 * object and the call whose arguments they check (`checkMessageQueueSend`), in its own file here.
 */
import type { WaitOptions } from '../options.js';
import { isModuleTransferable, isTransferable, moduleTransferSymbol } from '../transfer.js';

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`;
  if (typeof value === 'object') return value.constructor?.name ? `an instance of ${value.constructor.name}` : 'an object';
  return `${typeof value} ${String(value)}`;
}

/** Throws `TypeError` unless `value` is an integer, `RangeError` unless `min <= value <= max`. */
export function checkInteger(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || !Number.isInteger(value)) {
    if (typeof value === 'number') throw new RangeError(`${name} must be an integer, received ${describe(value)}`);
    throw new TypeError(`${name} must be an integer, received ${describe(value)}`);
  }
  if (value < min || value > max) throw new RangeError(`${name} must be >= ${min} and <= ${max}, received ${value}`);
  // -0 is an integer but not an int32 to V8: Node's fs bindings abort the process on a mode of -0.
  return value === 0 ? 0 : value;
}

/** Like {@link checkInteger} for an optional value: returns `fallback` when `value` is undefined. */
export function checkOptionalInteger(name: string, value: unknown, min: number, max: number, fallback: number): number {
  return value === undefined ? fallback : checkInteger(name, value, min, max);
}

/** Throws `TypeError` unless `value` is a boolean or undefined. */
export function checkOptionalBoolean(name: string, value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new TypeError(`${name} must be a boolean, received ${describe(value)}`);
  return value;
}

/** Throws `TypeError` unless `value` is a non-empty string without NUL bytes. */
export function checkString(name: string, value: unknown): string {
  if (typeof value !== 'string') throw new TypeError(`${name} must be a string, received ${describe(value)}`);
  if (value.length === 0) throw new RangeError(`${name} must not be empty`);
  if (value.includes('\0')) throw new TypeError(`${name} must not contain NUL bytes`);
  return value;
}

/** Throws `TypeError` unless `value` is an object (options bag) or undefined. */
export function checkOptions<T extends object>(name: string, value: unknown): Partial<T> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object') throw new TypeError(`${name} must be an object, received ${describe(value)}`);
  return value as Partial<T>;
}

/** Throws `TypeError` unless `value` is a Uint8Array (Buffer included) or a string; returns bytes. */
export function checkBytes(name: string, value: unknown): Uint8Array {
  if (typeof value === 'string') return new TextEncoder().encode(value);
  if (ArrayBuffer.isView(value)) {
    // A view of a detached buffer (transferred, or a closed segment's) reads as 0 bytes: sending
    // it would pass off an empty message as the caller's data.
    if (value.byteLength === 0 && isDetached(value.buffer)) throw new TypeError(`${name} is a view of a detached ArrayBuffer`);
    return value instanceof Uint8Array ? value : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  }
  throw new TypeError(`${name} must be a Uint8Array or a string, received ${describe(value)}`);
}

/**
 * Whether `buffer` has been detached. `ArrayBuffer.prototype.detached` where the runtime has it
 * (ES2024; not Node 20), else: only an empty buffer can be detached, and constructing a view of
 * a detached one throws.
 */
function isDetached(buffer: ArrayBufferLike): boolean {
  if (typeof SharedArrayBuffer !== 'undefined' && buffer instanceof SharedArrayBuffer) return false;
  const flag = (buffer as { detached?: unknown }).detached;
  if (typeof flag === 'boolean') return flag;
  if (buffer.byteLength !== 0) return false;
  try {
    new Uint8Array(buffer);
    return false;
  } catch {
    return true;
  }
}

/**
 * Checks `signal` and `timeout`. Returns the timeout in milliseconds, `Infinity` when none.
 * A timeout must be a non-negative number; `0` means "do not wait".
 */
export function checkWaitOptions(options: WaitOptions | undefined): number {
  if (options === undefined) return Infinity;
  if (options === null || typeof options !== 'object') throw new TypeError(`options must be an object, received ${describe(options)}`);
  const { signal, timeout } = options;
  if (signal !== undefined && !(typeof signal === 'object' && signal !== null && 'aborted' in signal && typeof signal.addEventListener === 'function')) {
    throw new TypeError(`options.signal must be an AbortSignal, received ${describe(signal)}`);
  }
  if (timeout === undefined) return Infinity;
  if (typeof timeout !== 'number' || Number.isNaN(timeout)) throw new TypeError(`options.timeout must be a number of milliseconds, received ${describe(timeout)}`);
  if (timeout < 0) throw new RangeError(`options.timeout must be >= 0, received ${timeout}`);
  // Longer than a timer can hold (see MAX_TIMEOUT_MS): no timeout, rather than Node's 1 ms.
  return timeout > MAX_TIMEOUT_MS ? Infinity : timeout;
}

/**
 * The longest timeout a timer can hold (2^31 - 1 ms, about 24.8 days). Node and browsers cut a
 * longer delay to 1 ms, so {@link checkWaitOptions} takes a longer timeout as none (`Infinity`).
 */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Throws `TypeError` unless `value` survives structured cloning once the ipcx objects in it are
 * left out (they travel their own way: descriptors, keys, names), walking arrays and plain
 * objects as `packTransferables` does. For `spawn` args: without it, a function or a symbol fails
 * later inside the backend, as a plain `Error` (native `v8.serialize`) or a `DataCloneError`
 * (a worker's `postMessage`).
 */
export function checkCloneable(name: string, value: unknown): void {
  const copies = new Map<object, unknown>();
  const strip = (item: unknown): unknown => {
    if (isTransferable(item)) return null;
    // A library's object travels as its data (core objects inside it as above).
    if (isModuleTransferable(item)) return strip(item[moduleTransferSymbol]().data);
    if (item === null || typeof item !== 'object') return item;
    if (copies.has(item)) return copies.get(item);
    if (Array.isArray(item)) {
      const copy: unknown[] = [];
      copies.set(item, copy);
      for (const inner of item) copy.push(strip(inner));
      return copy;
    }
    if (Object.getPrototypeOf(item) !== Object.prototype) return item;
    const copy: Record<string, unknown> = {};
    copies.set(item, copy);
    for (const [key, inner] of Object.entries(item)) copy[key] = strip(inner);
    return copy;
  };
  try {
    structuredClone(strip(value));
  } catch (error) {
    throw new TypeError(`${name} must hold only ipcx objects and data that structured cloning keeps: ${error instanceof Error ? error.message : String(error)}`);
  }
}
