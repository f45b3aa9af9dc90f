/** The worker backend: the kernel emulated in shared WebAssembly memory, children as worker threads (Node) or Web Workers (browsers). */
import { Feature, capabilities, type Capabilities, type Diagnostics, type IpcBackend } from '@ipcx/core';
import { checkOptionalInteger, checkOptions, defineBackend, fromSlices, slicePrimitives } from '@ipcx/core/backend';
import { eventfdSlice } from './eventfd.js';
import { fifoSlice } from './fifo.js';
import { fileLockSlice } from './file-lock.js';
import type { WorkerHost } from './host.js';
import { Kernel } from './kernel.js';
import { DEFAULT_MEMORY_BYTES, Layout, MAX_MEMORY_BYTES } from './layout.js';
import { messageQueueSlice } from './message-queue.js';
import { pipeSlice } from './pipe.js';
import { posixSemaphoreSlice } from './posix-semaphore.js';
import { posixMessageQueueSlice } from './posix-message-queue.js';
import { WorkerProcesses } from './process.js';
import { networkSocketSlice, unixSocketSlice } from './socket.js';
import { segmentObjects, sharedMemorySlice } from './shared-memory.js';
import { semaphoreSetsIn, semaphoreSlice } from './semaphore.js';

/**
 * What the worker backend implements: one slice per primitive file, each naming its factory and its
 * primitives, made over the backend's kernel. The capabilities are derived from this list; a new
 * primitive adds its slice here.
 */
export const workerSlices = [
  pipeSlice,
  fifoSlice,
  messageQueueSlice,
  posixMessageQueueSlice,
  semaphoreSlice,
  posixSemaphoreSlice,
  sharedMemorySlice,
  fileLockSlice,
  eventfdSlice,
  unixSocketSlice,
  networkSocketSlice,
];

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
export const workerCapabilities: Capabilities = capabilities(slicePrimitives(workerSlices), [Feature.abstractSockets]);

/** The backend over an existing kernel (a worker child's, or one made by {@link createWorkerBackendOn}), whose children `host` starts. */
export function backendOver(kernel: Kernel, host: WorkerHost): IpcBackend {
  const diagnostics: Diagnostics = {
    openObjects: () => [...kernel.open].map((object) => object.describe()),
    kernelObjects: async () => [...kernel.namedObjects(), ...segmentObjects(kernel), ...semaphoreSetsIn(kernel)],
  };
  return defineBackend({
    name: 'worker',
    ...fromSlices(workerSlices, kernel, workerCapabilities.features),
    capabilities: workerCapabilities,
    processes: new WorkerProcesses(kernel, host),
    diagnostics,
  });
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
