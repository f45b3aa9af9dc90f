/**
 * How ipcx objects travel to another process or worker inside `processes.spawn(entry, { args })`.
 *
 * An object that can travel implements `[transferSymbol]()`, returning a record of plain data: a
 * kind, data such as a key or name, and handles (descriptor numbers on the native backend, object
 * ids on the worker backend). The backend carries the records and handles by the kernel's route
 * (inherited descriptors, keys, names) and the other side revives an equivalent object.
 */

/** Method key of {@link Transferable}. */
export const transferSymbol: unique symbol = Symbol.for('ipcx.transfer');

/** The plain-data description of an object in transit. */
export interface TransferRecord {
  /** Which kind of object to revive, e.g. `'pipe-reader'`. */
  readonly kind: string;
  /** Plain data the kind needs (keys, names, sizes). Must survive structured cloning. */
  readonly data?: unknown;
  /** Handles to carry (descriptors on the native backend); revived on the other side in order. */
  readonly handles?: readonly number[];
}

/** An ipcx object that can be passed to a child in `spawn` args. */
export interface Transferable {
  [transferSymbol](): TransferRecord;
}

/** True if `value` implements {@link Transferable}. */
export function isTransferable(value: unknown): value is Transferable {
  return typeof value === 'object' && value !== null && typeof (value as Partial<Transferable>)[transferSymbol] === 'function';
}

const MARKER = '@ipcx/transfer';

/**
 * Replaces every transferable object inside `value` (searching arrays and plain objects) by a
 * marker, and returns the markers' records in order. The result is plain data.
 */
export function packTransferables(value: unknown): { packed: unknown; records: TransferRecord[] } {
  const records: TransferRecord[] = [];
  const walk = (item: unknown): unknown => {
    if (isTransferable(item)) {
      records.push(item[transferSymbol]());
      return { [MARKER]: records.length - 1 };
    }
    if (Array.isArray(item)) return item.map(walk);
    if (item !== null && typeof item === 'object' && Object.getPrototypeOf(item) === Object.prototype) {
      return Object.fromEntries(Object.entries(item).map(([key, inner]) => [key, walk(inner)]));
    }
    return item;
  };
  return { packed: walk(value), records };
}

/** The inverse of {@link packTransferables}: replaces each marker by `revive(record index)`. */
export function unpackTransferables(packed: unknown, revive: (index: number) => unknown): unknown {
  const walk = (item: unknown): unknown => {
    if (Array.isArray(item)) return item.map(walk);
    if (item !== null && typeof item === 'object' && Object.getPrototypeOf(item) === Object.prototype) {
      const index = (item as Record<string, unknown>)[MARKER];
      if (typeof index === 'number' && Object.keys(item).length === 1) return revive(index);
      return Object.fromEntries(Object.entries(item).map(([key, inner]) => [key, walk(inner)]));
    }
    return item;
  };
  return walk(packed);
}
