/** The worker backend: the kernel emulated in shared WebAssembly memory, children as worker threads (Node) or Web Workers (browsers). */
import {
  Feature,
  Primitive,
  capabilities,
  checkOptionalInteger,
  checkOptions,
  type Capabilities,
  type Diagnostics,
  type IpcBackend,
} from '@ipcx/core';
import { WorkerFifos } from './fifo.js';
import { WorkerFileLocks } from './file-lock.js';
import type { WorkerHost } from './host.js';
import { Kernel } from './kernel.js';
import { DEFAULT_MEMORY_BYTES, Layout, MAX_MEMORY_BYTES } from './layout.js';
import { WorkerMessageQueues } from './message-queue.js';
import { WorkerPipes } from './pipe.js';
import { WorkerPosixSemaphores } from './posix-semaphore.js';
import { WorkerPosixMessageQueues } from './posix-message-queue.js';
import { WorkerProcesses } from './process.js';
import { WorkerNetworkSockets, WorkerUnixSockets } from './socket.js';
import { WorkerSharedMemory, segmentObjects } from './shared-memory.js';
import { WorkerSemaphores, semaphoreSetsIn } from './semaphore.js';

/** Options of {@link createWorkerBackend}. */
export interface WorkerBackendOptions {
  /**
   * Size of the kernel's shared memory in bytes, fixed for its lifetime (rounded up to 64 KiB
   * pages; at least 256 KiB; default 64 MiB). Tables (objects, handles) are sized from it, and the
   * rest holds pipe buffers and names: a full kernel answers `ENOMEM`, `ENOSPC` or `ENFILE`.
   */
  readonly memoryBytes?: number;
}

/**
 * What the worker backend implements: every primitive but network sockets: pipes, duplex pipes,
 * FIFOs, Unix sockets (with the abstract namespace), System V and POSIX message queues, shared
 * memory, System V semaphore sets and POSIX semaphores.
 *
 * Missing, and why:
 * - `network-socket` (primitive) and `network` (feature): TCP and UDP exist to reach peers on
 *   other machines, through the host's network stack; an emulated kernel inside one process has
 *   no network and no other machines, so there is nothing to emulate faithfully. Its
 *   `networkSockets` members reject with `ENOSYS`; use the native backend for TCP/UDP.
 * - `host-interop`: its objects live inside one process's memory; shell tools, C and Python
 *   programs cannot see them.
 * - `os-processes`: its children are worker threads, not OS processes; they cannot receive signals.
 *
 * Permissions are emulated for every object, against each thread's emulated identity (`spawn`'s
 * `user`; the thread that made the kernel is root): the ipc_perm rules of System V and POSIX
 * objects, and for FIFOs and socket paths the file's mode and owner (opening a FIFO needs `r` or
 * `w`, connecting or sending a datagram to a socket path needs `w`, `EACCES` otherwise; a bound
 * path gets `options.mode`, default 0o600). Not checked, because the emulated kernel has no
 * folders: the folder permissions that creating, binding and removing a FIFO or socket path need on
 * Linux (there, `ENOENT`/`EACCES` from the folder). No umask is applied to any mode.
 */
export const workerCapabilities: Capabilities = capabilities(
  [
    Primitive.pipe,
    Primitive.duplexPipe,
    Primitive.fifo,
    Primitive.unixSocket,
    Primitive.messageQueue,
    Primitive.posixMessageQueue,
    Primitive.sharedMemory,
    Primitive.semaphore,
    Primitive.posixSemaphore,
    Primitive.fileLock,
  ],
  [Feature.abstractSockets],
);

/** The backend over an existing kernel (a worker child's, or one made by {@link createWorkerBackendOn}), whose children `host` starts. */
export function backendOver(kernel: Kernel, host: WorkerHost): IpcBackend {
  const diagnostics: Diagnostics = {
    openObjects: () => [...kernel.open].map((object) => object.describe()),
    kernelObjects: async () => [...kernel.namedObjects(), ...segmentObjects(kernel), ...semaphoreSetsIn(kernel)],
  };
  return {
    name: 'worker',
    capabilities: workerCapabilities,
    pipes: new WorkerPipes(kernel),
    fifos: new WorkerFifos(kernel),
    messageQueues: new WorkerMessageQueues(kernel),
    posixMessageQueues: new WorkerPosixMessageQueues(kernel),
    semaphores: new WorkerSemaphores(kernel),
    posixSemaphores: new WorkerPosixSemaphores(kernel),
    sharedMemory: new WorkerSharedMemory(kernel),
    fileLocks: new WorkerFileLocks(kernel),
    unixSockets: new WorkerUnixSockets(kernel),
    networkSockets: new WorkerNetworkSockets(),
    processes: new WorkerProcesses(kernel, host),
    diagnostics,
  };
}

/**
 * A new emulated kernel and the backend over it, children started by `host` (each package entry
 * passes its own: see `index.ts` and `browser.ts`). Throws `RangeError` for a `memoryBytes` outside
 * 256 KiB .. 1 GiB, and an Error naming what is missing when the host cannot run the backend.
 */
export function createWorkerBackendOn(host: WorkerHost, options?: WorkerBackendOptions): IpcBackend {
  const { memoryBytes } = checkOptions<WorkerBackendOptions>('options', options);
  const bytes = checkOptionalInteger('options.memoryBytes', memoryBytes, Layout.MIN_MEMORY_BYTES, MAX_MEMORY_BYTES, DEFAULT_MEMORY_BYTES);
  host.checkSupport();
  return backendOver(Kernel.create(host.kernelModule(), bytes), host);
}
