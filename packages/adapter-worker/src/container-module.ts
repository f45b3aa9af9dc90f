/** The inversify 8 `ContainerModule` of a worker backend on a given host (see `module.ts`, `module-browser.ts`). */
import { ContainerModule } from 'inversify';
import { backendBindings } from '@ipcx/core';
import { createWorkerBackendOn, type WorkerBackendOptions } from './backend.js';
import type { WorkerHost } from './host.js';

/** Binds a new worker backend on `host` under core's `IpcBackend` token and each factory under its own token. */
export function workerIpcOn(host: WorkerHost, options?: WorkerBackendOptions): ContainerModule {
  const backend = createWorkerBackendOn(host, options);
  return new ContainerModule(({ bind }) => {
    for (const [token, value] of backendBindings(backend)) bind(token).toConstantValue(value);
  });
}
