/**
 * `@ipcx/adapter-worker/inversify`: the inversify 8 `ContainerModule` of the worker backend. A subpath of its own, so that
 * inversify is an optional peer dependency: apps that do not use dependency injection never load it.
 */
import { ContainerModule } from 'inversify';
import { backendBindings } from '@ipcx/core';
import { createWorkerBackend, type WorkerBackendOptions } from './backend.js';

/**
 * Binds a new worker backend under core's `IpcBackend` token and each factory under its own token
 * (`Pipes`, `Fifos`, ...): `container.load(workerIpc())`.
 */
export function workerIpc(options?: WorkerBackendOptions): ContainerModule {
  const backend = createWorkerBackend(options);
  return new ContainerModule(({ bind }) => {
    for (const [token, value] of backendBindings(backend)) bind(token).toConstantValue(value);
  });
}
