/**
 * How this package's objects (and some of core's) travel inside values.
 *
 * Every object here is built from kernel objects that other processes reach by id (a System V
 * semaphore set, a System V segment) or by an inherited descriptor (the duplex pipe of a
 * Connection). An object describes itself as a {@link ShareRecord}: its kind, plain data (ids,
 * sizes), and the core objects that must be inherited (`parts`). Two routes carry records:
 *
 * - `spawn` args: {@link packForSpawn} leaves `parts` in place as core objects, which the backend
 *   carries the kernel's way (the same mechanism as `processes.spawn(entry, { args })`); the child
 *   revives with {@link reviveValue} (done by this package's `defineChild`).
 * - Core's `processes.spawn(entry, { args })` itself: every shareable object also implements
 *   core's `moduleTransferSymbol` ({@link transferByModule}), so core packs its record the same
 *   way and the child, whatever its `defineChild`, gets it rebuilt by revive-transfer.ts.
 * - A value sent through a Queue or Connection: {@link packForValue} keeps only plain data, so an
 *   object needing an inherited descriptor cannot go that way and is a {@link DataCloneError}
 *   before anything is sent. Core's System V semaphore sets and segments and POSIX segments travel
 *   by id or name, as the kernel lets unrelated processes reach them.
 */
import { isTransferable, transferSymbol, type IpcBackend, type ModuleTransfer, type PosixSegment, type SemaphoreSet, type SysvSegment, type Transferable } from '@ipcx/core';
import { DataCloneError } from './errors.js';

/** Method key of {@link Shareable}. */
export const shareSymbol: unique symbol = Symbol.for('ipcx.multiprocessing.share');

/** The plain description of a shareable object. */
export interface ShareRecord {
  /** Which reviver rebuilds it, e.g. `'queue'`. */
  readonly kind: string;
  /** Plain data the reviver needs (ids, sizes, options). */
  readonly data: unknown;
  /** Core objects that must be inherited by a child (descriptors): only `spawn` args carry them. */
  readonly parts?: readonly Transferable[];
}

/** An object of this package that can travel to another process. */
export interface Shareable {
  /** Its record: what another process needs to rebuild it. Throws `CLOSED` once closed. */
  [shareSymbol](): ShareRecord;
}

/** Rebuilds an object from its record in this process. */
export type Reviver = (data: unknown, backend: IpcBackend, parts: readonly unknown[]) => Promise<unknown>;

const revivers = new Map<string, Reviver>();

/** Registers how to rebuild objects of `kind` (each object file registers its own). */
export function registerReviver(kind: string, reviver: Reviver): void {
  revivers.set(kind, reviver);
}

/** True if `value` is a {@link Shareable}. */
export function isShareable(value: unknown): value is Shareable {
  return typeof value === 'object' && value !== null && typeof (value as Partial<Shareable>)[shareSymbol] === 'function';
}

const MARK = '@ipcx/multiprocessing';
/**
 * The kind of marker that wraps a user's own plain object that has the {@link MARK} key (`data`
 * is the object itself), so that on the way back every object with that key is one of ours and
 * theirs arrives as it was sent.
 */
const ESCAPED = 'escaped';

interface Marker {
  readonly [MARK]: string;
  readonly data: unknown;
  readonly parts?: readonly unknown[];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

/** True if anything inside `value` (arrays, plain objects, Map values) is an object to pack. */
export function containsObjects(value: unknown, seen = new Set<object>()): boolean {
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value)) return false;
  if (isShareable(value) || isTransferable(value)) return true;
  // Structured clone keeps cycles; the walks must not loop on them.
  if (seen.has(value)) return false;
  seen.add(value);
  if (Array.isArray(value)) {
    for (const item of value) if (typeof item === 'object' && item !== null && containsObjects(item, seen)) return true;
    return false;
  }
  if (value instanceof Map) {
    for (const item of value.values()) if (containsObjects(item, seen)) return true;
    return false;
  }
  if (isPlainObject(value)) {
    for (const key in value) if (containsObjects(value[key], seen)) return true;
  }
  return false;
}

/**
 * Sets `key` of `target` to `value` as a data property, as structured clone creates properties: an
 * own `__proto__` key (`JSON.parse` makes them) is a key like any other, where assignment would set
 * the prototype instead.
 */
