/**
 * `npm run demo [-- <example>...] [--backend native]`: runs the examples, each with its other
 * side in a child process, prints what crossed from which process to which, and checks that
 * nothing was left in the kernel. Exits non-zero if any example failed or leaked.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createNativeBackend } from '@ipcx/adapter-native';
import type { IpcBackend } from '@ipcx/core';
import type { ExampleMain } from './example.js';

const examples: Record<string, { title: string; load: () => Promise<{ main: ExampleMain }> }> = {
  pipe: { title: 'pipe: parent -> child, EOF when the writer closes', load: () => import('./pipe.js') },
  fifo: { title: 'FIFO: unrelated writers by path, the reader sees "writer close"', load: () => import('./fifo.js') },
  'message-queue': { title: 'System V message queue: a writer and a reader process, typed messages', load: () => import('./message-queue.js') },
  'posix-queue': { title: 'POSIX message queue: highest priority first, FIFO within one', load: () => import('./posix-queue.js') },
};

const backends: Record<string, () => IpcBackend> = {
  native: createNativeBackend,
};

function parseArguments(argv: string[]): { names: string[]; backendNames: string[] } {
  const names: string[] = [];
  const backendNames: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--backend') backendNames.push(argv[++i] ?? '');
    else if (arg.startsWith('--backend=')) backendNames.push(arg.slice('--backend='.length));
    else names.push(arg);
  }
  for (const name of names) if (!(name in examples)) throw new Error(`unknown example '${name}' (known: ${Object.keys(examples).join(', ')})`);
  for (const name of backendNames) if (!(name in backends)) throw new Error(`unknown backend '${name}' (known: ${Object.keys(backends).join(', ')})`);
  return { names: names.length > 0 ? names : Object.keys(examples), backendNames: backendNames.length > 0 ? backendNames : Object.keys(backends) };
}

async function main(): Promise<number> {
  const { names, backendNames } = parseArguments(process.argv.slice(2));
  let failures = 0;
  for (const backendName of backendNames) {
    const backend = backends[backendName]!();
    console.log(`\n== ${backendName} backend ==`);
    const kernelBefore = await backend.diagnostics.kernelObjects();
    for (const name of names) {
      const example = examples[name]!;
      const tempDir = mkdtempSync(path.join(os.tmpdir(), `ipcx-demo-${name}-`));
      const started = performance.now();
      try {
        const { main: run } = await example.load();
        const result = await run(backend, { tempDir, uniqueName: (label) => `/ipcx-demo-${process.pid}-${label}` });
        console.log(`  PASS ${name}: ${example.title} (${(performance.now() - started).toFixed(0)} ms)`);
        for (const crossing of result.crossings) console.log(`       ${crossing.from} -> ${crossing.to}: ${crossing.what}`);
        const left = readdirSync(tempDir);
        if (left.length > 0) throw new Error(`left behind in ${tempDir}: ${left.join(', ')}`);
      } catch (error) {
        failures++;
        console.log(`  FAIL ${name}: ${error instanceof Error ? error.stack : String(error)}`);
      } finally {
        rmSync(tempDir, { recursive: true, force: true });
      }
    }
    const open = backend.diagnostics.openObjects();
    // The kernel is shared with every other program: only what is still there a second later counts.
    let leaked = (await backend.diagnostics.kernelObjects()).filter((entry) => !kernelBefore.includes(entry));
    for (let waited = 0; leaked.length > 0 && waited < 1000; waited += 100) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const now = await backend.diagnostics.kernelObjects();
      leaked = leaked.filter((entry) => now.includes(entry));
    }
    if (open.length > 0 || leaked.length > 0) {
      failures++;
      console.log(`  LEAK: open ${JSON.stringify(open)}, kernel ${JSON.stringify(leaked)}`);
    } else {
      console.log('  nothing left open, nothing left in the kernel');
    }
  }
  console.log(failures === 0 ? '\nall examples passed' : `\n${failures} failure(s)`);
  return failures === 0 ? 0 : 1;
}

process.exitCode = await main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  return 2;
});
