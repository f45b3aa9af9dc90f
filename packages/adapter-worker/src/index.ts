// The Node entry (the package's `node` and default export condition): children are worker_threads.
import type { IpcBackend } from '@ipcx/core';
import { createWorkerBackendOn, type WorkerBackendOptions } from './backend.js';
import { nodeHost } from './host-node.js';

export * from './exports.js';

/**
 * A new emulated kernel and the backend over it. Each call makes a separate kernel (its own
 * namespace); objects reach workers started by its `processes.spawn` (`worker_threads` Workers).
 * Throws `RangeError` for a `memoryBytes` outside 256 KiB .. 1 GiB.
 */
export function createWorkerBackend(options?: WorkerBackendOptions): IpcBackend {
  return createWorkerBackendOn(nodeHost, options);
}
