#!/usr/bin/env node
// Finds the Chromium the browser tests, the browser demo and the browser bench drive: Debian's
// `chromium` package. Tools that download their own browser build cannot work offline, so this
// never downloads one. When Chromium is missing and this runs as root with apt available, it
// installs the package (`apt-get update`, then `apt-get install -y --no-install-recommends
// chromium`); otherwise it fails with a message naming the package. Never a silent skip.
//
// `node scripts/chromium.mjs` prints the executable's path (installing it first if needed).
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Flags every launch uses: headless, no sandbox (containers run as root), nothing that phones home. */
export const chromiumFlags = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

const candidates = ['chromium', 'chromium-browser'];

function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The Chromium executable: `IPCX_CHROMIUM` if set, else `chromium` on PATH; `undefined` if none. */
export function findChromium() {
  if (process.env.IPCX_CHROMIUM) return process.env.IPCX_CHROMIUM;
  for (const name of candidates) {
    const file = onPath(name);
    if (file) return file;
  }
  return undefined;
}

function run(cmd, args) {
  console.error(`[ipcx] ${cmd} ${args.join(' ')}`);
  const result = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  return result.status === 0;
}

/**
 * The Chromium executable, installed with apt first when it is missing and this process is root
 * with apt-get on PATH. Throws an Error naming the Debian package otherwise.
 */
export function ensureChromium() {
  const found = findChromium();
  if (found) return found;
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (root && onPath('apt-get')) {
    console.error('[ipcx] Chromium is missing: installing Debian\'s chromium package for the browser tests');
    if (run('apt-get', ['update']) && run('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'])) {
      const installed = findChromium();
      if (installed) return installed;
    }
    throw new Error('[ipcx] installing Debian\'s `chromium` package failed; install it (apt-get install chromium) or set IPCX_CHROMIUM to a Chromium executable');
  }
  throw new Error(
    '[ipcx] the browser tests need Chromium: install Debian\'s `chromium` package (as root: apt-get update && apt-get install -y --no-install-recommends chromium) or set IPCX_CHROMIUM to a Chromium executable',
  );
}

/**
 * Launches headless Chromium (found or installed by {@link ensureChromium}) through Playwright's
 * library API with the flags above; the caller closes the browser it gets.
 */
export async function launchChromium() {
  const executablePath = ensureChromium();
  const { chromium } = await import('playwright');
  return chromium.launch({ executablePath, args: chromiumFlags, headless: true });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    console.log(ensureChromium());
  } catch (error) {
    console.error(error.message);
    process.exit(1);
  }
}
