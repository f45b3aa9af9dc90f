/**
 * The addon names errno numbers from the same table as @ipcx/core (packages/core/errno.tsv,
 * generated into native/errno_table.h), with the same fallback, and an error thrown before JS
 * registered its IpcError factory carries that name too.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Errno, errnoName } from '@ipcx/core';
import { describeRun, runChild } from './fixtures/run-fixture.js';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('errno names in the addon', () => {
  it('the addon and core name every number alike: the table, and E<number> outside it', async () => {
    const { addon } = await import('../dist/addon.js');
    const numbers = [...Array.from({ length: 200 }, (_, n) => n), 4095, 100_000];
    const names = numbers.map((n) => addon.errnoName(n));
    expect(names).toEqual(numbers.map((n) => errnoName(n)));
    expect(names.slice(0, 4)).toEqual(['E0', 'EPERM', 'ENOENT', 'ESRCH']);
    expect(addon.errnoName(Errno.EAGAIN)).toBe('EAGAIN');
    expect(addon.errnoName(41)).toBe('E41');
  });

  it('an error the addon throws before the IpcError factory exists is named from the table', async () => {
    // The bare addon, loaded without src/addon.ts (which registers the factory at once).
    const program = `
      const load = require('node-gyp-build');
      const addon = load(${JSON.stringify(packageDir)});
      try { addon.describe(-1); console.log(JSON.stringify({ threw: false })); }
      catch (error) { console.log(JSON.stringify({ threw: true, name: error.name, code: error.code, errno: error.errno, syscall: error.syscall, message: error.message })); }
    `;
    const run = await runChild<Record<string, unknown>>(process.execPath, ['-e', program], { cwd: packageDir });
    expect(run.code, describeRun(run)).toBe(0);
    expect(run.report).toEqual({ threw: true, name: 'Error', code: 'EBADF', errno: Errno.EBADF, syscall: 'fstat', message: 'EBADF: fstat failed' });
  });
});
