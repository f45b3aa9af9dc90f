/**
 * Value and SharedArray: Python's `multiprocessing.Value` and `Array`, numbers in a private
 * System V segment (data from byte 0, 8-aligned), each with an optional robust {@link Lock}.
 */
import type { IpcBackend, SysvSegment } from '@ipcx/core';
import { moduleTransferSymbol, type ModuleTransfer } from '@ipcx/core';
import { closedObject, createSegmentAfterLock, release } from './kernel-objects.js';
import { Lock } from './lock.js';
import { loadElement, numberType, storeElement, type AnyTypedArray, type NumberOf, type NumberType, type TypeCode, type TypeInfo } from './number-types.js';
import { packForValue, registerReviver, reviveValue, shareSymbol, transferByModule, type Shareable, type ShareRecord } from './share.js';

/** Options of {@link Value.create} and {@link SharedArray.create}. */
export interface SharedValueOptions {
  /**
   * A lock for compound updates (`v.value += 1` is a read then a write): `true` (default) makes
   * one, `false` none, or pass a {@link Lock} to share.
   */
  readonly lock?: boolean | Lock;
}

interface SharedRecord {
  readonly segment: number;
  readonly type: NumberType;
  readonly length: number;
  readonly lock: unknown;
}

async function makeLock(backend: IpcBackend, option: boolean | Lock | undefined): Promise<{ lock: Lock | undefined; ownsLock: boolean }> {
  if (option instanceof Lock) return { lock: option, ownsLock: false };
  if (option === false) return { lock: undefined, ownsLock: false };
  if (option !== undefined && option !== true) throw new TypeError('options.lock must be a boolean or a Lock');
  return { lock: await Lock.create(backend), ownsLock: true };
}

/** What Value and SharedArray share: the segment, the view, the lock, the lifetime. */
abstract class SharedNumbers implements Shareable, AsyncDisposable {
  private isClosed = false;
  /** @internal */ protected readonly view: AnyTypedArray;

  /** @internal */
  constructor(
    /** @internal */ protected readonly type: TypeInfo,
    /** @internal */ protected readonly segment: SysvSegment,
    /** Number of elements. */ readonly length: number,
    private readonly lock: Lock | undefined,
    private readonly owner: boolean,
    private readonly ownsLock: boolean,
  ) {
    this.view = type.view(segment.buffer, 0, length);
  }

  /** The element type's name (`'int32'`, ...). */
  get typeName(): NumberType {
    return this.type.name;
  }

  /** True once this handle is closed. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** The lock made or given at creation (Python's `get_lock()`); `TypeError` if made with `lock: false`. */
  getLock(): Lock {
    if (this.lock === undefined) throw new TypeError('this shared value has no lock (made with lock: false)');
    return this.lock;
  }

  /** Gives up this handle (unmaps: views made from it become empty); the creator's close removes the segment. */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    await release(this.owner, [this.segment]);
    if (this.lock !== undefined && (this.ownsLock || !this.owner)) await this.lock.close();
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
    this.checkOpen('share');
    const data: SharedRecord = { segment: this.segment.id, type: this.type.name, length: this.length, lock: this.lock === undefined ? null : packForValue(this.lock) };
    return { kind: this.kind(), data };
  }

  /** @internal */
  protected abstract kind(): string;

  /** @internal */
  protected checkOpen(operation: string): void {
    if (this.isClosed) throw closedObject('shared value', operation);
  }

  /** @internal */
  protected checkIndex(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) throw new RangeError(`index must be an integer from 0 to ${this.length - 1}`);
  }
}

/**
 * One number in shared memory: Python's `Value(typecode, value)`.
 *
 * **Atomic**: reading and writing `value` is a single atomic load/store for the integer types
 * (`Atomics`), and a plain 4- or 8-byte access for floats; {@link Value.add} is an atomic
 * read-modify-write for integers. A compound update of several steps needs {@link Value.getLock}.
 * **Blocking**: nothing here waits (the lock's `acquire` does). **Crash**: memory is state: a
 * process that dies leaves what it wrote; the lock is robust.
 */
export class Value<T extends NumberType | TypeCode = 'float64'> extends SharedNumbers {
  /** Makes a shared number of `type` set to `initial` (default 0), owned by this process (its close removes it). */
  static async create<T extends NumberType | TypeCode>(backend: IpcBackend, type: T, initial?: NumberOf<T>, options: SharedValueOptions = {}): Promise<Value<T>> {
    const info = numberType(type);
    const { lock, ownsLock } = await makeLock(backend, options.lock);
    const segment = await createSegmentAfterLock(backend, 8, 'Value', ownsLock ? lock : undefined);
    const value = new Value<T>(info, segment, 1, lock, true, ownsLock);
    if (initial !== undefined) value.value = initial;
    return value;
  }

