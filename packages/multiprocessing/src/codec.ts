/**
 * How values become bytes and back. The default follows Node's `v8.serialize`: the structured
 * clone algorithm (objects, arrays, Maps, Sets, Dates, RegExps, typed arrays, BigInt, errors,
 * cycles), which works in the main thread and in `worker_threads` alike. JSON, or any codec of the
 * user's, plugs in through {@link Codec}.
 */
import v8 from 'node:v8';
import { DataCloneError } from './errors.js';

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

/** Structured clone through `v8.serialize` / `v8.deserialize` (the default). */
export const v8Codec: Codec = {
  name: 'v8',
  encode(value) {
    try {
      return v8.serialize(value);
    } catch (error) {
      throw new DataCloneError(`cannot serialize the value: ${(error as Error).message}`, { cause: error });
    }
  },
  decode(bytes) {
    return v8.deserialize(bytes);
  },
};

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
