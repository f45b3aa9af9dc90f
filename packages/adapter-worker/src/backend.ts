/** The worker backend: the kernel emulated in shared WebAssembly memory, children as worker threads. */
import {
  Primitive,
  capabilities,
  checkOptionalInteger,
  checkOptions,
  type Capabilities,
  type Diagnostics,
  type IpcBackend,
  type NetworkSockets,
  type PosixSemaphores,
  type Semaphores,
  type SharedMemory,
  type UnixSockets,
} from '@ipcx/core';
import { WorkerFifos } from './fifo.js';
import { Kernel } from './kernel.js';
import { DEFAULT_MEMORY_BYTES, Layout, MAX_MEMORY_BYTES } from './layout.js';
import { WorkerMessageQueues } from './message-queue.js';
import { WorkerPipes } from './pipe.js';
import { WorkerPosixMessageQueues } from './posix-message-queue.js';
import { WorkerProcesses } from './process.js';

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
 * What the worker backend implements: pipes, duplex pipes, FIFOs, System V and POSIX message queues so far.
 *
 * Features it lacks, and why:
 * - `host-interop`: its objects live inside one process's memory; shell tools, C and Python
 *   programs cannot see them.
 * - `os-processes`: its children are worker threads, not OS processes; they cannot receive signals.
 * - `abstract-sockets`, `network`: no sockets yet (and network sockets would be the host's own).
 */
export const workerCapabilities: Capabilities = capabilities(
  [Primitive.pipe, Primitive.duplexPipe, Primitive.fifo, Primitive.messageQueue, Primitive.posixMessageQueue],
  [],
);

// Primitives not emulated yet: their suites are skipped by capabilities, and nothing calls these.
const notYet = {} as Semaphores & PosixSemaphores & SharedMemory & UnixSockets & NetworkSockets;

/** The backend over an existing kernel (a worker child's, or one made by {@link createWorkerBackend}). */
export function backendOver(kernel: Kernel): IpcBackend {
  const diagnostics: Diagnostics = {
    openObjects: () => [...kernel.open].map((object) => object.describe()),
    kernelObjects: async () => kernel.namedObjects(),
  };
  return {
    name: 'worker',
    capabilities: workerCapabilities,
    pipes: new WorkerPipes(kernel),
    fifos: new WorkerFifos(kernel),
    messageQueues: new WorkerMessageQueues(kernel),
    posixMessageQueues: new WorkerPosixMessageQueues(kernel),
    semaphores: notYet,
    posixSemaphores: notYet,
    sharedMemory: notYet,
    unixSockets: notYet,
    networkSockets: notYet,
    processes: new WorkerProcesses(kernel),
    diagnostics,
  };
}

/**
 * A new emulated kernel and the backend over it. Each call makes a separate kernel (its own
 * namespace); objects reach workers started by its `processes.spawn`. Throws `RangeError` for a
 * `memoryBytes` outside 256 KiB .. 1 GiB.
 */
export function createWorkerBackend(options?: WorkerBackendOptions): IpcBackend {
  const { memoryBytes } = checkOptions<WorkerBackendOptions>('options', options);
  const bytes = checkOptionalInteger('options.memoryBytes', memoryBytes, Layout.MIN_MEMORY_BYTES, MAX_MEMORY_BYTES, DEFAULT_MEMORY_BYTES);
  return backendOver(Kernel.create(bytes));
}
