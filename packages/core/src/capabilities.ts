import { primitiveNames, type PrimitiveName } from './primitives.js';

export type { PrimitiveName } from './primitives.js';

/** `'duplex-pipe'` -> `'duplexPipe'`. */
type CamelCase<S extends string> = S extends `${infer Head}-${infer Tail}` ? `${Head}${Capitalize<CamelCase<Tail>>}` : S;

/**
 * The primitives a backend can implement, by camel-cased key (`Primitive.duplexPipe` is
 * `'duplex-pipe'`): derived from the primitive table (primitives.ts).
 */
export const Primitive: { readonly [N in PrimitiveName as CamelCase<N>]: N } = Object.freeze(
  Object.fromEntries(primitiveNames.map((name) => [name.replace(/-(\w)/g, (_, letter: string) => letter.toUpperCase()), name])),
) as { readonly [N in PrimitiveName as CamelCase<N>]: N };

/**
 * Abilities beyond the primitives' common contract. A backend declares one missing only where the
 * thing cannot exist for it (say, other programs on the host seeing an object that lives inside one
 * process), and says why in its TSDoc.
 */
export const Feature = {
  /** Objects are the operating system's own: shell tools, C and Python programs see and use them. */
  hostInterop: 'host-interop',
  /** Children are OS processes: they can be killed with signals like `SIGKILL`. */
  osProcesses: 'os-processes',
  /** Unix sockets in the Linux abstract namespace. */
  abstractSockets: 'abstract-sockets',
  /** TCP and UDP sockets to other hosts. */
  network: 'network',
  /**
   * `processes.spawnExecutable` runs any program with ipcx objects at chosen descriptor numbers.
   * Absent where objects are no OS descriptors (worker): there the call rejects with `ENOSYS`.
   */
  executables: 'executables',
} as const;

/** Name of a feature, e.g. `'host-interop'`. */
export type FeatureName = (typeof Feature)[keyof typeof Feature];

/** What a backend implements. The conformance kit runs the suites that these allow. */
export interface Capabilities {
  /** Primitives the backend implements. */
  readonly primitives: ReadonlySet<PrimitiveName>;
  /** Features the backend has. */
  readonly features: ReadonlySet<FeatureName>;
}

/** Builds a {@link Capabilities} value. */
export function capabilities(primitives: Iterable<PrimitiveName>, features: Iterable<FeatureName>): Capabilities {
  return { primitives: new Set(primitives), features: new Set(features) };
}
