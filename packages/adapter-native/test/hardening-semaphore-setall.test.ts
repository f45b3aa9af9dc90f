/**
 * Issue 10, item 3: a handle must never trust the size its caller claims. Root creates a set of
 * 10 with mode 0o622; `nobody` (alter permission, no read permission, so no IPC_STAT) opens it
 * with `{ size: 1 }` and calls `setValues([5])`. Before the fix the handle took size 1 and SETALL
 * copied 10 values from a 1-value buffer: root then read `[5, 9821, 0, ..., 20094, 0]`, bytes of
 * nobody's heap. The child runs as `nobody` through child_process's uid/gid options.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createNativeBackend } from '@ipcx/adapter-native';
import { Errno } from '@ipcx/core';
import { describeRun, runFixture } from './fixtures/run-fixture.js';

const semaphores = createNativeBackend().semaphores;

/** uid and gid of `nobody` (from the passwd database). */
function nobody(): { uid: number; gid: number } {
  const [, , uid, gid] = execFileSync('getent', ['passwd', 'nobody'], { encoding: 'utf8' }).trim().split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

interface SetAllReport {
  uid: number;
  size?: number;
  setValues?: string | { name: string; code?: string; message: string };
  nativeSetAll?: number;
  error?: { name: string; code?: string; message: string };
}

describe('semaphore setValues sizes its buffer from the kernel (issue 10, item 3)', () => {
  it("an alter-only user's setValues([5]) on root's set of 10 writes nothing into the others", async () => {
    // The scenario needs root (to make the set as another user than the child) and a node that
    // `nobody` may run; say so rather than skip.
    expect(process.getuid?.(), 'this test must run as root: it makes a set that user nobody then opens').toBe(0);
    const user = nobody();
    expect(() => accessSync(process.execPath, constants.X_OK), `node (${process.execPath}) must be executable by nobody`).not.toThrow();
    const key = 0x1e000000 + (process.pid & 0xffff);
    const set = await semaphores.open(key, { create: true, exclusive: true, size: 10, mode: 0o622 });
    onTestFinished(async () => {
      await set.remove().catch(() => {});
      await set.close();
    });
    const asNobody = { uid: user.uid, gid: user.gid, cwd: '/', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } };

    const short = await runFixture<SetAllReport>('semaphore-setall.mjs', [String(key), 'short'], asNobody);
    expect(short.code, describeRun(short)).toBe(0);
    const report = short.report!;
    expect(report.error, describeRun(short)).toBeUndefined();
    expect(report.uid).toBe(user.uid);
    // The handle's size is the kernel's (SEM_STAT_ANY), not the 1 that was claimed...
    expect(report.size).toBe(10);
    // ...so core's check refuses a list of 1 value, and the addon refuses it on its own too.
    expect(report.setValues).toMatchObject({ name: 'RangeError' });
    expect(report.nativeSetAll).toBe(-Errno.EINVAL);
    expect(set.values()).toEqual(Array(10).fill(0));

    // The same user can still set all ten (it has alter permission): the fix refuses nothing legitimate.
    const full = await runFixture<SetAllReport>('semaphore-setall.mjs', [String(key), 'full'], asNobody);
    expect(full.code, describeRun(full)).toBe(0);
    expect(full.report).toMatchObject({ size: 10, setValues: 'done' });
    expect(set.values()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('a user with neither read nor alter permission cannot open the set, whatever size it claims', async () => {
    expect(process.getuid?.(), 'this test must run as root: it makes a set that user nobody then opens').toBe(0);
    const user = nobody();
    const key = 0x1e010000 + (process.pid & 0xffff);
    const set = await semaphores.open(key, { create: true, exclusive: true, size: 4, mode: 0o600 });
    onTestFinished(async () => {
      await set.remove().catch(() => {});
      await set.close();
    });
    const run = await runFixture<SetAllReport>('semaphore-setall.mjs', [String(key), 'open'], { uid: user.uid, gid: user.gid, cwd: '/', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    expect(run.code, describeRun(run)).toBe(0);
    expect(run.report?.error).toMatchObject({ name: 'IpcError', code: 'EACCES' });
  });

  it('values() and setValues() of a handle revived with a wrong size still copy exactly the kernel\'s count', async () => {
    const set = await semaphores.open('private', { size: 3 });
    onTestFinished(async () => {
      await set.remove().catch(() => {});
      await set.close();
    });
    const { addon } = await import('../dist/addon.js');
    const native = addon as unknown as { semGetAll(id: number, size?: number): number[] | number; semSetAll(id: number, values: number[]): number };
    // A size argument (the old signature) is ignored: the kernel's 3 values come back.
    expect(native.semGetAll(set.id, 1000)).toEqual([0, 0, 0]);
    expect(native.semSetAll(set.id, [1, 2, 3, 4])).toBe(-Errno.EINVAL);
    expect(native.semSetAll(set.id, [1])).toBe(-Errno.EINVAL);
    expect(native.semSetAll(set.id, [4, 5, 6])).toBe(0);
    expect(set.values()).toEqual([4, 5, 6]);
  });
});
