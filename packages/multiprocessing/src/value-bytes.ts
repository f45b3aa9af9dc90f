/**
 * A value as it crosses a process boundary: the codec's bytes, plus one flag saying whether it
 * holds objects to revive (so that plain values, the common case, skip both walks).
 */
import type { IpcBackend } from '@ipcx/core';
import type { Codec } from './codec.js';
import { containsObjects, packForValue, reviveValue } from './share.js';

/** An encoded value. */
export interface EncodedValue {
  /** The codec's bytes. */
  readonly bytes: Uint8Array;
  /** True if the value held objects that the receiver must revive. */
  readonly objects: boolean;
}

/** Encodes `value`; throws `DataCloneError` (a TypeError) before anything is sent if it cannot. */
export function encodeValue(codec: Codec, value: unknown): EncodedValue {
  if (containsObjects(value)) return { bytes: codec.encode(packForValue(value)), objects: true };
  return { bytes: codec.encode(value), objects: false };
}

/** Decodes bytes made by {@link encodeValue}; revives objects through `backend` when flagged. */
export function decodeValue(codec: Codec, bytes: Uint8Array, objects: boolean, backend: IpcBackend): unknown {
  const value = codec.decode(bytes);
  return objects ? reviveValue(value, backend) : value;
}
