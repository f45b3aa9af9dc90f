import { createWorkerBackend } from '@ipcx/adapter-worker';
import { registerConformance } from '@ipcx/testkit';

const backend = createWorkerBackend();
registerConformance({ name: 'worker', create: () => backend, capabilities: backend.capabilities });
