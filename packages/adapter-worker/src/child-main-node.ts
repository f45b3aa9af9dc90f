/**
 * A Node worker child's bootstrap: the spec arrives as `workerData`; see `child-main.ts`.
 *
 * Why no top-level await here: the child's whole life would then be the asynchronous evaluation of
 * this module, and a `kill()` terminates the thread while it is pending. V8 has a bug there:
 * terminating an isolate while a module with top-level await is being evaluated can abort the
 * whole process with `Check failed: (location_) != nullptr` (Deno worked around it in
 * denoland/deno#12930; Node's report is nodejs/node#53238). Most likely that is what took a vitest
 * fork down once here (in `SourceTextModule::ExecuteAsyncModule`, during the worker termination
 * stress test; not reproduced on demand). So this module evaluates synchronously and the child
 * runs in a promise of its own.
 *
 * A child's entry module that uses top-level await itself (imported by `runChildMain`) is outside
 * our hands; the package README says so.
 */
import { threadId, workerData } from 'node:worker_threads';
import { attachChild, runChild, stopDescendants } from './child-main.js';
import type { ChildSpec } from './host.js';
import { nodeHost } from './host-node.js';

/**
 * Node's code for a thread whose event loop emptied while its top-level await was unsettled: kept
 * for a child whose main is still pending when nothing keeps the thread alive, as before.
 */
const UNSETTLED_EXIT_CODE = 13;

let finished = false;
// 'beforeExit' comes only when the event loop has emptied, not on `process.exit()` (a main that
// calls `process.exit(3)` ends with 3, as before).
process.once('beforeExit', () => {
  if (!finished) process.exit(UNSETTLED_EXIT_CODE);
});

async function main(spec: ChildSpec): Promise<void> {
  // A Node child's pid is its thread id, which the parent reports as ChildProcess.pid.
  const kernel = attachChild(spec, threadId);
  // However this thread ends by itself (below, `process.exit` in the child's code, an uncaught
  // error: Node emits 'exit' for each), Node then terminates the workers it started, with no regard
  // for the kernel: stop them first. Not emitted when the parent terminates this thread; the
  // parent's kill() stops them itself.
  process.once('exit', () => stopDescendants(kernel));
  const code = await runChild(spec, kernel, nodeHost);
  // Let stdout and stderr (forwarded to the parent) drain before the thread ends.
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  await new Promise<void>((resolve) => process.stderr.write('', () => resolve()));
  finished = true;
  process.exit(code);
}

main(workerData as ChildSpec).catch((error: unknown) => {
  // runChild reports the main's own errors; this is attaching to the kernel failing.
  console.error(error);
  finished = true;
  process.exit(1);
});
