import { type Capabilities, capabilities } from './capabilities.js';
import { Fifos } from './fifo.js';
import { FileLocks } from './file-lock.js';
import { MessageQueues } from './message-queue.js';
import { Pipes } from './pipe.js';
import { PosixMessageQueues } from './posix-message-queue.js';
import { PosixSemaphores } from './posix-semaphore.js';
import { Processes } from './process.js';
import { Semaphores } from './semaphore.js';
import { SharedMemory } from './shared-memory.js';
import { NetworkSockets, UnixSockets } from './socket.js';

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
 * A backend: one factory per primitive, `processes`, and what it can do. Apps depend on this
 * interface (or on single factories through their DI tokens), never on an adapter.
 */
export interface IpcBackend {
  /** The backend's name, e.g. `'native'` or `'worker'`. */
  readonly name: string;
  /** What this backend implements. */
  readonly capabilities: Capabilities;
  /** Anonymous pipes and duplex pipes. */
  readonly pipes: Pipes;
  /** Named pipes (FIFOs). */
  readonly fifos: Fifos;
  /** System V message queues. */
  readonly messageQueues: MessageQueues;
  /** POSIX message queues. */
  readonly posixMessageQueues: PosixMessageQueues;
  /** System V semaphore sets. */
  readonly semaphores: Semaphores;
  /** POSIX semaphores, named and unnamed. */
  readonly posixSemaphores: PosixSemaphores;
  /** System V, POSIX and file-backed shared memory. */
  readonly sharedMemory: SharedMemory;
  /** Advisory file locks (open file description locks). */
  readonly fileLocks: FileLocks;
  /** Unix domain sockets. */
  readonly unixSockets: UnixSockets;
  /** TCP and UDP sockets. */
  readonly networkSockets: NetworkSockets;
  /** Children that receive ipcx objects. */
  readonly processes: Processes;
  /** For leak checks. */
  readonly diagnostics: Diagnostics;
}

/** DI token for {@link IpcBackend}. */
export const IpcBackend: unique symbol = Symbol.for('ipcx.IpcBackend');

/**
 * Each DI token with the backend's value for it: the backend itself under {@link IpcBackend} and
 * every factory under its own token. Adapters build their inversify `ContainerModule` from this:
 * `for (const [token, value] of backendBindings(backend)) bind(token).toConstantValue(value)`.
 */
export function backendBindings(backend: IpcBackend): Array<[symbol, unknown]> {
  return [
    [IpcBackend, backend],
    [Pipes, backend.pipes],
    [Fifos, backend.fifos],
    [MessageQueues, backend.messageQueues],
    [PosixMessageQueues, backend.posixMessageQueues],
    [Semaphores, backend.semaphores],
    [PosixSemaphores, backend.posixSemaphores],
    [SharedMemory, backend.sharedMemory],
    [FileLocks, backend.fileLocks],
    [UnixSockets, backend.unixSockets],
    [NetworkSockets, backend.networkSockets],
    [Processes, backend.processes],
  ];
}
