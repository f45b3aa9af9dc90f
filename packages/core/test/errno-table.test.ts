/**
 * The errno table's one source (packages/core/errno.tsv) and the three files scripts/errno.mjs
 * writes from it: core's errno-table.ts, the addon's native/errno_table.h, the worker kernel's
 * assembly/errno.ts. The committed files must be what the generator writes now, and the check must
 * notice a file that drifted.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { Errno, errnoMessage, errnoName } from '@ipcx/core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const generator = path.join(root, 'scripts/errno.mjs');
const generated = ['packages/core/src/errno-table.ts', 'packages/adapter-native/native/errno_table.h', 'packages/adapter-worker/assembly/errno.ts'];

function runGenerator(...args: string[]) {
  const result = spawnSync(process.execPath, [generator, ...args], { encoding: 'utf8' });
  return { status: result.status, output: result.stdout + result.stderr };
}

/** The table's rows as the source file has them. */
function sourceRows(): Array<[string, number, string]> {
  return readFileSync(path.join(root, 'packages/core/errno.tsv'), 'utf8')
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [name, number, text] = line.split('\t');
      return [name!, Number(number), text!];
    });
}

describe('errno table', () => {
  it('the committed generated files are what scripts/errno.mjs writes from errno.tsv', () => {
    const run = runGenerator('--check');
    expect(run.output).toContain('generated files match');
    expect(run.status).toBe(0);
  });

  it('--check names a generated file that differs from the table, and a plain run rewrites it', () => {
    const copy = mkdtempSync(path.join(os.tmpdir(), `ipcx-errno-${process.pid}-`));
    onTestFinished(() => rmSync(copy, { recursive: true, force: true }));
    for (const file of ['packages/core/errno.tsv', ...generated]) {
      mkdirSync(path.dirname(path.join(copy, file)), { recursive: true });
      cpSync(path.join(root, file), path.join(copy, file));
    }
    const assembly = path.join(copy, 'packages/adapter-worker/assembly/errno.ts');
    writeFileSync(assembly, readFileSync(assembly, 'utf8').replace('export const EAGAIN: i32 = 11;', 'export const EAGAIN: i32 = 35;'));
    const stale = runGenerator('--check', '--root', copy);
    expect(stale.status).toBe(1);
    expect(stale.output).toContain('packages/adapter-worker/assembly/errno.ts differ');
    expect(stale.output).not.toContain('errno-table.ts');
    expect(runGenerator('--root', copy).status).toBe(0);
    expect(readFileSync(assembly, 'utf8')).toContain('export const EAGAIN: i32 = 11;');
    expect(runGenerator('--check', '--root', copy).status).toBe(0);
  });

  it("core's Errno, errnoName and errnoMessage hold exactly the table's rows", () => {
    const rows = sourceRows();
    expect(rows.length).toBeGreaterThan(100);
    expect(Object.keys(Errno).sort()).toEqual(rows.map(([name]) => name).sort());
    for (const [name, number, text] of rows) {
      expect(Errno[name as keyof typeof Errno]).toBe(number);
      expect(errnoName(number)).toBe(name);
      expect(errnoMessage(name)).toBe(text);
    }
  });

  // The addon names numbers the same way: packages/adapter-native/test/errno.test.ts.
  it('a number outside the table is named E<number>, the one fallback', () => {
    expect(errnoName(41)).toBe('E41');
    expect(errnoName(4095)).toBe('E4095');
    expect(errnoMessage('E4095')).toBe('Unknown error 4095');
  });
});
