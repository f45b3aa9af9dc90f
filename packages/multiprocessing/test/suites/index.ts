/** Every suite of this package against one backend; test names carry "multiprocessing" and the backend's name. */
import type { IpcBackend } from '@ipcx/core';
import { mpContext } from '../context.js';
import { Pipe } from '@ipcx/multiprocessing';
import { connectionSuite } from './connection.js';
import { queueSuite } from './queue.js';
import { synchronizeSuite } from './synchronize.js';
import { sharedValuesSuite } from './shared-values.js';
import { poolSuite } from './pool.js';

export function registerMultiprocessingSuites(backend: IpcBackend): void {
  const context = mpContext(backend);
  connectionSuite(context);
  connectionSuite(context, { label: 'kernel connection', make: (backend) => Pipe(backend, { transport: 'kernel' }) });
  queueSuite(context);
  synchronizeSuite(context);
  sharedValuesSuite(context);
  poolSuite(context);
}
