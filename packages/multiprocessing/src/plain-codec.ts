/**
 * The fast path of the default codec: plain values (plain objects, dense arrays, numbers,
 * strings, booleans, null, undefined) in a compact format of this package, written into one
 * reusable scratch buffer and read back without any intermediate allocation. `v8.serialize`
 * costs several microseconds even for a small object (a serializer object, a host-object hook,
 * a fresh Buffer per value): that alone would cap a queue far below a million values a second.
 *
 * Anything else (Maps, Dates, typed arrays, BigInt, errors, class instances, Proxies, shared or
 * cyclic references, sparse arrays or arrays with named properties, deep nesting; any object while
 * `Object.prototype` has an enumerable property; a value encoded from inside a getter of the value
 * being encoded) makes
 * {@link encodePlain} answer `undefined`, and the caller uses `v8.serialize` for the whole value:
 * what arrives is always what structured clone would give.
 *
 * ```
 *  bytes:  ┌ PLAIN_FORMAT u8 ┬ value ┐      (v8.serialize output starts with 0xFF instead)
 *  value:  tag u8, then per tag
 *    UNDEFINED, NULL, FALSE, TRUE   nothing
 *    INT                            i32 LE
 *    DOUBLE                         f64 LE (also -0, NaN, ±Infinity)
 *    STRING8                        length u32, length bytes (every char < 256: latin-1)
 *    STRING16                       length u32, 2 × length bytes (UTF-16 LE, lone surrogates kept)
 *    ARRAY                          length u32, length values
 *    NUMBERS                        length u32, length × f64 LE (an array of numbers only)
 *    OBJECT                         count u32, count × (STRING8/STRING16 key, value)
 * ```
 */

import { types } from 'node:util';

/** First byte of the plain format (the first byte of `v8.serialize` output is 0xFF). */
export const PLAIN_FORMAT = 0x01;

const Tag = { UNDEFINED: 0, NULL: 1, FALSE: 2, TRUE: 3, INT: 4, DOUBLE: 5, STRING8: 6, STRING16: 7, ARRAY: 8, NUMBERS: 9, OBJECT: 10 } as const;

/** Deeper values go through v8 (which also catches cycles this walk does not track). */
const MAX_DEPTH = 64;
/** Objects and arrays of one value checked against each other by a scan; beyond, a Set. */
const SCAN_LIMIT = 32;
/** The scratch buffer is replaced after a value larger than this, so one big value is not kept alive. */
const KEEP_SCRATCH_BYTES = 1 << 20;
const INITIAL_SCRATCH_BYTES = 4096;

/**
 * Arrays this package built itself, element by element, and sends before anyone else sees them
 * (a pool's chunks and results): no holes and no named properties, so the encoder skips the check
 * for them. That check (counting own values) costs ~2 ns per element, about as much again as
 * encoding a number (and `Object.keys`, used before, made a string per element: 8 ns).
 */
const denseArrays = new WeakSet<readonly unknown[]>();

/**
 * Marks `array` as dense and without named properties, for {@link encodePlain}: only for an array
 * the caller made with `push` (or index by index from 0) and does not hand to anyone before it is
 * encoded. Returns it.
 */
export function markDense<T extends readonly unknown[]>(array: T): T {
  denseArrays.add(array);
  return array;
}

/** Thrown inside the encoder when the value is not plain: the caller falls back to v8. */
const NOT_PLAIN: unique symbol = Symbol('not plain');

let scratch = new Uint8Array(INITIAL_SCRATCH_BYTES);
let view = new DataView(scratch.buffer);
let at = 0;
/** The objects and arrays of the value being encoded (the first {@link seenCount}; emptied after each value, not shrunk). */
let seenList: Array<object | undefined> = [];
let seenCount = 0;
let seenSet: Set<object> | undefined;
/** True while {@link encodePlainInScratch} runs (a getter of the value may call it again). */
let encoding = false;

function reserve(bytes: number): void {
  if (at + bytes <= scratch.length) return;
  let size = scratch.length * 2;
  while (size < at + bytes) size *= 2;
  const grown = new Uint8Array(size);
  grown.set(scratch.subarray(0, at));
  scratch = grown;
  view = new DataView(grown.buffer);
}

function seen(object: object): void {
  if (seenSet !== undefined) {
    if (seenSet.has(object)) throw NOT_PLAIN;
    seenSet.add(object);
    return;
  }
  // Structured clone keeps shared references (and cycles) as such: those values go through v8.
  for (let i = 0; i < seenCount; i++) if (seenList[i] === object) throw NOT_PLAIN;
  seenList[seenCount++] = object;
  if (seenCount > SCAN_LIMIT) seenSet = new Set(seenList.slice(0, seenCount) as object[]);
}

