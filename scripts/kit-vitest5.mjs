#!/usr/bin/env node
// `node scripts/with-node.mjs 24 node scripts/kit-vitest5.mjs`: the conformance kit as a user of
// vitest 5 meets it. Packs @ipcx/core, @ipcx/adapter-worker and @ipcx/testkit, installs them with
// the newest vitest 5 into an empty project outside the workspace, and runs the whole kit there
// against the worker backend. vitest 5 needs Node 22.12+, hence the Node it is run with.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const work = mkdtempSync(path.join(os.tmpdir(), 'ipcx-vitest5-'));
const run = (cmd, args, cwd, extraEnv = {}) => execFileSync(cmd, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...extraEnv } });

try {
  for (const pkg of ['core', 'adapter-worker', 'testkit']) {
    run('npx', ['-y', 'pnpm@10.34.8', 'pack', '--pack-destination', work], path.join(root, 'packages', pkg), { npm_config_ignore_scripts: 'true' });
  }
  const tarballs = readdirSync(work).filter((f) => f.endsWith('.tgz')).map((f) => path.join(work, f));
  const app = path.join(work, 'app');
  mkdirSync(path.join(app, 'test'), { recursive: true });
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'ipcx-kit-vitest5', private: true, type: 'module' }));
  run('npm', ['install', '--no-audit', '--no-fund', 'vitest@5', 'fast-check@4', ...tarballs], app);
  writeFileSync(
    path.join(app, 'test', 'conformance.test.js'),
    `import { createWorkerBackend } from '@ipcx/adapter-worker';
import { registerConformance } from '@ipcx/testkit';

const backend = createWorkerBackend();
registerConformance({ name: 'worker', create: () => backend, capabilities: backend.capabilities });
`,
  );
  writeFileSync(path.join(app, 'vitest.config.js'), `export default { test: { testTimeout: 30000, hookTimeout: 30000 } };\n`);
  const version = execFileSync(process.execPath, ['-p', "require('vitest/package.json').version"], { cwd: app, encoding: 'utf8' }).trim();
  console.log(`[ipcx] the conformance kit under vitest ${version}, Node ${process.version}`);
  run(path.join(app, 'node_modules', '.bin', 'vitest'), ['run'], app, { NO_COLOR: '1' });
} finally {
  rmSync(work, { recursive: true, force: true });
}
