/**
 * The worker backend's browser host: children are module Web Workers running
 * `child-main-browser.js`. A Web Worker has no exit event and no thread id, so the child posts
 * `{ type: 'online' }` once it has attached to the kernel and `{ type: 'exit', code }` when its main
 * is done, and the parent terminates it then; an uncaught error in the worker counts as exit code 1,
 * as it does for a Node worker thread. A child's pid is its kernel owner id (the page's first
 * thread, owner 1, is pid 1), unique among the live threads of one kernel.
 *
 * A terminated Web Worker may run on for a moment after `terminate()` returns, and the parent must
 * not reap its kernel owner while it can still touch the kernel. So the child holds a Web Lock
 * (`navigator.locks`) of its own for its whole life, taken before it reports `online`; the browser
 * releases it only once the worker's context is gone, and the parent reports the exit when it gets
 * that lock.
 *
 * Shared WebAssembly memory crosses to a worker only on a cross-origin isolated page
 * (`Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp`), so
 * {@link browserHost.checkSupport} refuses anything else with an error that names the headers.
 */
import type { ChildSpec, HostedChild, WorkerHost } from './host.js';

const childMain = new URL('./child-main-browser.js', import.meta.url);
const kernelWasm = new URL('./kernel.wasm', import.meta.url);

let kernel: WebAssembly.Module | undefined;
let kernelLoadError: unknown;
let kernelLoading: Promise<void> | undefined;

/**
 * Fetches and compiles the kernel at `url`: streamed (compiled while it downloads) when the server
 * labels it `application/wasm`, else from its bytes (a plain static server may call it
 * `application/octet-stream`, which `compileStreaming` refuses). Rejects with an Error naming the
 * URL and the HTTP status when the fetch fails.
 */
export async function compileKernelFrom(url: URL): Promise<WebAssembly.Module> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`ipcx worker backend: cannot load the kernel from ${url.href}: HTTP ${response.status} ${response.statusText}`);
  const type = response.headers.get('content-type')?.split(';')[0]!.trim().toLowerCase();
  return type === 'application/wasm' ? WebAssembly.compileStreaming(response) : WebAssembly.compile(await response.arrayBuffer());
}

/**
 * Loads `kernel.wasm` from beside this module (once per context; {@link compileKernelFrom}). Never
 * rejects: a failure is kept and reported by {@link browserHost.kernelModule}, so importing the
 * package still works and the error shows where a backend is created. The browser entries await
 * it at import time, because `createWorkerBackend` is synchronous.
 */
export function loadKernelModule(): Promise<void> {
  kernelLoading ??= (async () => {
    if (kernel !== undefined) return;
    try {
      kernel = await compileKernelFrom(kernelWasm);
    } catch (error) {
      kernelLoadError = error;
    }
  })();
  return kernelLoading;
}

/** Takes the kernel module a child received from its parent, so that this context fetches nothing. */
export function adoptKernelModule(module: WebAssembly.Module): void {
  kernel ??= module;
}

/** A message from a child's bootstrap to its parent. */
export type ChildMessage = { readonly type: 'online' } | { readonly type: 'exit'; readonly code: number };

interface BrowserGlobals {
  crossOriginIsolated?: boolean;
  location?: { href: string };
}

/** The part of `navigator.locks` both sides use. */
export interface LockManagerLike {
  request(name: string, callback: () => Promise<unknown> | unknown): Promise<unknown>;
}

/** `navigator.locks`, which every secure context (a cross-origin isolated page is one) has. */
export function webLocks(): LockManagerLike {
  const locks = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks;
  if (locks === undefined) throw new Error('ipcx worker backend: this context has no Web Locks (navigator.locks), which tell when a child has ended');
  return locks;
}

/**
 * The Web Lock a child holds for its life, named by its kernel (a random id), owner and creation
 * number, so that any thread of the kernel can name it: the parent that reaps a child also waits
 * for each of the child's descendants' locks (`threadGone`), whose own parent is gone with it.
 */
