#!/usr/bin/env node
// The one entry point behind `npm test`, `npm run demo`, `npm run build`.
//
// A fresh clone has only Node and npm, so this script installs what is missing (the pinned pnpm is
// run through npx, never installed globally), builds what is out of date (the addon, the
// AssemblyScript kernel, the TypeScript projects), and then runs the task. Each step is skipped
// when its outputs are newer than its inputs, so a second run starts the task at once.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureChromium } from './chromium.mjs';
import { kernelObjects, leftBehind } from './kernel-objects.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PNPM = 'pnpm@10.34.8';
const bin = (name) => path.join(root, 'node_modules', '.bin', name);

/**
 * Runs a command; exits with its status when it fails. `quiet: true` keeps its output (node-gyp's
 * `gyp info` lines, say) and prints it only when the command fails, so a build that works is quiet.
 */
function run(cmd, args, { quiet = false, ...options } = {}) {
  const result = spawnSync(cmd, args, { stdio: quiet ? 'pipe' : 'inherit', encoding: 'utf8', cwd: root, ...options });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    if (quiet) process.stderr.write(`${result.stdout}${result.stderr}`);
    console.error(`[ipcx] ${cmd} ${args.join(' ')} exited with ${result.status ?? result.signal}`);
    process.exit(result.status || 1);
  }
}

/** Newest modification time among the given files and the files below the given folders. */
function newest(paths, skip = /node_modules|dist|build|\.tsbuildinfo$/) {
  let latest = 0;
  for (const p of paths) {
    if (!existsSync(p)) continue;
    const st = statSync(p);
    if (st.isDirectory()) {
      for (const entry of readdirSync(p)) {
        if (!skip.test(entry)) latest = Math.max(latest, newest([path.join(p, entry)], skip));
      }
    } else {
      latest = Math.max(latest, st.mtimeMs);
    }
  }
  return latest;
}

const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : 0);
const packageDirs = ['packages/core', 'packages/adapter-native', 'packages/adapter-worker', 'packages/adapter-redis', 'packages/testkit', 'packages/multiprocessing', 'examples', 'demo', 'bench', 'docs/api']
  .map((d) => path.join(root, d));

function install() {
  const marker = path.join(root, 'node_modules', '.ipcx-installed');
  const inputs = [path.join(root, 'package.json'), path.join(root, 'pnpm-lock.yaml'), path.join(root, 'pnpm-workspace.yaml'),
    ...packageDirs.map((d) => path.join(d, 'package.json'))];
  if (mtime(marker) > newest(inputs)) return;
  console.log('[ipcx] installing dependencies with', PNPM);
  const frozen = existsSync(path.join(root, 'pnpm-lock.yaml')) ? '--frozen-lockfile' : '--no-frozen-lockfile';
  // Install scripts are skipped: the addon is built below against the running Node's headers,
  // which works offline (node-gyp would otherwise try to download headers).
  run('npx', ['-y', PNPM, 'install', frozen, '--ignore-scripts'], { env: { ...process.env, npm_config_yes: 'true' } });
  writeFileSync(marker, `installed by scripts/run.mjs at ${new Date().toISOString()}\n`);
}

function buildAddon() {
  const dir = path.join(root, 'packages/adapter-native');
  if (!existsSync(path.join(dir, 'binding.gyp'))) return;
  const output = path.join(dir, 'build/Release/ipcx_native.node');
  if (mtime(output) > newest([path.join(dir, 'native'), path.join(dir, 'binding.gyp')])) return;
  // Headers ship with Node in <prefix>/include/node; pointing node-gyp there keeps it offline.
  const nodedir = path.resolve(process.execPath, '../..');
  const env = { ...process.env, npm_config_nodedir: nodedir };
  const jobs = ['-j', 'max'];
  // binding.gyp's sources come from native/modules.def when node-gyp configures: a changed list reconfigures.
  const makefile = mtime(path.join(dir, 'build/Makefile'));
  if (makefile === 0 || makefile < Math.max(mtime(path.join(dir, 'binding.gyp')), mtime(path.join(dir, 'native/modules.def')))) {
    run(bin('node-gyp'), ['configure', `--nodedir=${nodedir}`], { cwd: dir, env, quiet: true });
  }
  console.log('[ipcx] building the native addon');
  run(bin('node-gyp'), ['build', ...jobs], { cwd: dir, env, quiet: true });
}

function buildWasm() {
  const dir = path.join(root, 'packages/adapter-worker');
  const script = path.join(dir, 'scripts/build-kernel.mjs');
  if (!existsSync(script)) return;
  run(process.execPath, [script], { cwd: dir });
}

function buildTypeScript() {
  run(bin('tsc'), ['-b', 'tsconfig.json']);
}

// Test files are not part of the built projects; each package's test/tsconfig.json type-checks them.
function typecheckTests() {
  for (const dir of packageDirs) {
    const config = path.join(dir, 'test', 'tsconfig.json');
    if (existsSync(config)) run(bin('tsc'), ['-p', config]);
  }
}

function build() {
  install();
  buildAddon();
  buildWasm();
  buildTypeScript();
}

const task = process.argv[2];
const rest = process.argv.slice(3);
switch (task) {
  case 'build':
    build();
    break;
  case 'test': {
    build();
    typecheckTests();
    // The chromium project and the example page's test drive Debian's chromium: installed here
    // when missing (as root with apt), otherwise this fails naming the package. Never a silent skip.
    try {
      ensureChromium();
    } catch (error) {
      console.error(error.message);
      process.exit(1);
    }
    // The suites check their own objects; this catches every other test file too, and a test that
    // fails its own cleanup: after the whole run, nothing the tests made may be left in the kernel.
    const before = kernelObjects();
    // The tests record what they create in a ledger of their own (the ipcx command's), not in the
    // user's: objects that tests remove with ipcrm or rm would otherwise leave stale entries there.
    const ledger = mkdtempSync(path.join(os.tmpdir(), 'ipcx-test-ledger-'));
    try {
      run(bin('vitest'), ['run', ...rest], { env: { ...process.env, NO_COLOR: '1', IPCX_LEDGER_DIR: ledger } });
    } finally {
      rmSync(ledger, { recursive: true, force: true });
    }
    const leaked = await leftBehind(before);
    if (leaked.length > 0) {
      console.error(`[ipcx] the tests left ${leaked.length} kernel object(s) behind:\n  ${leaked.join('\n  ')}`);
      process.exit(1);
    }
    console.log('[ipcx] leak check: the tests left no System V object and nothing in /dev/shm');
    break;
  }
  case 'demo':
    build();
    run(process.execPath, [path.join(root, 'demo/dist/demo.js'), ...rest]);
    break;
  case 'bench':
    build();
    run(process.execPath, [path.join(root, 'bench/run.mjs'), ...rest]);
    break;
  case 'docs':
    // The API reference from the TSDoc, into docs/api/site; any typedoc warning fails it.
    install();
    run(path.join(root, 'docs/api/node_modules/.bin/typedoc'), [], { cwd: path.join(root, 'docs/api') });
    console.log('[ipcx] API reference: docs/api/site/index.html');
    break;
  case 'changeset':
    install();
    run(bin('changeset'), rest);
    break;
  default:
    console.error('usage: node scripts/run.mjs build|test|demo|bench|docs|changeset [args]');
    process.exit(2);
}