  /** The number now (see the class comment for atomicity). */
  get value(): NumberOf<T> {
    this.checkOpen('value');
    return loadElement(this.type, this.view, 0) as NumberOf<T>;
  }

  /** Stores the number (atomically for integer types); TypeError for the wrong kind of value. */
  set value(value: NumberOf<T>) {
    this.checkOpen('value');
    storeElement(this.type, this.view, 0, value);
  }

  /** Adds `delta` atomically (integer types only) and returns the new value. */
  add(delta: NumberOf<T>): NumberOf<T> {
    this.checkOpen('add');
    if (!this.type.atomic || this.type.name === 'bool') throw new TypeError(`add() needs an integer type, not ${this.type.name}`);
    const stored = this.type.toStored(delta);
    const before = Atomics.add(this.view as Int32Array, 0, stored as number);
    // The sum wrapped as the element type wraps it (what the memory now holds).
    const wrapped = this.type.view(new ArrayBuffer(8), 0, 1);
    wrapped[0] = ((before as number) + (stored as number)) as never;
    return this.type.fromStored(wrapped[0]) as NumberOf<T>;
  }

  /** @internal */
  protected kind(): string {
    return 'value';
  }
}

/**
 * A fixed-length array of numbers in shared memory: Python's `Array(typecode, size_or_initializer)`.
 * Element reads and writes are atomic for integer types (see {@link Value}); {@link SharedArray.array}
 * is the live typed array over the shared memory for bulk work.
 */
export class SharedArray<T extends NumberType | TypeCode = 'float64'> extends SharedNumbers implements Iterable<NumberOf<T>> {
  /**
   * Makes a shared array of `type` with `sizeOrValues` elements (zeros) or those values, owned by
   * this process (its close removes it).
   */
  static async create<T extends NumberType | TypeCode>(backend: IpcBackend, type: T, sizeOrValues: number | Iterable<NumberOf<T>>, options: SharedValueOptions = {}): Promise<SharedArray<T>> {
    const info = numberType(type);
    const values = typeof sizeOrValues === 'number' ? undefined : [...sizeOrValues];
    const length = values?.length ?? (sizeOrValues as number);
    if (!Number.isInteger(length) || length < 1 || length > 2 ** 30) throw new RangeError('size must be an integer from 1 to 2^30');
    const { lock, ownsLock } = await makeLock(backend, options.lock);
    const segment = await createSegmentAfterLock(backend, Math.max(8, Math.ceil((length * info.bytes) / 8) * 8), 'Array', ownsLock ? lock : undefined);
    const array = new SharedArray<T>(info, segment, length, lock, true, ownsLock);
    values?.forEach((value, i) => array.set(i, value));
    return array;
  }

  /** The live typed array over the shared memory (writes are seen by every process at once). */
  get array(): AnyTypedArray {
    this.checkOpen('array');
    return this.view;
  }

  /** Element `index` (RangeError outside). */
  get(index: number): NumberOf<T> {
    this.checkOpen('get');
    this.checkIndex(index);
    return loadElement(this.type, this.view, index) as NumberOf<T>;
  }

  /** Sets element `index` (RangeError outside, TypeError for the wrong kind of value). */
  set(index: number, value: NumberOf<T>): void {
    this.checkOpen('set');
    this.checkIndex(index);
    storeElement(this.type, this.view, index, value);
  }

  /** A copy of the elements as a plain array (each read atomically, not all at once). */
  toArray(): Array<NumberOf<T>> {
    return Array.from({ length: this.length }, (_, i) => this.get(i));
  }

  /** The items, in order (each read on its own). */
  *[Symbol.iterator](): Iterator<NumberOf<T>> {
    for (let i = 0; i < this.length; i++) yield this.get(i);
  }

  /** @internal */
  protected kind(): string {
    return 'array';
  }
}

async function reviveShared(data: unknown, backend: IpcBackend, Kind: typeof Value | typeof SharedArray): Promise<unknown> {
  const record = data as SharedRecord;
  const lock = record.lock === null ? undefined : ((await reviveValue(record.lock, backend)) as Lock);
  const segment = await backend.sharedMemory.attachSysv(record.segment);
  return new Kind(numberType(record.type), segment, record.length, lock, false, false);
}

registerReviver('value', (data, backend) => reviveShared(data, backend, Value));
registerReviver('array', (data, backend) => reviveShared(data, backend, SharedArray));
