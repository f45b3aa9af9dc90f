/**
 * The numeric types of shared values, by name or by Python's `array`/`ctypes` type code, and how
 * each is read and written (atomically where `Atomics` allows: the integer types).
 */

/** A numeric type name. */
export type NumberType = 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'float32' | 'float64' | 'bool';

/** Python's type codes for the same types (`'i'` is int32, `'d'` float64, `'?'` bool, ...). */
export type TypeCode = 'b' | 'B' | 'h' | 'H' | 'i' | 'I' | 'l' | 'L' | 'q' | 'Q' | 'f' | 'd' | '?';

/** What a type's values are in JavaScript. */
export type NumberOf<T extends NumberType | TypeCode> = T extends 'int64' | 'uint64' | 'l' | 'L' | 'q' | 'Q' ? bigint : T extends 'bool' | '?' ? boolean : number;

const CODES: Record<TypeCode, NumberType> = {
  b: 'int8', B: 'uint8', h: 'int16', H: 'uint16', i: 'int32', I: 'uint32',
  // Python's 'l' is a C long: 64 bits on Linux x86-64.
  l: 'int64', L: 'uint64', q: 'int64', Q: 'uint64', f: 'float32', d: 'float64', '?': 'bool',
};

type AnyTypedArray = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array | Float32Array | Float64Array;

/** How a type is stored. */
export interface TypeInfo {
  readonly name: NumberType;
  readonly bytes: number;
  /** `Atomics` works on it (integers). */
  readonly atomic: boolean;
  /** A typed array of this type over `buffer`. */
  view(buffer: ArrayBuffer, byteOffset: number, length: number): AnyTypedArray;
  /** The JavaScript value of a stored element. */
  fromStored(stored: number | bigint): number | bigint | boolean;
  /** The element to store for a JavaScript value (TypeError for the wrong kind). */
  toStored(value: unknown): number | bigint;
}

const numberIn = (value: unknown): number => {
  if (typeof value !== 'number') throw new TypeError(`expected a number, received ${typeof value}`);
  return value;
};
const bigintIn = (value: unknown): bigint => {
  if (typeof value !== 'bigint') throw new TypeError(`expected a bigint, received ${typeof value}`);
  return value;
};

function info(name: NumberType, bytes: number, Ctor: new (buffer: ArrayBuffer, offset: number, length: number) => AnyTypedArray, atomic: boolean): TypeInfo {
  const big = name === 'int64' || name === 'uint64';
  const bool = name === 'bool';
  return {
    name,
    bytes,
    atomic,
    view: (buffer, byteOffset, length) => new Ctor(buffer, byteOffset, length),
    fromStored: (stored) => (bool ? stored !== 0 : stored),
    toStored: (value) => (bool ? (typeof value === 'boolean' ? (value ? 1 : 0) : numberIn(value) ? 1 : 0) : big ? bigintIn(value) : numberIn(value)),
  };
}

const TYPES: Record<NumberType, TypeInfo> = {
  int8: info('int8', 1, Int8Array, true),
  uint8: info('uint8', 1, Uint8Array, true),
  int16: info('int16', 2, Int16Array, true),
  uint16: info('uint16', 2, Uint16Array, true),
  int32: info('int32', 4, Int32Array, true),
  uint32: info('uint32', 4, Uint32Array, true),
  int64: info('int64', 8, BigInt64Array, true),
  uint64: info('uint64', 8, BigUint64Array, true),
  float32: info('float32', 4, Float32Array, false),
  float64: info('float64', 8, Float64Array, false),
  bool: info('bool', 1, Uint8Array, true),
};

/** The type of a name or type code; `TypeError` for anything else. */
export function numberType(type: unknown): TypeInfo {
  const name = typeof type === 'string' ? ((CODES as Record<string, NumberType>)[type] ?? type) : undefined;
  const found = name === undefined ? undefined : (TYPES as Record<string, TypeInfo>)[name];
  if (found === undefined) throw new TypeError(`unknown number type '${String(type)}': use ${Object.keys(TYPES).join(', ')} or a type code of ${Object.keys(CODES).join('')}`);
  return found;
}

/** Reads element `index` of `view` (atomically for integer types). */
export function loadElement(type: TypeInfo, view: AnyTypedArray, index: number): number | bigint | boolean {
  const stored = type.atomic ? Atomics.load(view as Int32Array, index) : view[index];
  return type.fromStored(stored as number | bigint);
}

/** Writes element `index` of `view` (atomically for integer types). */
export function storeElement(type: TypeInfo, view: AnyTypedArray, index: number, value: unknown): void {
  const stored = type.toStored(value);
  if (type.atomic) Atomics.store(view as Int32Array, index, stored as number);
  else (view as Float64Array)[index] = stored as number;
}

export type { AnyTypedArray };