function setData(target: object, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  else (target as Record<string, unknown>)[key] = value;
}

/**
 * A copy of `value` with objects replaced where `replace` says, and otherwise what structured
 * clone would give of it: cycles and shared references, array holes, named array properties and
 * own `__proto__` keys kept. A plain object of the user's that has the marker key is wrapped in an
 * {@link ESCAPED} marker, so that it is not taken for one of ours on the way back.
 */
function walk(value: unknown, replace: (object: object) => unknown | undefined, copies = new Map<object, unknown>()): unknown {
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value)) return value;
  if (copies.has(value)) return copies.get(value);
  const replaced = replace(value);
  if (replaced !== undefined) {
    copies.set(value, replaced);
    return replaced;
  }
  if (Array.isArray(value)) return copyArray(value, replace, copies);
  if (value instanceof Map) {
    const copy = new Map<unknown, unknown>();
    copies.set(value, copy);
    for (const [key, item] of value) copy.set(key, walk(item, replace, copies));
    return copy;
  }
  if (isPlainObject(value)) {
    const copy: Record<string, unknown> = {};
    // Set before the members are walked: a member referring back finds the copy (or its wrapper).
    copies.set(value, Object.hasOwn(value, MARK) ? ({ [MARK]: ESCAPED, data: copy } satisfies Marker) : copy);
    for (const key of Object.keys(value)) setData(copy, key, walk(value[key], replace, copies));
    return copies.get(value);
  }
  return value;
}

/** {@link walk} of an array: its own enumerable properties, each read once, holes left holes. */
function copyArray(value: unknown[], replace: (object: object) => unknown | undefined, copies: Map<object, unknown>): unknown[] {
  const length = value.length;
  // Holes where `value` has them (no element written there).
  const copy: unknown[] = new Array<unknown>(length);
  copies.set(value, copy);
  // Object.values (no string per index) gives the elements in order, then the named properties'
  // values: as many as the length with no hole means elements only, the common case.
  const values = Object.values(value);
  let elementsOnly = values.length === length;
  for (let i = 0; elementsOnly && i < length; i++) elementsOnly = Object.hasOwn(value, i);
  if (elementsOnly) {
    for (let i = 0; i < length; i++) copy[i] = walk(values[i], replace, copies);
    return copy;
  }
  // Holes or named properties: key by key (indices first, then names, as structured clone), with
  // the values read above unless a getter changed the keys meanwhile.
  const keys = Object.keys(value);
  const paired = keys.length === values.length;
  for (let j = 0; j < keys.length; j++) setData(copy, keys[j]!, walk(paired ? values[j] : (value as unknown as Record<string, unknown>)[keys[j]!], replace, copies));
  return copy;
}

/** `value` with every shareable object replaced by its record; core objects in `parts` are left for the backend to carry. */
export function packForSpawn(value: unknown): unknown {
  return walk(value, (object) => {
    if (!isShareable(object)) return undefined;
    const record = object[shareSymbol]();
    return { [MARK]: record.kind, data: record.data, parts: record.parts ?? [] } satisfies Marker;
  });
}

/** The module a child imports to rebuild objects that came through core's `processes.spawn`. */
const REVIVE_MODULE = new URL('./revive-transfer.js', import.meta.url).href;

/**
 * What `[moduleTransferSymbol]()` of every shareable object answers: its {@link packForSpawn}
 * record (core objects in `parts`, which core carries), rebuilt in the child by revive-transfer.ts.
 */
export function transferByModule(object: Shareable): ModuleTransfer {
  return { module: REVIVE_MODULE, data: packForSpawn(object) };
}

/** True for a core System V semaphore set (duck-typed: core has interfaces, not classes). */
function isSemaphoreSet(value: object): value is SemaphoreSet {
  const set = value as Partial<SemaphoreSet>;
  return typeof set.operate === 'function' && typeof set.id === 'number' && typeof set.waitForZero === 'function';
}

function isSegment(value: object): value is SysvSegment | PosixSegment {
  const segment = value as Partial<Omit<SysvSegment, 'kind'>> & { kind?: string };
  return typeof segment.notify === 'function' && typeof segment.wait === 'function' && (segment.kind === 'sysv' || segment.kind === 'posix');
}

