/**
 * Building a backend from the primitive table: {@link defineBackend} takes the factories a backend
 * implements and fills in the rest with factories that reject with `ENOSYS`; {@link fromSlices}
 * turns each adapter's list of slices (one per primitive file) into those factories and the
 * primitives they declare. So adding a row to the table never breaks a backend: its definition
 * leaves the new factory out, and the built backend has it, rejecting with `ENOSYS`.
 */
import type { Diagnostics, IpcBackend } from '../backend.js';
import { capabilities, type Capabilities, type FeatureName } from '../capabilities.js';
import { IpcError } from '../errors.js';
import { factoryNames, factoryOf, primitiveTable, type FactoryName, type FactoryOf, type PrimitiveFactories, type PrimitiveName, type PrimitiveTable } from '../primitives.js';

/** The factories a backend may leave out: every row of the table but `processes`. */
export type OptionalFactoryName = Exclude<FactoryName, 'processes'>;

/**
 * What a backend's author writes: its name, capabilities, diagnostics and `processes`, and the
 * factories it implements. Every factory of the table is optional here (and any new row will be),
 * so a backend written against an older table still type-checks.
 */
export type BackendDefinition = {
  /** The backend's name, e.g. `'native'`. */
  readonly name: string;
  /** What it implements: a declared primitive must have its factory here. */
  readonly capabilities: Capabilities;
  /** For leak checks. */
  readonly diagnostics: Diagnostics;
  /** Children (every backend has them; `spawn` may still reject with `ENOSYS`). */
  readonly processes: PrimitiveFactories['processes'];
} & { readonly [K in OptionalFactoryName]?: FactoryOf<K> };

/**
 * A factory whose every member rejects with `ENOSYS` (an `IpcError` whose `syscall` is the
 * member's name): what a backend has in place of a factory it does not implement.
 */
export function unimplementedFactory<K extends FactoryName>(factory: K, backendName: string): FactoryOf<K> {
  const label = primitiveTable[factory].label;
  return new Proxy({} as FactoryOf<K>, {
    get(_target, property) {
      // Not a thenable, and symbols (inspection, Symbol.toPrimitive) are absent as on any object.
      if (typeof property === 'symbol' || property === 'then') return undefined;
      return () => Promise.reject(new IpcError('ENOSYS', { syscall: property, message: `ENOSYS: the ${backendName} backend has no ${label} (${property})` }));
    },
  });
}

/**
 * The backend `definition` describes, with every factory it leaves out filled in by
 * {@link unimplementedFactory}. Members beyond the table (a Redis backend's `close()`) are kept.
 * Throws `TypeError` when a declared primitive has no factory: the capabilities would promise what
 * the backend does not do.
 */
export function defineBackend<D extends BackendDefinition>(definition: D): D & IpcBackend {
  for (const primitive of definition.capabilities.primitives) {
    const factory = factoryOf(primitive);
    if ((definition as Partial<PrimitiveFactories>)[factory] === undefined) {
      throw new TypeError(`backend '${definition.name}' declares '${primitive}' but has no ${factory} factory`);
    }
  }
  const backend: Record<string, unknown> = { ...definition };
  for (const factory of factoryNames) {
    if (backend[factory] === undefined) backend[factory] = unimplementedFactory(factory, definition.name);
  }
  return backend as unknown as D & IpcBackend;
}

/**
 * What one primitive file of an adapter contributes to its backend: the factory it implements, for
 * which primitives, built from the backend's context `C` (a kernel, a connection; `void` when none).
 * Each primitive file exports one; the adapter's `backend.ts` lists them and maps over the list.
 */
export interface BackendSlice<C = void, K extends OptionalFactoryName = OptionalFactoryName> {
  /** The factory's member name, a row of the table. */
  readonly factory: K;
  /** The primitives of that row this slice implements (declared in the backend's capabilities). */
  readonly primitives: readonly PrimitiveName[];
  /** Makes the factory. */
  create(context: C): FactoryOf<K>;
}

/**
 * A slice for the factory `factory`: `primitives` must belong to that row of the table and
 * `create` must return the row's interface (both checked by the compiler).
 */
export function backendSlice<C, K extends OptionalFactoryName>(
  factory: K,
  primitives: readonly PrimitiveTable[K]['primitives'][number][],
  create: (context: C) => FactoryOf<K>,
): BackendSlice<C, K> {
  return { factory, primitives, create };
}

/** The primitives a list of slices implements, in list order: what the backend declares. */
export function slicePrimitives(slices: readonly BackendSlice<never, OptionalFactoryName>[]): PrimitiveName[] {
  return slices.flatMap((slice) => slice.primitives);
}

/**
 * The factories and capabilities of a list of slices: each slice's factory made from `context`,
 * the primitives of all slices plus `features` as the capabilities. Throws `TypeError` when two
 * slices claim one factory. Spread the result into {@link defineBackend}'s definition.
 */
export function fromSlices<C>(
  slices: readonly BackendSlice<C, OptionalFactoryName>[],
  context: C,
  features: Iterable<FeatureName>,
): { readonly capabilities: Capabilities } & { readonly [K in OptionalFactoryName]?: FactoryOf<K> } {
  const factories: Record<string, unknown> = {};
  for (const slice of slices) {
    if (factories[slice.factory] !== undefined) throw new TypeError(`two slices implement ${slice.factory}`);
    factories[slice.factory] = slice.create(context);
  }
  return { ...factories, capabilities: capabilities(slicePrimitives(slices), features) };
}
