#!/usr/bin/env node
// `node scripts/check-glibc-floor.mjs [file.node ...]`: lists the glibc and libstdc++ symbol
// versions a built addon needs and fails when any is above the floor the package promises
// (README: glibc 2.28, GLIBCXX 3.4.25), naming the symbols that need more. Run by prepack on the
// prebuilt binary, so a call that raises the floor is caught before a release, not on a user's
// machine. Reads the dynamic symbol table with `objdump -T` (binutils, which node-gyp's
// toolchain brings).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The highest versions the prebuilt addon may need. */
export const FLOOR = { GLIBC: [2, 28], GLIBCXX: [3, 4, 25] };

const compare = (a, b) => {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
};

/**
 * The versioned symbols `file` imports: `[{ symbol, library: 'GLIBC' | 'GLIBCXX' | ..., version: number[] }]`.
 * @param {string} file
 */
export function versionedImports(file) {
  const text = execFileSync('objdump', ['-T', file], { encoding: 'utf8' });
  const imports = [];
  for (const line of text.split('\n')) {
    // 0000000000000000      DF *UND*  0000000000000000 (GLIBC_2.34) pthread_create
    const match = /\*UND\*\s+\S+\s+\(?([A-Z]+)_([0-9.]+)\)?\s+(\S+)$/.exec(line);
    if (match) imports.push({ library: match[1], version: match[2].split('.').map(Number), symbol: match[3] });
  }
  return imports;
}

/** The imports of `file` above the floor (empty when it holds). */
export function aboveFloor(file) {
  return versionedImports(file).filter(({ library, version }) => FLOOR[library] && compare(version, FLOOR[library]) > 0);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const files = process.argv.slice(2);
  if (files.length === 0) files.push(path.join(here, '..', 'build', 'Release', 'ipcx_native.node'));
  let failed = false;
  for (const file of files) {
    if (!existsSync(file)) {
      console.error(`check-glibc-floor: ${file} does not exist (build the addon first)`);
      process.exit(2);
    }
    const imports = versionedImports(file);
    const highest = {};
    for (const { library, version } of imports) if (!highest[library] || compare(version, highest[library]) > 0) highest[library] = version;
    const summary = Object.entries(highest).map(([lib, v]) => `${lib}_${v.join('.')}`).join(', ');
    const bad = aboveFloor(file);
    if (bad.length === 0) {
      console.log(`check-glibc-floor: ${path.basename(file)} needs at most ${summary || 'no versioned symbol'} (floor GLIBC_${FLOOR.GLIBC.join('.')}, GLIBCXX_${FLOOR.GLIBCXX.join('.')})`);
    } else {
      failed = true;
      console.error(`check-glibc-floor: ${file} needs more than the floor (GLIBC_${FLOOR.GLIBC.join('.')}, GLIBCXX_${FLOOR.GLIBCXX.join('.')}):`);
      for (const { symbol, library, version } of bad) console.error(`  ${symbol}@${library}_${version.join('.')}`);
      console.error('Bind the call to its old version in native/glibc_compat.h, or avoid it (see that file).');
    }
  }
  process.exit(failed ? 1 : 0);
}
