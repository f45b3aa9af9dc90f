#!/usr/bin/env node
// `prepack` of @ipcx/adapter-native: builds the addon and puts it where node-gyp-build looks
// first, `prebuilds/<platform>-<arch>/node.napi.glibc.node`, so that every pack ships the binary
// (a plain `pnpm pack` or a changesets publish included), and an install on a machine without a
// compiler loads it instead of building. Checks the binary against the glibc floor first.
// `--clean` (postpack) removes prebuilds/ again: node-gyp-build prefers it over build/Release,
// so a stale prebuild left in the source tree would shadow every later rebuild in development.
//
// Also builds linux-arm64 when Debian's cross compiler (g++-aarch64-linux-gnu) is installed.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { aboveFloor } from './check-glibc-floor.mjs';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const prebuilds = path.join(packageDir, 'prebuilds');

if (process.argv.includes('--clean')) {
  rmSync(prebuilds, { recursive: true, force: true });
  process.exit(0);
}

// node-gyp comes from the workspace (a devDependency of the root); headers ship with the running
// Node in <prefix>/include/node, so nothing is downloaded.
const nodeGyp = createRequire(path.join(packageDir, 'package.json')).resolve('node-gyp/bin/node-gyp.js');
const nodedir = path.resolve(process.execPath, '../..');

function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return latest;
}

/**
 * Builds in `dir` (the package itself, or a copy of its sources for another architecture, since
 * node-gyp always builds into `<dir>/build`) for `arch` with the given compilers, unless the
 * binary there is newer than the sources. Returns the binary's path.
 */
function build(arch, dir, env = {}) {
  const output = path.join(dir, 'build', 'Release', 'ipcx_native.node');
  const inputs = Math.max(newest(path.join(packageDir, 'native')), statSync(path.join(packageDir, 'binding.gyp')).mtimeMs);
  if (existsSync(output) && statSync(output).mtimeMs > inputs) return output;
  if (dir !== packageDir) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    cpSync(path.join(packageDir, 'native'), path.join(dir, 'native'), { recursive: true });
    copyFileSync(path.join(packageDir, 'binding.gyp'), path.join(dir, 'binding.gyp'));
    symlinkSync(path.join(packageDir, 'node_modules'), path.join(dir, 'node_modules'));
  }
  const args = [nodeGyp, 'rebuild', `--nodedir=${nodedir}`, `--arch=${arch}`, '-j', 'max'];
  // node-gyp's progress goes to the log only; it is printed when the build fails.
  const result = spawnSync(process.execPath, args, { cwd: dir, env: { ...process.env, npm_config_nodedir: nodedir, ...env }, encoding: 'utf8' });
  if (result.status !== 0) {
    process.stderr.write(result.stdout + result.stderr);
    throw new Error(`prebuild: node-gyp rebuild for ${arch} failed`);
  }
  return output;
}

function place(binary, target) {
  const bad = aboveFloor(binary);
  if (bad.length > 0) {
    throw new Error(`prebuild: ${binary} needs more than the glibc floor: ${bad.map((b) => `${b.symbol}@${b.library}_${b.version.join('.')}`).join(', ')}`);
  }
  const dir = path.join(prebuilds, target);
  mkdirSync(dir, { recursive: true });
  // node-gyp-build reads the tags from the name: any Node (napi), glibc only (not musl).
  copyFileSync(binary, path.join(dir, 'node.napi.glibc.node'));
  console.log(`prebuild: ${path.relative(packageDir, path.join(dir, 'node.napi.glibc.node'))}`);
}

const hostTarget = `${process.platform}-${process.arch}`;
rmSync(prebuilds, { recursive: true, force: true });
place(build(process.arch, packageDir), hostTarget);

const hasCommand = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
if (process.arch === 'x64' && hasCommand('aarch64-linux-gnu-g++')) {
  const binary = build('arm64', path.join(packageDir, 'build-arm64'), { CC: 'aarch64-linux-gnu-gcc', CXX: 'aarch64-linux-gnu-g++', LINK: 'aarch64-linux-gnu-g++', AR: 'aarch64-linux-gnu-ar' });
  const kind = execFileSync('file', ['-b', binary], { encoding: 'utf8' });
  if (!/aarch64/.test(kind)) throw new Error(`prebuild: the arm64 build is not an arm64 binary: ${kind}`);
  place(binary, 'linux-arm64');
} else if (process.arch === 'x64') {
  console.log('prebuild: no linux-arm64 binary (install g++-aarch64-linux-gnu to build one)');
}
