/** The worker backend's Node host: children are `worker_threads` Workers running `child-main-node.js`. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { checkProcessEntryFile } from '@ipcx/core/backend';
import type { ChildSpec, ChildStartOptions, HostedChild, WorkerHost } from './host.js';

const childMain = new URL('./child-main-node.js', import.meta.url);
const kernelWasm = new URL('./kernel.wasm', import.meta.url);
let compiled: WebAssembly.Module | undefined;

/** Node's {@link WorkerHost}. */
export const nodeHost: WorkerHost = {
  name: 'node',
  checkSupport() {},
  // Read and compiled once per thread, on first use (a worker child gets its parent's module in
  // its spec instead). Synchronous: a few milliseconds, once.
  kernelModule() {
    compiled ??= new WebAssembly.Module(readFileSync(kernelWasm));
    return compiled;
  },
  portToStore: false,
  absoluteEntryUrl: (entry) => (path.isAbsolute(entry) ? pathToFileURL(entry).href : undefined),
  // Thread ids are process-wide unique; the worker's own id is only known once it exists, so the
  // spec carries 0 and the child reads its `threadId` (start() reports the same number).
  childPid: () => 0,
  checkEntry: checkProcessEntryFile,
  async start(spec: ChildSpec, { execArgv, stderr }: ChildStartOptions): Promise<HostedChild> {
    let worker: Worker;
    try {
      worker = new Worker(childMain, { workerData: spec, stderr: stderr === 'ignore', ...(execArgv.length > 0 ? { execArgv: [...execArgv] } : {}) });
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw error;
      throw new TypeError(`options.execArgv: ${(error as Error).message} (a worker takes only per-thread Node options)`, { cause: error });
    }
    if (stderr === 'ignore') worker.stderr.resume();
    // Kept: `Worker.threadId` turns -1 once the worker has exited.
    const pid = worker.threadId;
    // An uncaught error ends the worker with code 1; the 'exit' event reports it.
    const ended = new Promise<number>((resolve) => worker.once('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      worker.once('online', resolve);
      worker.once('error', reject);
    });
    worker.on('error', () => {});
    return { pid, ended, terminate: () => void worker.terminate() };
  },
};
