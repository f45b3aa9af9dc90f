/**
 * Codecs by name: an object travels to another process with its codec's name, and the other side
 * finds the same codec here. `v8` and `json` are always known; register others on both sides.
 */
import { jsonCodec, v8Codec, type Codec } from './codec.js';

const codecs = new Map<string, Codec>([
  [v8Codec.name, v8Codec],
  [jsonCodec.name, jsonCodec],
]);

/** Makes `codec` known by its name in this process (do it in every process that uses it). */
export function registerCodec(codec: Codec): void {
  if (typeof codec?.encode !== 'function' || typeof codec.decode !== 'function' || typeof codec.name !== 'string') {
    throw new TypeError('codec must have a name, encode and decode');
  }
  codecs.set(codec.name, codec);
}

/** The codec registered as `name`; `TypeError` if this process does not know it. */
export function codecNamed(name: string): Codec {
  const codec = codecs.get(name);
  if (codec === undefined) throw new TypeError(`unknown codec '${name}': call registerCodec() in this process first`);
  return codec;
}

/** Checks a codec option (default v8) and makes it known by name. */
export function checkCodec(codec: Codec | undefined): Codec {
  if (codec === undefined) return v8Codec;
  registerCodec(codec);
  return codec;
}
