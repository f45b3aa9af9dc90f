/**
 * The demo runner: the one place that names both adapters and runs the example modules of
 * `@ipcx/examples` (which import `@ipcx/core` only) on each of them.
 *
 * `npm run demo -- --browser [--port N]`: serves the example page (examples/browser/, the examples
 * in Web Workers) with the headers that make it cross-origin isolated and prints its URL.
 *
 * `npm run demo [-- <example>...] [--backend native|worker]... [--help]`: runs the examples on the
 * native backend, then on the worker backend, each with its other side in a child (an OS process,
 * or a worker thread), prints what crossed from which process to which, checks that both backends
 * got the same outcome and that nothing was left in the kernel. Exits non-zero on any failure.
 * `--help` lists the examples by name.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createNativeBackend } from '@ipcx/adapter-native';
import { createWorkerBackend } from '@ipcx/adapter-worker';
import type { FeatureName, IpcBackend, PrimitiveName } from '@ipcx/core';
import type { ExampleMain } from '@ipcx/examples/example.js';

/** Every example: what it shows, the primitives it needs, and its module. */
const examples: Record<string, { title: string; needs: PrimitiveName[]; features?: FeatureName[]; load: () => Promise<{ main: ExampleMain }> }> = {
  pipe: { title: 'pipe: parent -> child, EOF when the writer closes', needs: ['pipe'], load: () => import('@ipcx/examples/pipe.js') },
  fifo: { title: 'FIFO: unrelated writers by path, the reader sees "writer close"', needs: ['fifo'], load: () => import('@ipcx/examples/fifo.js') },
  'message-queue': { title: 'System V message queue: a writer and a reader process, typed messages', needs: ['message-queue'], load: () => import('@ipcx/examples/message-queue.js') },
  semaphore: { title: 'System V semaphore: Semaphore(3) shared by five children', needs: ['semaphore', 'pipe'], load: () => import('@ipcx/examples/semaphore.js') },
  'shared-memory': { title: 'shared memory: writer and reader ordered by semaphores, not sleep', needs: ['shared-memory', 'semaphore', 'pipe'], load: () => import('@ipcx/examples/shared-memory.js') },
  socketpair: { title: 'socketpair: full duplex between parent and child', needs: ['unix-socket'], load: () => import('@ipcx/examples/socketpair.js') },
  'posix-queue': { title: 'POSIX message queue: highest priority first, FIFO within one', needs: ['posix-message-queue'], load: () => import('@ipcx/examples/posix-queue.js') },
  'posix-semaphore': { title: 'POSIX named semaphore: a lock that makes 3 x 2000 increments exact', needs: ['posix-semaphore', 'shared-memory'], load: () => import('@ipcx/examples/posix-semaphore.js') },
  'unix-datagram': { title: 'Unix datagram socket: boundaries kept, replies to the sender', needs: ['unix-socket'], load: () => import('@ipcx/examples/unix-datagram.js') },
  subprocess: { title: "`sort` with ipcx pipes as its stdin and stdout, as Python's subprocess does (native only)", needs: ['pipe'], features: ['executables'], load: () => import('@ipcx/examples/subprocess.js') },
  // The same seed examples with @ipcx/multiprocessing: values instead of bytes, as Python writes them.
  'mp-pipe': { title: 'multiprocessing Pipe: send()/recv() of numbers to a child and back', needs: ['duplex-pipe'], load: () => import('@ipcx/examples/mp-pipe.js') },
  'mp-queue': { title: 'multiprocessing Queue: a child put()s objects, the parent get()s them', needs: ['shared-memory', 'semaphore'], load: () => import('@ipcx/examples/mp-queue.js') },
  'mp-semaphore': { title: 'multiprocessing Semaphore(3) guarding five children', needs: ['shared-memory', 'semaphore'], load: () => import('@ipcx/examples/mp-semaphore.js') },
  'mp-shared-memory': { title: "multiprocessing Value('d') and Array('i') changed by a child", needs: ['shared-memory', 'semaphore'], load: () => import('@ipcx/examples/mp-shared-memory.js') },
};

const backends: Record<string, () => IpcBackend> = {
  native: createNativeBackend,
  worker: () => createWorkerBackend(),
};

/** The di-app's production entry point: not an example of one primitive, run on the native backend only. */
const DI_APP = 'di-app';
const DI_APP_TITLE = 'the dependency-injected app (inversify) as it runs in production: a pool of 3 children counting primes (native only)';

