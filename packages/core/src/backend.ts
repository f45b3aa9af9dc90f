import type { Capabilities } from './capabilities.js';
import { factoryNames, factoryToken, type PrimitiveFactories } from './primitives.js';

/** For leak checks: what a backend has open and what it has left in its kernel. */
export interface Diagnostics {
  /** Descriptions of the objects this process (or worker) has open through this backend. */
  openObjects(): readonly string[];
  /**
   * Descriptions of the named objects in the (real or emulated) kernel that outlive their
   * handles: System V ids, POSIX names, segments. Paths in the host's file system are not listed
   * (a test checks its folder); a backend that emulates paths (FIFOs) lists its own.
   */
  kernelObjects(): Promise<readonly string[]>;
}

/**
 * A backend: one factory per row of the primitive table ({@link PrimitiveFactories}: `pipes`,
 * `fifos`, `messageQueues`, ..., `processes`), its name, what it can do and its diagnostics. Apps
 * depend on this interface (or on single factories through their DI tokens), never on an adapter.
 *
 * Every factory is present: one a backend does not implement rejects every call with `ENOSYS`
 * (its primitives are absent from `capabilities`). Backends are built with `defineBackend` from
 * `@ipcx/core/backend`, which fills in such factories, so a backend written before a primitive
 * was added to the table still builds and has the new factory (rejecting with `ENOSYS`).
 */
export interface IpcBackend extends PrimitiveFactories {
  /** The backend's name, e.g. `'native'` or `'worker'`. */
  readonly name: string;
  /** What this backend implements. */
  readonly capabilities: Capabilities;
  /** For leak checks. */
  readonly diagnostics: Diagnostics;
}

/** DI token for {@link IpcBackend}. */
export const IpcBackend: unique symbol = Symbol.for('ipcx.IpcBackend');

/**
 * Each DI token with the backend's value for it: the backend itself under {@link IpcBackend} and
 * every factory of the primitive table under its own token. Adapters build their inversify `ContainerModule` from this:
 * `for (const [token, value] of backendBindings(backend)) bind(token).toConstantValue(value)`.
 */
export function backendBindings(backend: IpcBackend): Array<[symbol, unknown]> {
  return [[IpcBackend, backend], ...factoryNames.map((name): [symbol, unknown] => [factoryToken(name), backend[name]])];
}
