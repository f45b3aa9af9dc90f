/**
 * The table of primitives: one row per factory of a backend. Everything that lists the primitives
 * is derived from it, so adding a primitive is one interface file and one row here:
 * - {@link IpcBackend}'s factory members ({@link PrimitiveFactories}),
 * - the capability names ({@link PrimitiveName}, `Primitive` in capabilities.ts),
 * - the DI tokens (each interface file's `export const X = factoryToken('x')`),
 * - `backendBindings` (backend.ts), and the `ENOSYS` stand-ins of factories a backend leaves out
 *   (`defineBackend` in `@ipcx/core/backend`).
 *
 * A factory may serve several primitives (`pipes`: `pipe` and `duplex-pipe`); `processes` serves
 * none (every backend has it).
 */
import type { IpcBackend } from './backend.js';
import type { Fifos } from './fifo.js';
import type { Eventfds } from './eventfd.js';
import type { FileLocks } from './file-lock.js';
import type { MessageQueues } from './message-queue.js';
import type { Pipes } from './pipe.js';
import type { PosixMessageQueues } from './posix-message-queue.js';
import type { PosixSemaphores } from './posix-semaphore.js';
import type { Processes } from './process.js';
import type { Semaphores } from './semaphore.js';
import type { SharedMemory } from './shared-memory.js';
import type { NetworkSockets, UnixSockets } from './socket.js';

/** What a row of {@link primitiveTable} says about one factory. */
export interface PrimitiveRow<T = unknown> {
  /** The name of the factory's interface, which is also its DI token's (`Symbol.for('ipcx.' + token)`). */
  readonly token: string;
  /** The capability names the factory serves; a backend declares those it implements. */
  readonly primitives: readonly string[];
  /** How error messages name the factory's objects, e.g. `'message queues'`. */
  readonly label: string;
  /** Type only, never set: the factory's interface. */
  readonly interfaceType?: T;
}

/** A row whose factory has the interface `T` (the spec's literal types are kept). */
function row<T>(): <const S extends Omit<PrimitiveRow, 'interfaceType'>>(spec: S) => S & PrimitiveRow<T> {
  return (spec) => spec;
}

/**
 * The factories of a backend, by member name. The order is the order of {@link backendBindings}
 * and of the conformance suites.
 */
export const primitiveTable = {
  /** Anonymous pipes and duplex pipes. */
  pipes: row<Pipes>()({ token: 'Pipes', primitives: ['pipe', 'duplex-pipe'], label: 'pipes' }),
  /** Named pipes (FIFOs). */
  fifos: row<Fifos>()({ token: 'Fifos', primitives: ['fifo'], label: 'FIFOs' }),
  /** System V message queues. */
  messageQueues: row<MessageQueues>()({ token: 'MessageQueues', primitives: ['message-queue'], label: 'System V message queues' }),
  /** POSIX message queues. */
  posixMessageQueues: row<PosixMessageQueues>()({ token: 'PosixMessageQueues', primitives: ['posix-message-queue'], label: 'POSIX message queues' }),
  /** System V semaphore sets. */
  semaphores: row<Semaphores>()({ token: 'Semaphores', primitives: ['semaphore'], label: 'System V semaphore sets' }),
  /** POSIX semaphores, named and unnamed. */
  posixSemaphores: row<PosixSemaphores>()({ token: 'PosixSemaphores', primitives: ['posix-semaphore'], label: 'POSIX semaphores' }),
  /** System V, POSIX and file-backed shared memory. */
  sharedMemory: row<SharedMemory>()({ token: 'SharedMemory', primitives: ['shared-memory'], label: 'shared memory' }),
  /** Advisory file locks (open file description locks). */
  fileLocks: row<FileLocks>()({ token: 'FileLocks', primitives: ['file-lock'], label: 'file locks' }),
  /** Linux event counters (eventfd). */
  eventfds: row<Eventfds>()({ token: 'Eventfds', primitives: ['eventfd'], label: 'event counters' }),
  /** Unix domain sockets. */
  unixSockets: row<UnixSockets>()({ token: 'UnixSockets', primitives: ['unix-socket'], label: 'Unix sockets' }),
  /** TCP and UDP sockets. */
  networkSockets: row<NetworkSockets>()({ token: 'NetworkSockets', primitives: ['network-socket'], label: 'network sockets' }),
  /** Children that receive ipcx objects (every backend has them: no capability name). */
  processes: row<Processes>()({ token: 'Processes', primitives: [], label: 'processes' }),
} as const;

/** The table's type. */
export type PrimitiveTable = typeof primitiveTable;

/** A factory's member name on {@link IpcBackend}, e.g. `'messageQueues'`. */
export type FactoryName = keyof PrimitiveTable;

/** The interface of the factory `K`, e.g. `MessageQueues` for `'messageQueues'`. */
export type FactoryOf<K extends FactoryName> = NonNullable<PrimitiveTable[K]['interfaceType']>;

/** Every factory of a backend by its member name: the factory part of {@link IpcBackend}. */
export type PrimitiveFactories = { readonly [K in FactoryName]: FactoryOf<K> };

/** Name of a primitive (a capability a backend declares), e.g. `'message-queue'`. */
export type PrimitiveName = PrimitiveTable[FactoryName]['primitives'][number];

/** The factories' member names, in table order. */
export const factoryNames: readonly FactoryName[] = Object.freeze(Object.keys(primitiveTable) as FactoryName[]);

/** Every primitive name, in table order. */
export const primitiveNames: readonly PrimitiveName[] = Object.freeze(factoryNames.flatMap((name): readonly PrimitiveName[] => primitiveTable[name].primitives));

/** The factory that serves `primitive`, e.g. `'pipes'` for `'duplex-pipe'`. */
export function factoryOf(primitive: PrimitiveName): FactoryName {
  const name = factoryNames.find((factory) => (primitiveTable[factory].primitives as readonly string[]).includes(primitive));
  if (name === undefined) throw new TypeError(`unknown primitive '${String(primitive)}'`);
  return name;
}

/**
 * The DI token of the factory `name`: `Symbol.for('ipcx.' + row.token)`, the same symbol in every
 * copy of core. Each interface file exports it under the interface's name.
 */
export function factoryToken(name: FactoryName): symbol {
  return Symbol.for(`ipcx.${primitiveTable[name].token}`);
}