function writeString(text: string): void {
  const length = text.length;
  reserve(5 + 2 * length);
  const start = at;
  scratch[at] = Tag.STRING8;
  view.setUint32(at + 1, length, true);
  at += 5;
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0xff) {
      // A char beyond latin-1: the whole string as UTF-16 code units (exact, surrogates and all).
      at = start;
      scratch[at] = Tag.STRING16;
      view.setUint32(at + 1, length, true);
      at += 5;
      for (let j = 0; j < length; j++) {
        view.setUint16(at, text.charCodeAt(j), true);
        at += 2;
      }
      return;
    }
    scratch[at++] = code;
  }
}

function writeNumber(value: number): void {
  reserve(9);
  // -0 is not an int32 for structured clone's purposes: it must come back as -0.
  if ((value | 0) === value && (value !== 0 || 1 / value > 0)) {
    scratch[at] = Tag.INT;
    view.setInt32(at + 1, value, true);
    at += 5;
  } else {
    scratch[at] = Tag.DOUBLE;
    view.setFloat64(at + 1, value, true);
    at += 9;
  }
}

/**
 * The elements of `array`, each read once (an index getter runs once, as structured clone runs
 * it), or NOT_PLAIN for an array with holes or named properties (a RegExp match's `index`, say),
 * which structured clone keeps: v8 then. Arrays marked by {@link markDense} are their own elements.
 */
function elementsOf(array: unknown[]): unknown[] {
  if (denseArrays.has(array)) return array;
  // Object.values (unlike Object.keys, no string per index: 2-4x cheaper) gives the indexed
  // elements in order, then the named properties' values: as many values as the length means no
  // named property unless as many holes hide them, so holes are looked for too.
  const values = Object.values(array);
  const length = array.length;
  if (values.length !== length) throw NOT_PLAIN;
  for (let i = 0; i < length; i++) if (!(i in array)) throw NOT_PLAIN;
  return values;
}

function writeArray(array: unknown[], depth: number): void {
  const elements = elementsOf(array);
  const length = elements.length;
  let numbers = true;
  for (let i = 0; i < length; i++) {
    if (typeof elements[i] !== 'number') {
      numbers = false;
      break;
    }
  }
  if (numbers) {
    reserve(5 + 8 * length);
    scratch[at] = Tag.NUMBERS;
    view.setUint32(at + 1, length, true);
    at += 5;
    for (let i = 0; i < length; i++) {
      view.setFloat64(at, elements[i] as number, true);
      at += 8;
    }
    return;
  }
  reserve(5);
  scratch[at] = Tag.ARRAY;
  view.setUint32(at + 1, length, true);
  at += 5;
  for (let i = 0; i < length; i++) writeValue(elements[i], depth);
}

/**
 * True when `Object.prototype` has an enumerable property (some library added one): for-in would
 * then visit it on every object, while structured clone takes own properties only, so such
 * objects go to v8.
 */
function objectPrototypeEnumerable(): boolean {
  for (const key in Object.prototype) return key !== undefined;
  return false;
}

function writeObject(object: Record<string, unknown>, depth: number): void {
  reserve(5);
  const countAt = at + 1;
  scratch[at] = Tag.OBJECT;
  at += 5;
  let count = 0;
  // for-in visits own enumerable string keys in Object.keys order (plain objects inherit none).
  for (const key in object) {
    // Assigning `__proto__` on the other side would set the prototype, not a property: v8 then.
    if (key === '__proto__') throw NOT_PLAIN;
    writeString(key);
    writeValue(object[key], depth);
    count++;
  }
  view.setUint32(countAt, count, true);
}

function writeValue(value: unknown, depth: number): void {
  switch (typeof value) {
    case 'number':
      writeNumber(value);
      return;
    case 'string':
      writeString(value);
      return;
    case 'boolean':
      reserve(1);
      scratch[at++] = value ? Tag.TRUE : Tag.FALSE;
      return;
    case 'undefined':
      reserve(1);
      scratch[at++] = Tag.UNDEFINED;
      return;
    case 'object': {
      if (value === null) {
        reserve(1);
        scratch[at++] = Tag.NULL;
        return;
      }
      if (depth >= MAX_DEPTH) throw NOT_PLAIN;
      // Structured clone refuses a Proxy (DataCloneError: v8 says so), whatever its target.
      if (types.isProxy(value)) throw NOT_PLAIN;
      const prototype = Object.getPrototypeOf(value);
      if (prototype === Array.prototype) {
        // An object that merely inherits from Array.prototype clones as a plain object: v8.
        if (!Array.isArray(value)) throw NOT_PLAIN;
        seen(value);
        writeArray(value as unknown[], depth + 1);
        return;
      }
      if (prototype === null || (prototype === Object.prototype && !objectPrototypeEnumerable())) {
        seen(value);
        writeObject(value as Record<string, unknown>, depth + 1);
        return;
      }
      throw NOT_PLAIN;
    }
    default:
      // bigint, symbol, function: v8 serializes or refuses them.
      throw NOT_PLAIN;
  }
}

