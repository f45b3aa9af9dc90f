/**
 * How ipcx objects travel to another process or worker inside `processes.spawn(entry, { args })`.
 *
 * An object that can travel implements `[transferSymbol]()`, returning a record of plain data: a
 * kind, data such as a key or name, and handles (descriptor numbers on the native backend, object
 * ids on the worker backend). The backend carries the records and handles by the kernel's route
 * (inherited descriptors, keys, names) and the other side revives an equivalent object.
 *
 * An object that a library builds from core objects (a multiprocessing Queue: a segment and a
 * semaphore set) is no backend's to revive: it implements `[moduleTransferSymbol]()` instead,
 * naming a module and giving data in which its core objects travel as above. The child imports
 * that module and calls its `reviveTransfer(data, backend)` before the child's main runs
 * ({@link reviveModuleTransfers}, called by `runChildMain` on every backend).
 */
import type { IpcBackend } from './backend.js';

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

/** Method key of {@link ModuleTransferable}. */
export const moduleTransferSymbol: unique symbol = Symbol.for('ipcx.transfer.module');

/** How an object built on core's interfaces travels in spawn args: see {@link ModuleTransferable}. */
export interface ModuleTransfer {
  /**
   * The URL of the module that rebuilds it (for example `new URL('./revive.js', import.meta.url).href`):
   * the child imports it and calls its export `reviveTransfer(data, backend)`, which may be async.
   */
  readonly module: string;
  /** Arrays and plain objects of plain data and core objects (which travel as core objects in args do). */
  readonly data: unknown;
}

/**
 * An object built on core's interfaces by a library (not by a backend) that can be passed to a
 * child in spawn args: the child's `reviveTransfer` export of {@link ModuleTransfer.module}
 * rebuilds it from {@link ModuleTransfer.data}, once that data's core objects are revived.
 */
export interface ModuleTransferable {
  [moduleTransferSymbol](): ModuleTransfer;
}

/** True if `value` implements {@link ModuleTransferable}. */
export function isModuleTransferable(value: unknown): value is ModuleTransferable {
  return typeof value === 'object' && value !== null && typeof (value as Partial<ModuleTransferable>)[moduleTransferSymbol] === 'function';
}

const MARKER = '@ipcx/transfer';
/** Marks a {@link ModuleTransfer} in packed args: `{ [MODULE_MARKER]: module, data }`. */
const MODULE_MARKER = '@ipcx/transfer-module';

/**
 * Replaces every transferable object inside `value` (searching arrays and plain objects) by a
 * marker, and returns the markers' records in order. A {@link ModuleTransferable} becomes a plain
 * marker naming its module, with its data packed the same way. The result is plain data.
 */
export function packTransferables(value: unknown): { packed: unknown; records: TransferRecord[] } {
  const records: TransferRecord[] = [];
  const walk = (item: unknown): unknown => {
    if (isTransferable(item)) {
      records.push(item[transferSymbol]());
      return { [MARKER]: records.length - 1 };
    }
    if (isModuleTransferable(item)) {
      const { module, data } = item[moduleTransferSymbol]();
      if (typeof module !== 'string') throw new TypeError('a module transfer must name its module by URL');
      return { [MODULE_MARKER]: module, data: walk(data) };
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

/** The module export that {@link reviveModuleTransfers} calls. */
type ReviveTransfer = (data: unknown, backend: IpcBackend) => unknown;

/**
 * For backends (through `runChildMain`): rebuilds, in place, every {@link ModuleTransfer} marker
 * inside `value` (unpacked args, whose core objects are already revived: arrays and plain objects
 * are searched, cycles allowed) with what its module's `reviveTransfer` returns; returns `value`,
 * or the rebuilt object if `value` itself is a marker. A module that cannot be imported or has no
 * such export is a `TypeError` naming it.
 */
export async function reviveModuleTransfers(value: unknown, backend: IpcBackend): Promise<unknown> {
  const pending: Array<Promise<void>> = [];
  const seen = new Set<object>();
  let result = value;
  const visit = (item: unknown, assign: (revived: unknown) => void): void => {
    if (item === null || typeof item !== 'object' || seen.has(item)) return;
    seen.add(item);
    if (Array.isArray(item)) {
      item.forEach((inner, i) => visit(inner, (revived) => (item[i] = revived)));
      return;
    }
    if (Object.getPrototypeOf(item) !== Object.prototype) return;
    const record = item as Record<string, unknown>;
    const module = record[MODULE_MARKER];
    if (typeof module === 'string' && 'data' in record && Object.keys(record).length === 2) {
      pending.push(reviveByModule(module, record.data, backend).then(assign));
      return;
    }
    for (const key of Object.keys(record)) visit(record[key], (revived) => (record[key] = revived));
  };
  visit(value, (revived) => (result = revived));
  await Promise.all(pending);
  return result;
}

async function reviveByModule(module: string, data: unknown, backend: IpcBackend): Promise<unknown> {
  let revive: ReviveTransfer | undefined;
  try {
    revive = ((await import(/* @vite-ignore */ module)) as { reviveTransfer?: ReviveTransfer }).reviveTransfer;
  } catch (error) {
    throw new TypeError(`cannot import ${module} to revive an object passed in spawn args: ${(error as Error).message}`, { cause: error });
  }
  if (typeof revive !== 'function') throw new TypeError(`${module} exports no reviveTransfer(data, backend) function`);
  return revive(data, backend);
}
