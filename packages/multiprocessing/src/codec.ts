/**
 * How values become bytes and back. The default follows Node's `v8.serialize`: the structured
 * clone algorithm (objects, arrays, Maps, Sets, Dates, RegExps, typed arrays, BigInt, errors,
 * cycles), which works in the main thread and in `worker_threads` alike. JSON, or any codec of the
 * user's, plugs in through {@link Codec}.
 */
import v8 from 'node:v8';
import { DataCloneError } from './errors.js';
import { PLAIN_FORMAT, decodePlain, encodePlain } from './plain-codec.js';

/** Turns values into bytes and back. Both sides of an object must use the same codec. */
export interface Codec {
  /** A short name, for error messages. */
  readonly name: string;
  /**
   * The bytes of `value`. Throws {@link DataCloneError} (a `TypeError`) for a value it cannot
   * encode; the caller then sends nothing.
   */
  encode(value: unknown): Uint8Array;
  /** The value of `bytes` as {@link Codec.encode} made them. */
  decode(bytes: Uint8Array): unknown;
}

/**
 * Structured clone through `v8.serialize` / `v8.deserialize` (the default). Plain values (plain
 * objects, dense arrays, numbers, strings, booleans, null) take a faster format of this package
 * that gives the same values back (see `plain-codec.ts`); everything else is v8's.
 */
export const v8Codec: Codec = {
  name: 'v8',
  encode(value) {
    const plain = encodePlain(value);
    // A copy: the plain bytes live in a scratch buffer that the next value reuses.
    if (plain !== undefined) return plain.slice();
    return v8Serialize(value);
  },
  decode(bytes) {
    return bytes[0] === PLAIN_FORMAT ? decodePlain(bytes) : v8.deserialize(bytes);
  },
};

/** `v8.serialize`, its failures as {@link DataCloneError}. */
export function v8Serialize(value: unknown): Uint8Array {
  try {
    return v8.serialize(value);
  } catch (error) {
    throw new DataCloneError(`cannot serialize the value: ${(error as Error).message}`, { cause: error });
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** JSON text, UTF-8 encoded: for peers that are not Node, or values that must stay readable. */
export const jsonCodec: Codec = {
  name: 'json',
  encode(value) {
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch (error) {
      throw new DataCloneError(`cannot serialize the value as JSON: ${(error as Error).message}`, { cause: error });
    }
    if (text === undefined) throw new DataCloneError(`cannot serialize a ${typeof value} as JSON`);
    return encoder.encode(text);
  },
  decode(bytes) {
    return JSON.parse(decoder.decode(bytes));
  },
};
