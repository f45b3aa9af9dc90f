/**
 * `@ipcx/adapter-worker/inversify` in a browser (its `browser` condition): the same `workerIpc` as
 * `module.ts`, with children as module Web Workers.
 */
import type { ContainerModule } from 'inversify';
import type { WorkerBackendOptions } from './backend.js';
import { workerIpcOn } from './container-module.js';
import { browserHost, loadKernelModule } from './host-browser.js';

await loadKernelModule();

/**
 * Binds a new worker backend under core's `IpcBackend` token and each factory under its own token
 * (`Pipes`, `Fifos`, ...): `container.load(workerIpc())`.
 */
export function workerIpc(options?: WorkerBackendOptions): ContainerModule {
  return workerIpcOn(browserHost, options);
}