/**
 * `value` with every shareable object and every core object that other processes reach by id or
 * name replaced by plain data. Throws {@link DataCloneError} for an object that needs an inherited
 * descriptor (a Connection, a pipe end, a socket).
 */
export function packForValue(value: unknown): unknown {
  return walk(value, (object) => {
    if (isShareable(object)) {
      const record = object[shareSymbol]();
      if (record.parts !== undefined && record.parts.length > 0) {
        throw new DataCloneError(`a ${record.kind} holds descriptors and cannot travel inside a value: pass it in spawn args`);
      }
      return { [MARK]: record.kind, data: record.data } satisfies Marker;
    }
    if (isSemaphoreSet(object)) return { [MARK]: 'core:semaphore-set', data: { id: object.id } } satisfies Marker;
    if (isSegment(object)) {
      const data = object.kind === 'sysv' ? { id: object.id, readOnly: object.readOnly } : { name: (object as PosixSegment).name, readOnly: object.readOnly };
      return { [MARK]: `core:${object.kind}-segment`, data } satisfies Marker;
    }
    if (isTransferable(object)) {
      throw new DataCloneError(`a ${object[transferSymbol]().kind} travels by descriptor and cannot go inside a value: pass it in spawn args`);
    }
    return undefined;
  });
}

registerReviver('core:semaphore-set', (data, backend) => backend.semaphores.openById((data as { id: number }).id));
registerReviver('core:sysv-segment', (data, backend) => {
  const { id, readOnly } = data as { id: number; readOnly: boolean };
  return backend.sharedMemory.attachSysv(id, { readOnly });
});
registerReviver('core:posix-segment', (data, backend) => {
  const { name, readOnly } = data as { name: string; readOnly: boolean };
  return backend.sharedMemory.openPosix(name, { readOnly });
});

function isMarker(value: Record<string, unknown>): value is Record<string, unknown> & Marker {
  return typeof value[MARK] === 'string' && 'data' in value;
}

/** The inverse of {@link packForSpawn} and {@link packForValue}: rebuilds every object in this process. */
export async function reviveValue(value: unknown, backend: IpcBackend): Promise<unknown> {
  // Objects are rebuilt in place: the value is this process's own fresh copy (just decoded or
  // just received as spawn args), and in-place keeps its cycles and shared references.
  const pending: Array<Promise<void>> = [];
  const seen = new Set<object>();
  // One object per marker, for every place that refers to it (one object sent in two places).
  const rebuilt = new Map<object, Promise<unknown>>();
  const visitMembers = (item: Record<string, unknown>): void => {
    for (const key of Object.keys(item)) visit(item[key], (revived) => setData(item, key, revived));
  };
  const visit = (item: unknown, assign: (revived: unknown) => void): void => {
    if (typeof item !== 'object' || item === null || ArrayBuffer.isView(item)) return;
    if (isPlainObject(item) && isMarker(item)) {
      if (item[MARK] === ESCAPED) {
        // The user's own object, which has the marker key: itself, its members revived as any object's.
        const original = item.data as Record<string, unknown>;
        assign(original);
        if (!seen.has(item)) {
          seen.add(item);
          visitMembers(original);
        }
        return;
      }
      let object = rebuilt.get(item);
      if (object === undefined) {
        const reviver = revivers.get(item[MARK]);
        if (reviver === undefined) throw new TypeError(`no reviver for '${item[MARK]}': import the module that defines it`);
        object = reviver(item.data, backend, item.parts ?? []);
        rebuilt.set(item, object);
      }
      pending.push(object.then(assign));
      return;
    }
    if (seen.has(item)) return;
    seen.add(item);
    if (Array.isArray(item)) {
      // Elements (holes stay holes), then named properties, which come after them in Object.keys.
      let elements = 0;
      item.forEach((inner, i) => {
        elements++;
        visit(inner, (revived) => (item[i] = revived));
      });
      if (Object.values(item).length !== elements) {
        for (const key of Object.keys(item).slice(elements)) visit((item as unknown as Record<string, unknown>)[key], (revived) => setData(item, key, revived));
      }
    } else if (item instanceof Map) {
      for (const [key, inner] of item) visit(inner, (revived) => item.set(key, revived));
    } else if (isPlainObject(item)) {
      visitMembers(item);
    }
  };
  let result = value;
  visit(value, (revived) => (result = revived));
  await Promise.all(pending);
  return result;
}
