/**
 * ShareableList: Python's `multiprocessing.shared_memory.ShareableList`, a fixed-length list of
 * numbers, bigints, booleans, null and short strings in one shared segment. Every slot has the
 * same size, fixed at creation (room for the longest string given, or `slotBytes`):
 *
 * ```
 *  slot i at i * (SLOT_HEADER_BYTES + payload):
 *  ┌────────── tag u32 ──────────┬──── byte length u32 ────┬──── payload (8-aligned) ────┐
 *  │ 0 null 1 number 2 bigint    │ of a string's UTF-8     │ float64 / int64 / UTF-8     │
 *  │ 3 boolean 4 string          │                         │                             │
 *  └─────────────────────────────┴─────────────────────────┴─────────────────────────────┘
 * ```
 * A slot write is two stores (payload, then tag and length): not atomic for a concurrent reader;
 * guard writes and reads with a {@link Lock} when they race. Nothing waits.
 */
import type { IpcBackend, SysvSegment } from '@ipcx/core';
import { moduleTransferSymbol, type ModuleTransfer } from '@ipcx/core';
import { closedObject, createSegment, release } from './kernel-objects.js';
import { registerReviver, shareSymbol, transferByModule, type Shareable, type ShareRecord } from './share.js';

/** Bytes before each slot's payload (tag, length). */
export const SLOT_HEADER_BYTES = 8;
const Tag = { null: 0, number: 1, bigint: 2, boolean: 3, string: 4 } as const;

/** What a slot holds. */
export type ListItem = number | bigint | boolean | string | null;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A fixed-length list of small values in shared memory; see the file comment. */
export class ShareableList implements Shareable, AsyncDisposable, Iterable<ListItem> {
  private isClosed = false;
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  private readonly stride: number;

  /** @internal Use {@link ShareableList.create}. */
  constructor(
    private readonly segment: SysvSegment,
    /** Number of slots. */ readonly length: number,
    /** Payload bytes per slot (the longest string that fits, in UTF-8). */ readonly slotBytes: number,
    private readonly owner: boolean,
  ) {
    this.stride = SLOT_HEADER_BYTES + slotBytes;
    this.bytes = new Uint8Array(segment.buffer, 0, length * this.stride);
    this.view = new DataView(segment.buffer, 0, length * this.stride);
  }

  /**
   * Makes a list holding `items` (its length is fixed), owned by this process. Each slot has room
   * for `slotBytes` (default: the longest string given, at least 8) bytes of UTF-8.
   */
  static async create(backend: IpcBackend, items: Iterable<ListItem>, options: { readonly slotBytes?: number } = {}): Promise<ShareableList> {
    const values = [...items];
    if (values.length === 0) throw new RangeError('a ShareableList needs at least one item');
    const longest = Math.max(8, ...values.map((item) => (typeof item === 'string' ? encoder.encode(item).length : 0)));
    const slotBytes = Math.ceil((options.slotBytes ?? longest) / 8) * 8;
    if (slotBytes < longest) throw new RangeError(`slotBytes ${options.slotBytes} is smaller than the longest string (${longest} bytes)`);
    const segment = await createSegment(backend, values.length * (SLOT_HEADER_BYTES + slotBytes), 'ShareableList');
    const list = new ShareableList(segment, values.length, slotBytes, true);
    values.forEach((item, i) => list.set(i, item));
    return list;
  }

  /** Item `index`. */
  get(index: number): ListItem {
    const at = this.slot(index);
    const tag = this.view.getUint32(at, true);
    const payload = at + SLOT_HEADER_BYTES;
    switch (tag) {
      case Tag.number:
        return this.view.getFloat64(payload, true);
      case Tag.bigint:
        return this.view.getBigInt64(payload, true);
      case Tag.boolean:
        return this.view.getUint8(payload) !== 0;
      case Tag.string:
        return decoder.decode(this.bytes.subarray(payload, payload + this.view.getUint32(at + 4, true)));
      default:
        return null;
    }
  }

  /** Sets item `index`: RangeError for a string longer than a slot, TypeError for another kind of value. */
  set(index: number, item: ListItem): void {
    const at = this.slot(index);
    const payload = at + SLOT_HEADER_BYTES;
    let tag: number;
    let length = 0;
    if (item === null) tag = Tag.null;
    else if (typeof item === 'number') {
      tag = Tag.number;
      this.view.setFloat64(payload, item, true);
    } else if (typeof item === 'bigint') {
      tag = Tag.bigint;
      this.view.setBigInt64(payload, item, true);
    } else if (typeof item === 'boolean') {
      tag = Tag.boolean;
      this.view.setUint8(payload, item ? 1 : 0);
    } else if (typeof item === 'string') {
      const encoded = encoder.encode(item);
      if (encoded.length > this.slotBytes) throw new RangeError(`'${item.slice(0, 20)}' needs ${encoded.length} bytes; slots hold ${this.slotBytes}`);
      tag = Tag.string;
      length = encoded.length;
      this.bytes.set(encoded, payload);
    } else throw new TypeError(`a ShareableList holds numbers, bigints, booleans, strings and null, not ${typeof item}`);
    this.view.setUint32(at + 4, length, true);
    this.view.setUint32(at, tag, true);
  }

  /** Python's `index`: the first slot holding `item`, or -1. */
  indexOf(item: ListItem): number {
    for (let i = 0; i < this.length; i++) if (this.get(i) === item) return i;
    return -1;
  }

  /** Python's `count`. */
  count(item: ListItem): number {
    let found = 0;
    for (let i = 0; i < this.length; i++) if (this.get(i) === item) found++;
    return found;
  }

  /** The items as a plain array. */
  toArray(): ListItem[] {
    return Array.from({ length: this.length }, (_, i) => this.get(i));
  }

  /** The items, in order (each read on its own). */
  *[Symbol.iterator](): Iterator<ListItem> {
    for (let i = 0; i < this.length; i++) yield this.get(i);
  }

  /** Gives up this handle; the creator's close removes the segment. */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    await release(this.owner, [this.segment]);
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
    if (this.isClosed) throw closedObject('shareable list', 'share');
    return { kind: 'shareable-list', data: { segment: this.segment.id, length: this.length, slotBytes: this.slotBytes } };
  }

  private slot(index: number): number {
    if (this.isClosed) throw closedObject('shareable list', 'access');
    if (!Number.isInteger(index) || index < 0 || index >= this.length) throw new RangeError(`index must be an integer from 0 to ${this.length - 1}`);
    return index * this.stride;
  }
}

registerReviver('shareable-list', async (data, backend) => {
  const { segment, length, slotBytes } = data as { segment: number; length: number; slotBytes: number };
  return new ShareableList(await backend.sharedMemory.attachSysv(segment), length, slotBytes, false);
});
