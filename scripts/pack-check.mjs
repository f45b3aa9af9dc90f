#!/usr/bin/env node
// Release check: packs @ipcx/core and @ipcx/adapter-native as they would be published, installs
// the tarballs with npm into an empty project outside the workspace, and runs a program there
// that spawns a child and talks to it through a pipe. Catches a missing "files" entry, a
// workspace-only import, or an addon that cannot be found once installed.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const work = mkdtempSync(path.join(os.tmpdir(), 'ipcx-pack-'));
const sh = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });

try {
  // The prebuilt linux-x64 addon the package ships (node-gyp-build finds it before building).
  const native = path.join(root, 'packages/adapter-native');
  const prebuilds = path.join(native, 'prebuilds', `${process.platform}-${process.arch}`);
  mkdirSync(prebuilds, { recursive: true });
  copyFileSync(path.join(native, 'build/Release/ipcx_native.node'), path.join(prebuilds, 'node.napi.node'));

  const tarballs = [];
  for (const pkg of ['core', 'adapter-native']) {
    sh('npx', ['-y', 'pnpm@10.34.8', 'pack', '--pack-destination', work], path.join(root, 'packages', pkg));
  }
  for (const file of readdirSync(work)) if (file.endsWith('.tgz')) tarballs.push(path.join(work, file));

  const app = path.join(work, 'app');
  mkdirSync(app);
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'ipcx-pack-check', private: true, type: 'module' }));
  sh('npm', ['install', '--no-audit', '--no-fund', ...tarballs], app);
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
console.log('pack check: ' + text);
`,
  );
  process.stdout.write(sh(process.execPath, ['main.js'], app));
  // The `ipcx` command is the package's bin: `npx ipcx` in the installed app finds it (and its
  // ledger, kept apart here so that the check lists nothing of this machine's).
  const listed = execFileSync('npx', ['--no-install', 'ipcx', 'ls', '--json'], { cwd: app, encoding: 'utf8', env: { ...process.env, IPCX_LEDGER_DIR: path.join(work, 'ledger') } });
  if (JSON.stringify(JSON.parse(listed)) !== JSON.stringify({ objects: [], stale: 0 })) throw new Error('unexpected ipcx ls output: ' + listed);
  console.log('pack check: npx ipcx ls works in the installed app');
} finally {
  rmSync(work, { recursive: true, force: true });
}
