/** The worker backend's Node host: children are `worker_threads` Workers running `child-main-node.js`. */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ChildSpec, HostedChild, WorkerHost } from './host.js';

const childMain = new URL('./child-main-node.js', import.meta.url);

/** Node's {@link WorkerHost}. */
export const nodeHost: WorkerHost = {
  name: 'node',
  checkSupport() {},
  portToStore: false,
  absoluteEntryUrl: (entry) => (path.isAbsolute(entry) ? pathToFileURL(entry).href : undefined),
  // Thread ids are process-wide unique; the worker's own id is only known once it exists, so the
  // spec carries 0 and the child reads its `threadId` (start() reports the same number).
  childPid: () => 0,
  async start(spec: ChildSpec): Promise<HostedChild> {
    const worker = new Worker(childMain, { workerData: spec });
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
