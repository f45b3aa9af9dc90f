/**
 * Conformance suites of `@ipcx/multiprocessing`, one per object, for any backend: each test's name
 * carries "multiprocessing" and the backend's name, and the other side of every cross-process
 * test is a child started with the package's `spawn` (an OS process on the native backend, a
 * worker thread on the worker backend).
 */
import type { IpcBackend } from '@ipcx/core';
import { Pipe } from '@ipcx/multiprocessing';
import { createSuiteContext } from '../context.js';
import { leakCheck } from '../leaks.js';
import { mpContext, type MpContext } from './context.js';
import { connectionSuite, type PipeMaker } from './connection.js';
import { queueSuite } from './queue.js';
import { synchronizeSuite } from './synchronize.js';
import { sharedValuesSuite } from './shared-values.js';
import { poolSuite } from './pool.js';
import { coreSpawnSuite } from './core-spawn.js';

export { mpContext, type MpContext } from './context.js';
export type { PipeMaker } from './connection.js';

/**
 * The suites keyed by the objects they cover. `connection` runs once over the transport `Pipe()`
 * picks for the backend and once over kernel pipes (`transport: 'kernel'`).
 */
export const multiprocessingSuites = {
  connection: (context: MpContext): void => {
    connectionSuite(context);
    connectionSuite(context, { label: 'kernel connection', make: (backend) => Pipe(backend, { transport: 'kernel' }) } satisfies PipeMaker);
  },
  queue: queueSuite,
  synchronization: synchronizeSuite,
  sharedValues: sharedValuesSuite,
  pool: poolSuite,
  coreSpawn: coreSpawnSuite,
} as const;

/**
 * Registers every suite of {@link multiprocessingSuites} against `backend`, then the leak check
 * (`multiprocessing <backend> leak check`): after the suites, no object of the backend is left open
 * in this process, no kernel object they made is left in the (real or emulated) kernel, and
 * nothing is left in the run's temporary folder.
 */
export function registerMultiprocessingSuites(backend: IpcBackend): void {
  const context = mpContext(backend);
  for (const suite of Object.values(multiprocessingSuites)) suite(context);
  const leaks = createSuiteContext({ name: `mp-${backend.name}`, create: () => backend, capabilities: backend.capabilities }, () => backend);
  leakCheck(leaks, `multiprocessing ${backend.name} leak check`);
}
