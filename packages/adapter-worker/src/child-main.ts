/**
 * The program a worker child runs: attaches to the parent's kernel memory as its owner, revives the
 * args, runs the entry module's default export through core, closes what it left open and exits
 * (0, or 1 if it threw). The parent reaps whatever is still open when the thread ends.
 */
import { threadId, workerData } from 'node:worker_threads';
import { runChildMain, unpackTransferables } from '@ipcx/core';
import { backendOver } from './backend.js';
import { Kernel } from './kernel.js';
import type { ChildSpec } from './process.js';

const spec = workerData as ChildSpec;
const kernel = Kernel.attach(spec.module, spec.memory, spec.owner, spec.kernel);
// This worker's emulated pid is its threadId, which the parent reports as ChildProcess.pid; set
// before anything runs here, so every message this thread sends or takes records it.
kernel.calls.owner_set_pid(spec.owner, threadId);

let code = 0;
try {
  const args = unpackTransferables(spec.packed, (index) => kernel.revive(spec.records[index]!)) as unknown[];
  await runChildMain({ backend: backendOver(kernel), args }, spec.entry);
} catch (error) {
  console.error(error);
  code = 1;
}
await kernel.closeAll();
// Let stdout and stderr (forwarded to the parent) drain before the thread ends.
await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
await new Promise<void>((resolve) => process.stderr.write('', () => resolve()));
process.exit(code);
