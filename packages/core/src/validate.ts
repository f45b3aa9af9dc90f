/**
 * Argument checks shared by every backend, so misuse raises the same `TypeError`/`RangeError` with
 * the same message before any system call, whatever the backend.
 */
import type { WaitOptions } from './options.js';

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
  return value;
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
export function toBytes(name: string, value: unknown): Uint8Array {
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
  return timeout;
}