/**
 * The plain-format bytes of `value` in the scratch buffer, valid until the next call in this
 * thread (copy them before anything else may encode), or `undefined` when `value` is not plain.
 * Errors other than "not plain" (a throwing getter) propagate.
 */
export function encodePlain(value: unknown): Uint8Array | undefined {
  const length = encodePlainInScratch(value);
  if (length < 0) return undefined;
  const bytes = scratch.subarray(0, length);
  releaseLargeScratch();
  return bytes;
}

/**
 * {@link encodePlain} without a view per value: the plain-format bytes of `value` are the first
 * `length` (the answer) bytes of {@link plainScratch}, valid until the next call in this thread;
 * -1 when `value` is not plain. The caller copies them, then calls {@link releaseLargeScratch}.
 */
export function encodePlainInScratch(value: unknown): number {
  // A getter of the value being encoded may encode another value (a put to another queue):
  // that one goes through v8, and this encoding's scratch and position stay intact.
  if (encoding) return -1;
  encoding = true;
  at = 0;
  seenCount = 0;
  seenSet = undefined;
  try {
    reserve(1);
    scratch[at++] = PLAIN_FORMAT;
    writeValue(value, 0);
  } catch (error) {
    if (error === NOT_PLAIN) return -1;
    throw error;
  } finally {
    // Keeps no reference to the value's parts (setting the length would be a builtin call per value).
    for (let i = 0; i < seenCount; i++) seenList[i] = undefined;
    seenCount = 0;
    seenSet = undefined;
    encoding = false;
  }
  return at;
}

/** The buffer {@link encodePlainInScratch} wrote into (starts at byte 0 of its ArrayBuffer). */
export function plainScratch(): Uint8Array {
  return scratch;
}

/**
 * After a large value, lets its scratch buffer go (it may now belong to a caller's view) so that
 * one big value is not kept alive; later values start small again.
 */
export function releaseLargeScratch(): void {
  if (scratch.length > KEEP_SCRATCH_BYTES) {
    scratch = new Uint8Array(INITIAL_SCRATCH_BYTES);
    view = new DataView(scratch.buffer);
    seenList = [];
  }
}

/** Strings of up to this many latin-1 chars are looked up in {@link keyCache} (object keys, mostly). */
const CACHED_KEY_CHARS = 24;
const KEY_CACHE_SIZE = 512;
/** Recently decoded short strings by a hash of their bytes: the same key string (and hidden class) every time. */
const keyCache: Array<string | undefined> = new Array(KEY_CACHE_SIZE).fill(undefined);
/** Short strings of the last value remembered by position ({@link recentStrings}). */
const RECENT_STRINGS = 32;

let input: Uint8Array = new Uint8Array(0);
let inputView: DataView = new DataView(input.buffer);
let pos = 0;
/** Where `input` starts in the buffer `inputView` sees. */
let base = 0;
/**
 * A view of the whole buffer of recent inputs, kept while inputs come from the same buffer (a
 * ring's data area, value after value): no DataView per value decoded.
 */
let wholeBuffer: ArrayBufferLike | undefined;
let wholeView: DataView = inputView;
const codeUnits: number[] = [];

/**
 * The short strings of the last value decoded, in the order read: a value of the same layout as
 * the last one (a stream of alike objects) finds each key here with one comparison of its bytes,
 * without hashing them for {@link keyCache}.
 */
const recentStrings: Array<string | undefined> = new Array(RECENT_STRINGS).fill(undefined);
/** How many short strings the value being decoded has read so far (its index into {@link recentStrings}). */
let recentAt = 0;

/** True if the `length` bytes at `pos` of the input are the latin-1 chars of `text` (of that length). */
function sameChars(text: string, length: number): boolean {
  for (let i = 0; i < length; i++) if (text.charCodeAt(i) !== input[pos + i]) return false;
  return true;
}

function readShortString8(length: number): string {
  const index = recentAt++;
  if (index < RECENT_STRINGS) {
    const recent = recentStrings[index];
    if (recent !== undefined && recent.length === length && sameChars(recent, length)) {
      pos += length;
      return recent;
    }
  }
  const text = readHashedString8(length);
  if (index < RECENT_STRINGS) recentStrings[index] = text;
  return text;
}

