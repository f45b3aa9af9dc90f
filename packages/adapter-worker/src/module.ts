/**
 * `@ipcx/adapter-worker/inversify`: the inversify 8 `ContainerModule` of the worker backend. A subpath of its own, so that
 * inversify is an optional peer dependency: apps that do not use dependency injection never load it.
 * This is its Node module (children are worker_threads); browsers get `module-browser.ts`.
 */
import type { ContainerModule } from 'inversify';
import type { WorkerBackendOptions } from './backend.js';
import { workerIpcOn } from './container-module.js';
import { nodeHost } from './host-node.js';

/**
 * Binds a new worker backend under core's `IpcBackend` token and each factory under its own token
 * (`Pipes`, `Fifos`, ...): `container.load(workerIpc())`.
 */
export function workerIpc(options?: WorkerBackendOptions): ContainerModule {
  return workerIpcOn(nodeHost, options);
}
