// The conformance suites of @ipcx/testkit for this package, on the worker backend (worker threads).
import { createWorkerBackend } from '@ipcx/adapter-worker';
import { registerMultiprocessingSuites } from '@ipcx/testkit/multiprocessing';

registerMultiprocessingSuites(createWorkerBackend());
