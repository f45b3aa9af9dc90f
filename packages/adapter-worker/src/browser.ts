// The browser entry (the package's `browser` export condition): children are module Web Workers.
// Nothing reachable from here imports a `node:` module or inversify (a page needs only an import map
// for `@ipcx/core` and this package); `@ipcx/adapter-worker/inversify` has a browser module of its own.
import type { IpcBackend } from '@ipcx/core';
import { createWorkerBackendOn, type WorkerBackendOptions } from './backend.js';
import { browserHost, loadKernelModule } from './host-browser.js';

export * from './exports.js';

// `kernel.wasm` beside this module, fetched once per page or worker before anything can create a
// backend (a child adopts its parent's module first and fetches nothing).
await loadKernelModule();

/**
 * A new emulated kernel and the backend over it. Each call makes a separate kernel (its own
 * namespace); objects reach workers started by its `processes.spawn` (module Web Workers).
 * Throws an Error naming the missing headers on a page that is not cross-origin isolated
 * (`Cross-Origin-Opener-Policy: same-origin`, `Cross-Origin-Embedder-Policy: require-corp`), and
 * `RangeError` for a `memoryBytes` outside 256 KiB .. 1 GiB.
 */
export function createWorkerBackend(options?: WorkerBackendOptions): IpcBackend {
  return createWorkerBackendOn(browserHost, options);
}
