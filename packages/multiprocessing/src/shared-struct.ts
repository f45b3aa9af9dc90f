/**
 * SharedStruct: a typed record in shared memory, from a schema of named numeric fields and
 * fixed-size arrays, laid out once (in schema order, each field aligned to its size) and
 * re-attached from its record in other processes. Python's `ctypes.Structure` in a `Value`.
 *
 * ```
 *  schema { count: 'int32', total: 'float64', samples: ['float32', 4] }
 *  ┌───────────┬─────────┬─────────────────┬──────────────────────────────┐
 *  │ count i32 │ pad 4   │ total f64       │ samples f32 x 4              │
 *  │ 0..3      │ 4..7    │ 8..15           │ 16..31                       │
 *  └───────────┴─────────┴─────────────────┴──────────────────────────────┘
 * ```
 */
import type { IpcBackend, SysvSegment } from '@ipcx/core';
import { moduleTransferSymbol, type ModuleTransfer } from '@ipcx/core';
import { closedObject, createSegmentAfterLock, release } from './kernel-objects.js';
import { Lock } from './lock.js';
import { loadElement, numberType, storeElement, type AnyTypedArray, type NumberOf, type NumberType, type TypeCode, type TypeInfo } from './number-types.js';
import { packForValue, registerReviver, reviveValue, shareSymbol, transferByModule, type Shareable, type ShareRecord } from './share.js';

/** A field: a number type, or `[type, length]` for a fixed-size array. */
export type FieldSpec = NumberType | TypeCode | readonly [NumberType | TypeCode, number];
/** Field names to field specs, in layout order. */
export type StructSchema = Readonly<Record<string, FieldSpec>>;

/** Where one field lives. */
export interface FieldLayout {
  /** The field's name in the schema. */
  readonly name: string;
  /** Its element type. */
  readonly type: NumberType;
  /** Byte offset from the start of the struct. */
  readonly offset: number;
  /** Elements (1 for a scalar field). */
  readonly length: number;
  /** True for an array field. */
  readonly array: boolean;
}

/** The layout of a schema: fields in schema order, each aligned to its element size, and the total size (a multiple of 8). */
export function structLayout(schema: StructSchema): { fields: FieldLayout[]; bytes: number } {
  if (schema === null || typeof schema !== 'object') throw new TypeError('schema must be an object of field specs');
  let offset = 0;
  const fields: FieldLayout[] = [];
  for (const [name, spec] of Object.entries(schema)) {
    const array = Array.isArray(spec);
    const info = numberType(array ? spec[0] : spec);
    const length = array ? spec[1] : 1;
    if (!Number.isInteger(length) || length < 1) throw new RangeError(`field '${name}' must have a length >= 1`);
    offset = Math.ceil(offset / info.bytes) * info.bytes;
    fields.push({ name, type: info.name, offset, length, array });
    offset += info.bytes * length;
  }
  if (fields.length === 0) throw new RangeError('schema must have at least one field');
  return { fields, bytes: Math.max(8, Math.ceil(offset / 8) * 8) };
}

/** The JavaScript shape of a schema's values. */
export type StructValues<S extends StructSchema> = {
  [K in keyof S]: S[K] extends readonly [infer T extends NumberType | TypeCode, number] ? Array<NumberOf<T>> : S[K] extends NumberType | TypeCode ? NumberOf<S[K]> : never;
};

/**
 * A struct in shared memory. Scalar fields are read and written with {@link SharedStruct.get}/
 * {@link SharedStruct.set} (atomic loads/stores for integer types), integer fields can be added to
 * atomically ({@link SharedStruct.add}), and an array field is a live typed array
 * ({@link SharedStruct.field}). Nothing waits; use the optional lock for updates of several fields.
 */
export class SharedStruct<S extends StructSchema> implements Shareable, AsyncDisposable {
  private isClosed = false;
  private readonly views = new Map<string, { info: TypeInfo; view: AnyTypedArray; layout: FieldLayout }>();
  /** The layout, as {@link structLayout} computed it. */
  readonly layout: { fields: FieldLayout[]; bytes: number };

