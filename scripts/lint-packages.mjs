#!/usr/bin/env node
// `node scripts/lint-packages.mjs`: the published packages as a registry would hold them, checked
// by publint (package.json fields, exports, files) and @arethetypeswrong/cli (types resolve for
// every consumer the package supports). Each package is packed once with `pnpm pack
// --ignore-scripts` (the addon's prebuild is irrelevant to both tools and is checked by
// pack-check.mjs) and both tools read that tarball. Fails on any publint warning or attw problem.
//
// The packages are ESM-only (Node 20.19+ can require() them), so attw runs with the `esm-only`
// profile: it ignores the CommonJS-from-node10 resolution that an ESM-only package never offers.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const work = mkdtempSync(path.join(os.tmpdir(), 'ipcx-lint-'));

/** The workspace's publishable packages: every packages/* that is not private. */
const packages = readdirSync(path.join(root, 'packages')).filter((dir) => {
  try {
    return !JSON.parse(readFileSync(path.join(root, 'packages', dir, 'package.json'), 'utf8')).private;
  } catch {
    return false;
  }
});

let failed = 0;
try {
  for (const dir of packages) {
    const before = new Set(readdirSync(work));
    // pnpm pack has no --ignore-scripts flag; the npm config variable is what it honours.
    execFileSync('npx', ['-y', 'pnpm@10.34.8', 'pack', '--pack-destination', work], {
      cwd: path.join(root, 'packages', dir), stdio: 'ignore', env: { ...process.env, npm_config_ignore_scripts: 'true' },
    });
    const tarball = path.join(work, readdirSync(work).find((f) => !before.has(f)));
    for (const [tool, args] of [
      ['publint', ['run', tarball, '--strict']],
      ['attw', [tarball, '--profile', 'esm-only', '--format', 'table-flipped']],
    ]) {
      const result = spawnSync(bin(tool), args, { encoding: 'utf8' });
      const output = (result.stdout + result.stderr).trim();
      if (result.status !== 0) {
        failed++;
        console.error(`lint-packages: ${tool} found problems in ${dir}:\n${output}`);
      } else {
        console.log(`lint-packages: ${tool} ${dir}: ok`);
      }
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
