/**
 * A value as it crosses a process boundary: the codec's bytes, plus one flag saying whether it
 * holds objects to revive (so that plain values, the common case, skip both walks).
 */
import type { IpcBackend } from '@ipcx/core';
import { v8Codec, type Codec } from './codec.js';
import { PLAIN_FORMAT, decodePlain, decodePlainAt, encodePlain } from './plain-codec.js';
import { containsObjects, packForValue, reviveValue } from './share.js';

/** An encoded value. */
export interface EncodedValue {
  /** The codec's bytes. */
  readonly bytes: Uint8Array;
  /** True if the value held objects that the receiver must revive. */
  readonly objects: boolean;
  /**
   * True if `bytes` is the default codec's scratch buffer: valid only until the next value is
   * encoded in this thread, so a caller that keeps them across an `await` copies them first.
   */
  readonly transient: boolean;
}

/**
 * Encodes `value`; throws `DataCloneError` (a TypeError) before anything is sent if it cannot.
 * A plain value under the default codec skips the walk for objects (the plain encoder refuses
 * anything that is not a plain object, array or primitive, so a shareable object is never plain).
 * `tryPlain` false: the caller's plain encoding already refused the value (not tried again).
 */
export function encodeValue(codec: Codec, value: unknown, tryPlain = true): EncodedValue {
  if (codec === v8Codec && tryPlain) {
    const plain = encodePlain(value);
    if (plain !== undefined) return { bytes: plain, objects: false, transient: true };
  }
  if (containsObjects(value)) return { bytes: codec.encode(packForValue(value)), objects: true, transient: false };
  return { bytes: codec.encode(value), objects: false, transient: false };
}

/** `encoded.bytes`, copied if they are transient (to keep across an `await`). */
export function stableBytes(encoded: EncodedValue): Uint8Array {
  return encoded.transient ? encoded.bytes.slice() : encoded.bytes;
}

/**
 * Decodes bytes that may be a view of shared memory reused right after this call: the plain
 * format is read in place (its decoder keeps no reference); anything else is copied first, since
 * `v8.deserialize` and users' codecs may return views of their input (typed arrays).
 */
export function decodeInPlace(codec: Codec, bytes: Uint8Array): unknown {
  if (codec === v8Codec && bytes[0] === PLAIN_FORMAT) return decodePlain(bytes);
  return codec.decode(bytes.slice());
}

/** {@link decodeInPlace} of the `size` bytes at `start` of `data` (a ring's data area), without a view of them when plain. */
export function decodeInPlaceAt(codec: Codec, data: Uint8Array, start: number, size: number): unknown {
  if (codec === v8Codec && data[start] === PLAIN_FORMAT) return decodePlainAt(data, start, size);
  return codec.decode(data.slice(start, start + size));
}

/** Decodes bytes made by {@link encodeValue}; revives objects through `backend` when flagged. */
export function decodeValue(codec: Codec, bytes: Uint8Array, objects: boolean, backend: IpcBackend): unknown {
  const value = codec.decode(bytes);
  return objects ? reviveValue(value, backend) : value;
}