function readHashedString8(length: number): string {
  let hash = length;
  for (let i = 0; i < length; i++) hash = Math.imul(hash ^ input[pos + i], 0x01000193);
  const slot = (hash >>> 0) & (KEY_CACHE_SIZE - 1);
  const cached = keyCache[slot];
  if (cached !== undefined && cached.length === length && sameChars(cached, length)) {
    pos += length;
    return cached;
  }
  codeUnits.length = length;
  for (let i = 0; i < length; i++) codeUnits[i] = input[pos + i];
  pos += length;
  // The engine's own (internalized) copy of the string, as a property key gets: stored as a key
  // of each decoded object, it then needs no look-up in the engine's string table per store.
  const text = internalized(String.fromCharCode.apply(null, codeUnits));
  keyCache[slot] = text;
  return text;
}

/** `text` as the engine keeps property keys (an object's own key comes back internalized). */
function internalized(text: string): string {
  const holder: Record<string, number> = {};
  holder[text] = 0;
  for (const key in holder) return key;
  return text;
}

/** Chars per String.fromCharCode call (its arguments go on the stack). */
const CHARS_PER_CALL = 4096;

function readString(tag: number): string {
  const length = inputView.getUint32(base + pos, true);
  pos += 4;
  if (tag === Tag.STRING8 && length <= CACHED_KEY_CHARS) return readShortString8(length);
  let text = '';
  for (let done = 0; done < length; done += CHARS_PER_CALL) {
    const count = Math.min(CHARS_PER_CALL, length - done);
    codeUnits.length = count;
    if (tag === Tag.STRING8) {
      for (let i = 0; i < count; i++) codeUnits[i] = input[pos + i];
      pos += count;
    } else {
      for (let i = 0; i < count; i++) codeUnits[i] = inputView.getUint16(base + pos + 2 * i, true);
      pos += 2 * count;
    }
    text += String.fromCharCode.apply(null, codeUnits);
  }
  return text;
}

function readValue(): unknown {
  const tag = input[pos++];
  switch (tag) {
    case Tag.UNDEFINED:
      return undefined;
    case Tag.NULL:
      return null;
    case Tag.FALSE:
      return false;
    case Tag.TRUE:
      return true;
    case Tag.INT: {
      const value = inputView.getInt32(base + pos, true);
      pos += 4;
      return value;
    }
    case Tag.DOUBLE: {
      const value = inputView.getFloat64(base + pos, true);
      pos += 8;
      return value;
    }
    case Tag.STRING8:
    case Tag.STRING16:
      return readString(tag);
    case Tag.NUMBERS: {
      const length = inputView.getUint32(base + pos, true);
      pos += 4;
      const array: number[] = [];
      for (let i = 0; i < length; i++) array.push(inputView.getFloat64(base + pos + 8 * i, true));
      pos += 8 * length;
      return array;
    }
    case Tag.ARRAY: {
      const length = inputView.getUint32(base + pos, true);
      pos += 4;
      const array: unknown[] = [];
      for (let i = 0; i < length; i++) array.push(readValue());
      return array;
    }
    case Tag.OBJECT: {
      const count = inputView.getUint32(base + pos, true);
      pos += 4;
      const object: Record<string, unknown> = {};
      for (let i = 0; i < count; i++) {
        const key = readString(input[pos++]);
        object[key] = readValue();
      }
      return object;
    }
    default:
      throw new TypeError(`corrupt value: unknown tag ${tag}`);
  }
}

/**
 * The value of plain-format `bytes` (made by {@link encodePlain}). Reads `bytes` only while it
 * runs and keeps no reference to them: they may be a view of shared memory that is reused next.
 */
export function decodePlain(bytes: Uint8Array): unknown {
  return decodePlainAt(bytes, 0, bytes.length);
}

/**
 * {@link decodePlain} of the `length` bytes at `start` of `data` (a ring's data area: no view per
 * value). Reads them only while it runs.
 */
export function decodePlainAt(data: Uint8Array, start: number, length: number): unknown {
  const outerInput = input;
  const outerView = inputView;
  const outerPos = pos;
  const outerBase = base;
  if (data.buffer !== wholeBuffer) {
    wholeBuffer = data.buffer;
    wholeView = new DataView(data.buffer);
  }
  input = data;
  inputView = wholeView;
  base = data.byteOffset;
  pos = start + 1;
  const outerRecentAt = recentAt;
  recentAt = 0;
  try {
    const value = readValue();
    if (pos !== start + length) throw new TypeError('corrupt value: trailing bytes');
    return value;
  } finally {
    input = outerInput;
    inputView = outerView;
    pos = outerPos;
    base = outerBase;
    recentAt = outerRecentAt;
  }
}
