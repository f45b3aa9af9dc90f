/** A Node worker child's bootstrap: the spec arrives as `workerData`; see `child-main.ts`. */
import { threadId, workerData } from 'node:worker_threads';
import { attachChild, runChild } from './child-main.js';
import type { ChildSpec } from './host.js';
import { nodeHost } from './host-node.js';

const spec = workerData as ChildSpec;
// A Node child's pid is its thread id, which the parent reports as ChildProcess.pid.
const code = await runChild(spec, attachChild(spec, threadId), nodeHost);
// Let stdout and stderr (forwarded to the parent) drain before the thread ends.
await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
await new Promise<void>((resolve) => process.stderr.write('', () => resolve()));
process.exit(code);
