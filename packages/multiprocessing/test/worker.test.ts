import { createWorkerBackend } from '@ipcx/adapter-worker';
import { registerMultiprocessingSuites } from './suites/index.js';

registerMultiprocessingSuites(createWorkerBackend());
