// The testkit's conformance suites against the worker backend in headless Chromium: the page is
// the parent, children are module Web Workers. The same suites as test/conformance.test.ts in Node;
// what the worker backend does not declare (network, host tools, OS processes) is skipped as there.
import { createWorkerBackend } from '@ipcx/adapter-worker';
import { registerConformance } from '@ipcx/testkit';

const backend = createWorkerBackend();
registerConformance({ name: 'worker (chromium)', create: () => backend, capabilities: backend.capabilities });