interface DemoArguments {
  /** The examples to run (not the di-app). */
  readonly names: string[];
  /** Whether to run the di-app. */
  readonly diApp: boolean;
  /** Whether the di-app was asked for by name (then a backend that cannot run it says so). */
  readonly diAppNamed: boolean;
  readonly backendNames: string[];
  readonly help: boolean;
}

function parseArguments(argv: string[]): DemoArguments {
  // Unknown options throw a TypeError (ERR_PARSE_ARGS_UNKNOWN_OPTION), reported by main's catch.
  const { values, positionals } = parseArgs({
    args: argv,
    options: { backend: { type: 'string', multiple: true, short: 'b' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
  });
  const known = [...Object.keys(examples), DI_APP];
  for (const name of positionals) if (!known.includes(name)) throw new Error(`unknown example '${name}' (known: ${known.join(', ')}; see --help)`);
  const backendNames = values.backend ?? [];
  for (const name of backendNames) if (!(name in backends)) throw new Error(`unknown backend '${name}' (known: ${Object.keys(backends).join(', ')})`);
  const all = positionals.length === 0;
  return {
    names: all ? Object.keys(examples) : positionals.filter((name) => name !== DI_APP),
    diApp: all || positionals.includes(DI_APP),
    diAppNamed: positionals.includes(DI_APP),
    backendNames: backendNames.length > 0 ? backendNames : Object.keys(backends),
    help: values.help === true,
  };
}

function printHelp(): void {
  const width = Math.max(...[...Object.keys(examples), DI_APP].map((name) => name.length)) + 2;
  console.log(`usage: npm run demo -- [<example>...] [--backend native|worker]... [--help]

Runs the examples (default: all of them, the di-app included) on each backend (default: native,
then worker), prints what crossed between processes, compares the backends' outcomes and checks
that nothing was left open or in the kernel.

examples:`);
  for (const [name, { title }] of Object.entries(examples)) console.log(`  ${name.padEnd(width)}${title}`);
  console.log(`  ${DI_APP.padEnd(width)}${DI_APP_TITLE}`);
  console.log(`
options:
  -b, --backend <name>  run on this backend (${Object.keys(backends).join(', ')}); repeat for several
  -h, --help            print this list
  --browser [--port N]  serve the example page (the examples in Web Workers) and print its URL`);
}

interface Run {
  readonly status: 'pass' | 'fail' | 'skip';
  readonly outcome?: unknown;
  readonly note?: string;
}

/** Runs one example on one backend, printing what crossed. */
async function runExample(backend: IpcBackend, name: string): Promise<Run> {
  const example = examples[name]!;
  const missing = example.needs.filter((primitive) => !backend.capabilities.primitives.has(primitive));
  if (missing.length > 0) {
    console.log(`  SKIP ${name}: the ${backend.name} backend does not implement ${missing.join(', ')}`);
    return { status: 'skip', note: `no ${missing.join(', ')}` };
  }
  const absent = (example.features ?? []).filter((feature) => !backend.capabilities.features.has(feature));
  if (absent.length > 0) {
    console.log(`  SKIP ${name}: native-only, the ${backend.name} backend has no ${absent.join(', ')} feature (its objects are no OS descriptors)`);
    return { status: 'skip', note: `no ${absent.join(', ')}` };
  }
  const tempDir = mkdtempSync(path.join(os.tmpdir(), `ipcx-demo-${name}-`));
  const started = performance.now();
  try {
    const { main: run } = await example.load();
    const result = await run(backend, { tempDir, uniqueName: (label) => `/ipcx-demo-${process.pid}-${backend.name}-${label}` });
    const left = readdirSync(tempDir);
    if (left.length > 0) throw new Error(`left behind in ${tempDir}: ${left.join(', ')}`);
    console.log(`  PASS ${name}: ${example.title} (${(performance.now() - started).toFixed(0)} ms)`);
    for (const crossing of result.crossings) console.log(`       ${crossing.from} -> ${crossing.to}: ${crossing.what}`);
    return { status: 'pass', outcome: result.outcome };
  } catch (error) {
    console.log(`  FAIL ${name}: ${error instanceof Error ? error.stack : String(error)}`);
    return { status: 'fail' };
  } finally {
    rmSync(tempDir, { recursive: true, force: true });
  }
}

/** Kernel objects present now and not before, still there a second later (others' come and go). */
async function leftInKernel(backend: IpcBackend, before: readonly string[]): Promise<string[]> {
  let leaked = (await backend.diagnostics.kernelObjects()).filter((entry) => !before.includes(entry));
  for (let waited = 0; leaked.length > 0 && waited < 1000; waited += 100) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = await backend.diagnostics.kernelObjects();
    leaked = leaked.filter((entry) => now.includes(entry));
  }
  return leaked;
}

/** `--browser`: serves the example page until interrupted (scripts/browser-server.mjs). */
async function serveBrowserPage(argv: string[]): Promise<number> {
  const at = argv.findIndex((arg) => arg === '--port' || arg.startsWith('--port='));
  const port = at < 0 ? 8080 : Number(argv[at]!.includes('=') ? argv[at]!.split('=')[1] : argv[at + 1]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port needs a port number');
  const serverModule = new URL('../../scripts/browser-server.mjs', import.meta.url).href;
  const { startBrowserServer } = (await import(serverModule)) as { startBrowserServer(options: { port: number }): Promise<{ url: string; close(): Promise<void> }> };
  const server = await startBrowserServer({ port });
  console.log(`ipcx example page (cross-origin isolated: COOP same-origin + COEP require-corp):\n  ${server.url}/examples/browser/index.html\nCtrl-C to stop.`);
  await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  await server.close();
  return 0;
}

async function main(): Promise<number> {
  if (process.argv.includes('--browser')) return serveBrowserPage(process.argv.slice(2));
  const { names, diApp, diAppNamed, backendNames, help } = parseArguments(process.argv.slice(2));
  if (help) {
    printHelp();
    return 0;
  }
  let failures = 0;
  const runs = new Map<string, Map<string, Run>>();
  for (const backendName of backendNames) {
    const backend = backends[backendName]!();
    console.log(`\n== ${backendName} backend ==`);
    const kernelBefore = await backend.diagnostics.kernelObjects();
    for (const name of names) {
      const run = await runExample(backend, name);
      if (run.status === 'fail') failures++;
      if (!runs.has(name)) runs.set(name, new Map());
      runs.get(name)!.set(backendName, run);
    }
    if (diApp && backendName !== 'native' && diAppNamed) {
      console.log(`  SKIP ${DI_APP}: its production entry point runs on the native backend only`);
    }
    if (diApp && backendName === 'native') {
      // The di-app's production entry point, as it runs in production: on the native backend.
      const started = performance.now();
      try {
        const { runProduction } = await import('./di-app.js');
        const report = await runProduction();
        console.log(`  PASS di-app: production entry point, prime counts ${report.counts.join(',')}, at most ${report.mostAtOnce} of 3 pool children at once (${(performance.now() - started).toFixed(0)} ms)`);
      } catch (error) {
        failures++;
        console.log(`  FAIL di-app: ${error instanceof Error ? error.stack : String(error)}`);
      }
    }
    const open = backend.diagnostics.openObjects();
    const leaked = await leftInKernel(backend, kernelBefore);
    if (open.length > 0 || leaked.length > 0) {
      failures++;
      console.log(`  LEAK: open ${JSON.stringify(open)}, kernel ${JSON.stringify(leaked)}`);
    } else {
      console.log('  nothing left open, nothing left in the kernel');
    }
  }
  console.log(`\n== report ==`);
  if (names.length > 0) console.log(`  ${'example'.padEnd(16)} ${backendNames.map((b) => b.padEnd(8)).join(' ')} ${backendNames.length > 1 ? 'backends agree' : ''}`);
  for (const name of names) {
    const byBackend = runs.get(name)!;
    const cells = backendNames.map((b) => (byBackend.get(b)?.status ?? '-').padEnd(8));
    let agreement = '';
    if (backendNames.length > 1) {
      const passed = [...byBackend.values()].filter((run) => run.status === 'pass');
      const same = passed.every((run) => JSON.stringify(run.outcome) === JSON.stringify(passed[0]!.outcome));
      if (passed.length < 2) agreement = 'n/a';
      else if (same) agreement = 'yes';
      else {
        agreement = 'NO: ' + passed.map((run) => JSON.stringify(run.outcome)).join(' vs ');
        failures++;
      }
    }
    console.log(`  ${name.padEnd(16)} ${cells.join(' ')} ${agreement}`);
  }
  console.log(failures === 0 ? '\nall examples passed' : `\n${failures} failure(s)`);
  return failures === 0 ? 0 : 1;
}

process.exitCode = await main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  return 2;
});