function childLock(kernel: string, owner: number, serial: number): string {
  return `ipcx-child-${kernel}-${owner}-${serial}`;
}

/** Browsers' {@link WorkerHost}. */
export const browserHost: WorkerHost = {
  name: 'browser',
  checkSupport() {
    const g = globalThis as BrowserGlobals;
    if (typeof SharedArrayBuffer !== 'function' || g.crossOriginIsolated === false) {
      throw new Error(
        'ipcx worker backend: this page is not cross-origin isolated, so SharedArrayBuffer and shared WebAssembly memory are unavailable. ' +
          'Serve the page with the headers `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp` ' +
          '(and its scripts from the same origin, or with `Cross-Origin-Resource-Policy`).',
      );
    }
    if (typeof Worker !== 'function') throw new Error('ipcx worker backend: this context has no Web Worker constructor to start children with');
    webLocks();
  },
  kernelModule() {
    if (kernel !== undefined) return kernel;
    throw new Error(
      kernelLoadError === undefined
        ? `ipcx worker backend: the kernel (${kernelWasm.href}) is not loaded yet: import the package's browser entry, which loads it`
        : `ipcx worker backend: cannot load the kernel from ${kernelWasm.href}: ${(kernelLoadError as Error).message ?? String(kernelLoadError)}`,
      { cause: kernelLoadError },
    );
  },
  absoluteEntryUrl(entry) {
    // An absolute URL (http:, https:, blob:, data:) as is; an absolute path against the page's origin.
    try {
      return new URL(entry).href;
    } catch {
      const base = (globalThis as BrowserGlobals).location?.href;
      return entry.startsWith('/') && base !== undefined ? new URL(entry, base).href : undefined;
    }
  },
  childPid: (owner) => owner,
  portToStore: true,
  // Granted once that worker's context is gone (or at once if it never took its lock). A Web
  // Worker's own workers end with its context, but a moment later, as the worker itself does.
  async threadGone(kernel, owner, serial) {
    await webLocks().request(childLock(kernel, owner, serial), () => {});
  },
  // A page cannot look for a module without fetching it; a missing one makes the worker fail.
  checkEntry() {},
  // Web Workers have no Node options and their console is the page's: spawn's execArgv and stderr do not apply.
  start(given: ChildSpec): Promise<HostedChild> {
    const spec: ChildSpec = { ...given, lock: childLock(given.kernel, given.owner, given.serial) };
    const worker = new Worker(childMain, { type: 'module', name: `ipcx-child-${spec.pid}` });
    let settle!: (code: number) => void;
    const ended = new Promise<number>((resolve) => (settle = resolve));
    let done = false;
    const end = (code: number) => {
      if (done) return;
      done = true;
      worker.terminate();
      // Granted once the child's context is gone (or if it never took the lock).
      void webLocks()
        .request(spec.lock!, () => {})
        .then(() => settle(code));
    };
    return new Promise<HostedChild>((resolve, reject) => {
      let online = false;
      worker.addEventListener('message', (event: MessageEvent<ChildMessage>) => {
        const message = event.data;
        if (message?.type === 'online') {
          online = true;
          resolve({ pid: spec.pid, ended, terminate: () => end(1) });
        } else if (message?.type === 'exit') {
          end(message.code);
          if (!online) reject(new Error('ipcx worker child could not attach to the kernel (see the worker\'s console)'));
        }
      });
      worker.addEventListener('error', (event: ErrorEvent) => {
        // Uncaught in the worker: as a Node worker, the thread ends with code 1.
        event.preventDefault();
        if (!online) {
          end(1);
          reject(new Error(`ipcx worker child failed to start: ${event.message || 'the module could not be loaded'}`));
        } else {
          end(1);
        }
      });
      worker.addEventListener('messageerror', () => {
        end(1);
        if (!online) reject(new Error('ipcx worker child: its start message could not be received (is the page cross-origin isolated?)'));
      });
      worker.postMessage(spec, spec.storePort === undefined ? [] : [spec.storePort]);
    });
  },
};
