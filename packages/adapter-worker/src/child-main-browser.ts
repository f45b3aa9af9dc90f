/**
 * A Web Worker child's bootstrap: the spec arrives as the first message; the worker answers
 * `online` once attached and `exit` with the code when done (see `host-browser.ts`).
 */
import { attachChild, runChild, stopDescendants } from './child-main.js';
import type { ChildSpec } from './host.js';
import { adoptKernelModule, browserHost, webLocks, type ChildMessage } from './host-browser.js';
import { linkToStore } from './shared-memory.js';

interface WorkerScope {
  addEventListener(type: 'message', listener: (event: MessageEvent<ChildSpec>) => void, options?: { once?: boolean }): void;
  addEventListener(type: 'error', listener: () => void): void;
  postMessage(message: ChildMessage): void;
  close(): void;
}

const scope = globalThis as unknown as WorkerScope;
scope.addEventListener(
  'message',
  (event) => {
    const spec = event.data;
    // Before the child's entry runs: the package's browser entry then has its kernel and fetches nothing.
    adoptKernelModule(spec.module);
    let kernel;
    try {
      kernel = attachChild(spec, spec.pid);
      if (spec.storePort !== undefined) linkToStore(kernel, spec.storePort);
    } catch (error) {
      console.error(error);
      scope.postMessage({ type: 'exit', code: 1 });
      return;
    }
    // An uncaught error: the parent terminates this worker when it hears of it, and the browser
    // the workers this one started; stop them first (see stopDescendants), as before an exit.
    scope.addEventListener('error', () => stopDescendants(kernel));
    // Held for the thread's whole life: its release tells the parent this thread is gone.
    void webLocks().request(spec.lock!, () => {
      scope.postMessage({ type: 'online' });
      void runChild(spec, kernel, browserHost).then((code) => {
        // The parent terminates this worker on `exit`, and the browser its own workers with it.
        stopDescendants(kernel);
        scope.postMessage({ type: 'exit', code });
        scope.close();
      });
      return new Promise(() => {});
    });
  },
  { once: true },
);
