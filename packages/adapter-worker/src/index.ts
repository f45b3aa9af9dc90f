// The Node entry (the package's `node` and default export condition): children are worker_threads.
import type { IpcBackend } from '@ipcx/core';
import type { ContainerModule } from 'inversify';
import { createWorkerBackendOn, type WorkerBackendOptions } from './backend.js';
import { nodeHost } from './host-node.js';
import { workerIpcOn } from './module.js';

export * from './exports.js';

/**
 * A new emulated kernel and the backend over it. Each call makes a separate kernel (its own
 * namespace); objects reach workers started by its `processes.spawn` (`worker_threads` Workers).
 * Throws `RangeError` for a `memoryBytes` outside 256 KiB .. 1 GiB.
 */
export function createWorkerBackend(options?: WorkerBackendOptions): IpcBackend {
  return createWorkerBackendOn(nodeHost, options);
}

/**
 * Binds a new worker backend under core's `IpcBackend` token and each factory under its own token
 * (`Pipes`, `Fifos`, ...): `container.load(workerIpc())`.
 */
export function workerIpc(options?: WorkerBackendOptions): ContainerModule {
  return workerIpcOn(nodeHost, options);
}
