/**
 * What the worker backend needs from its host (Node or a browser) and nothing else: how to start a
 * child thread over the kernel's memory, and how to turn a spawn entry into a URL. The kernel, the
 * primitives and the process bookkeeping (`process.ts`) are host-neutral; `host-node.ts`
 * (`worker_threads`) and `host-browser.ts` (module Web Workers) are the only two files that touch
 * a host API, and each package entry (`index.ts` for Node, `browser.ts` for browsers) passes its
 * own, so a browser build never reaches a `node:` import.
 */
import type { TransferRecord } from '@ipcx/core';

/** What a child thread receives: the kernel to attach to, as which owner, and what to run. */
export interface ChildSpec {
  readonly module: WebAssembly.Module;
  readonly memory: WebAssembly.Memory;
  readonly kernel: string;
  readonly owner: number;
  /** The owner's creation number in the kernel (`owner_serial`): with `owner`, tells this thread apart from any other that acts or acted as that owner. */
  readonly serial: number;
  /** The child's emulated pid, chosen by the parent's host (a thread id, or a per-page counter). */
  readonly pid: number;
  readonly entry: string;
  readonly packed: unknown;
  readonly records: TransferRecord[];
  /** Browser host: the Web Lock the child holds while it lives (its release tells the parent the thread is gone). */
  readonly lock?: string;
  /** Browser host: the child's MessagePort to the kernel's shared-memory store (see `shared-memory.ts`). */
  readonly storePort?: MessagePort;
}

/** How spawn asked for a child to be started, beyond its spec. */
export interface ChildStartOptions {
  readonly execArgv: readonly string[];
  readonly stderr: 'inherit' | 'ignore';
}

/** A started child thread, as its host reports it. */
export interface HostedChild {
  /** The child's emulated pid (the same number its {@link ChildSpec.pid} carried). */
  readonly pid: number;
  /** Settles with the exit code once the thread has ended, however it ended. */
  readonly ended: Promise<number>;
  /** Ends the thread now (its `ended` then settles with code 1). */
  terminate(): void;
}

/** A host's way of running children; see the file comment. */
export interface WorkerHost {
  /** `'node'` or `'browser'`. */
  readonly name: string;
  /** Throws an Error saying what is missing when this host cannot run the backend (a browser page that is not cross-origin isolated). */
  checkSupport(): void;
  /**
   * The compiled kernel (`kernel.wasm`, shipped next to this package's modules), loaded the host's
   * way: Node reads the file, a browser fetches it (the browser entry waits for it at import).
   * Throws an Error naming the file when it could not be loaded.
   */
  kernelModule(): WebAssembly.Module;
  /** The URL of an entry given as a string that is not a `file:` URL; `undefined` if it is not absolute. */
  absoluteEntryUrl(entry: string): string | undefined;
  /** The pid for a new child acting as kernel owner `owner` (0 when the host learns it only once the thread exists). */
  childPid(owner: number): number;
  /** True if children need their own MessagePort to the shared-memory store (browsers). */
  readonly portToStore: boolean;
  /**
   * Throws before anything starts when the entry cannot be loaded and the host can tell: in Node,
   * an `IpcError` with access(2)'s code (`ENOENT`, `EACCES`) for a missing or unreadable file, a
   * TypeError for a URL Node cannot turn into a path. A browser cannot check and does nothing.
   */
  checkEntry(url: string): void;
  /**
   * Starts a thread running the host's child main with `spec`; resolves once it runs (rejects if it
   * cannot start). `options` are spawn's: Node options for the thread and what to do with its
   * stderr (a browser host has neither and ignores them).
   */
  start(spec: ChildSpec, options: ChildStartOptions): Promise<HostedChild>;
  /**
   * For a host whose threads may outlive the thread that started them for a moment (a browser
   * ends a Web Worker's own workers with it, but not at once): settles once the thread that ran
   * as kernel `owner` (of creation number `serial`, in kernel `kernel`) is gone, or never ran.
   * The parent of an ended child awaits it for each of the child's descendants before reaping
   * them. Node has none: it ends and joins a worker's workers before the worker's thread ends.
   */
  threadGone?(kernel: string, owner: number, serial: number): Promise<void>;
}