  /** @internal Use {@link SharedStruct.create}. */
  constructor(
    readonly schema: S,
    private readonly segment: SysvSegment,
    private readonly lock: Lock | undefined,
    private readonly owner: boolean,
  ) {
    this.layout = structLayout(schema);
    for (const field of this.layout.fields) {
      const info = numberType(field.type);
      this.views.set(field.name, { info, view: info.view(segment.buffer, field.offset, field.length), layout: field });
    }
  }

  /** Makes a zeroed struct of `schema` (with a lock unless `lock: false`), owned by this process. */
  static async create<S extends StructSchema>(backend: IpcBackend, schema: S, options: { readonly lock?: boolean } = {}): Promise<SharedStruct<S>> {
    const { bytes } = structLayout(schema);
    const lock = options.lock === false ? undefined : await Lock.create(backend);
    return new SharedStruct(schema, await createSegmentAfterLock(backend, bytes, 'SharedStruct', lock), lock, true);
  }

  /** The struct's lock; `TypeError` if made with `lock: false`. */
  getLock(): Lock {
    if (this.lock === undefined) throw new TypeError('this struct has no lock (made with lock: false)');
    return this.lock;
  }

  /** A scalar field's value (atomic load for integer types). */
  get<K extends keyof S & string>(name: K): StructValues<S>[K] {
    const { info, view, layout } = this.entry(name);
    if (layout.array) return Array.from({ length: layout.length }, (_, i) => loadElement(info, view, i)) as StructValues<S>[K];
    return loadElement(info, view, 0) as StructValues<S>[K];
  }

  /** Sets a scalar field, or every element of an array field (atomic stores for integer types). */
  set<K extends keyof S & string>(name: K, value: StructValues<S>[K]): void {
    const { info, view, layout } = this.entry(name);
    if (!layout.array) return storeElement(info, view, 0, value);
    const values = value as unknown[];
    if (!Array.isArray(values) || values.length !== layout.length) throw new RangeError(`field '${name}' needs ${layout.length} values`);
    values.forEach((element, i) => storeElement(info, view, i, element));
  }

  /** Adds to an integer scalar field atomically; returns the value before. */
  add<K extends keyof S & string>(name: K, delta: number | bigint): number | bigint {
    const { info, view, layout } = this.entry(name);
    if (!info.atomic || info.name === 'bool' || layout.array) throw new TypeError(`add() needs an integer scalar field, '${name}' is ${info.name}${layout.array ? '[]' : ''}`);
    return Atomics.add(view as Int32Array, 0, info.toStored(delta) as number);
  }

  /** The live typed array of a field (of length 1 for a scalar). */
  field(name: keyof S & string): AnyTypedArray {
    return this.entry(name).view;
  }

  /** Every field's value (each read on its own, not one snapshot). */
  toObject(): StructValues<S> {
    return Object.fromEntries(this.layout.fields.map((field) => [field.name, this.get(field.name as keyof S & string)])) as StructValues<S>;
  }

  /** Gives up this handle; the creator's close removes the segment (and its lock). */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    await release(this.owner, [this.segment]);
    await this.lock?.close();
  }

  /** `close()`, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Lets core's `processes.spawn` carry it in `args`, for any child (see share.ts). @internal */
  [moduleTransferSymbol](): ModuleTransfer {
    return transferByModule(this);
  }

  /** @internal */
  [shareSymbol](): ShareRecord {
    if (this.isClosed) throw closedObject('struct', 'share');
    return { kind: 'struct', data: { schema: this.schema, segment: this.segment.id, lock: this.lock === undefined ? null : packForValue(this.lock) } };
  }

  private entry(name: string): { info: TypeInfo; view: AnyTypedArray; layout: FieldLayout } {
    if (this.isClosed) throw closedObject('struct', 'field access');
    const entry = this.views.get(name);
    if (entry === undefined) throw new TypeError(`no field '${name}' in the struct`);
    return entry;
  }
}

registerReviver('struct', async (data, backend) => {
  const { schema, segment, lock } = data as { schema: StructSchema; segment: number; lock: unknown };
  const revivedLock = lock === null ? undefined : ((await reviveValue(lock, backend)) as Lock);
  return new SharedStruct(schema, await backend.sharedMemory.attachSysv(segment), revivedLock, false);
});
