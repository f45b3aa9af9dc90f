/** Every suite of this package against one backend; test names carry "multiprocessing" and the backend's name. */
import { Primitive, type IpcBackend } from '@ipcx/core';
import { mpContext } from '../context.js';
import { RingPipe } from '@ipcx/multiprocessing';
import { connectionSuite } from './connection.js';
import { queueSuite } from './queue.js';
import { synchronizeSuite } from './synchronize.js';
import { sharedValuesSuite } from './shared-values.js';
import { poolSuite } from './pool.js';

export function registerMultiprocessingSuites(backend: IpcBackend): void {
  const context = mpContext(backend);
  connectionSuite(context);
  connectionSuite(context, { label: 'ring connection', make: (backend) => RingPipe(backend), needs: [Primitive.sharedMemory] });
  queueSuite(context);
  synchronizeSuite(context);
  sharedValuesSuite(context);
  poolSuite(context);
}
