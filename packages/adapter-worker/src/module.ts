/** The inversify 8 `ContainerModule` of the worker backend. */
import { ContainerModule } from 'inversify';
import { backendBindings } from '@ipcx/core';
import { createWorkerBackendOn, type WorkerBackendOptions } from './backend.js';
import type { WorkerHost } from './host.js';

/** The container module of a new worker backend on `host`; the entries export it as `workerIpc`. */
export function workerIpcOn(host: WorkerHost, options?: WorkerBackendOptions): ContainerModule {
  const backend = createWorkerBackendOn(host, options);
  return new ContainerModule(({ bind }) => {
    for (const [token, value] of backendBindings(backend)) bind(token).toConstantValue(value);
  });
}
