/**
 * Issue 10, item 1: shared memory above 4 GiB. `openSysv('private', { size: 2**32 + 1 })`, and the
 * same with openPosix and mapFile, aborted the process ("free(): double free detected": Node 20
 * refuses an external ArrayBuffer over 2^32 bytes and frees the finalizer's data, which
 * node-addon-api then frees again) and left the segment behind. Each case runs in a child process,
 * so a crash fails the test instead of killing the runner.
 */
import { constants as bufferConstants } from 'node:buffer';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { describeRun, runFixture } from './fixtures/run-fixture.js';

interface SizeReport {
  pid: number;
  ok?: boolean;
  size?: number;
  end?: string;
  head?: string;
  bufferBytes?: number;
  bufferError?: { name: string; message: string };
  notified?: number;
  waited?: string;
  error?: { name: string; code?: string; syscall?: string; message: string };
}

const ABOVE_4_GIB = 2 ** 32 + 1;

/** System V segments created by process `pid` that still exist (/proc/sysvipc/shm: key shmid perms size cpid ...). */
function sysvSegmentsOf(pid: number): number[] {
  return readFileSync('/proc/sysvipc/shm', 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => Number(fields[4]) === pid)
    .map((fields) => Number(fields[1]));
}

function names(kind: string) {
  const posixName = `/ipcx-hardening-size-${process.pid}-${kind}`;
  const filePath = path.join(os.tmpdir(), `ipcx-hardening-size-${process.pid}-${kind}`);
  onTestFinished(() => {
    rmSync(path.join('/dev/shm', posixName.slice(1)), { force: true });
    rmSync(filePath, { force: true });
  });
  return kind === 'posix' ? posixName : kind === 'file' ? filePath : '';
}

describe('shared memory above 4 GiB (issue 10, item 1)', () => {
  for (const kind of ['sysv', 'posix', 'file'] as const) {
    it(`${kind}: a ${ABOVE_4_GIB}-byte segment maps, and its bytes past 4 GiB are read and written`, async () => {
      const name = names(kind);
      const run = await runFixture<SizeReport>('shared-memory-size.mjs', [kind, String(ABOVE_4_GIB), name], { timeoutMs: 60_000 });
      expect(run.signal, describeRun(run)).toBeNull();
      expect(run.code, describeRun(run)).toBe(0);
      const report = run.report!;
      onTestFinished(() => sysvSegmentsOf(report.pid).forEach(removeSegment));
      expect(report.error).toBeUndefined();
      expect(report).toMatchObject({ ok: true, size: ABOVE_4_GIB, end: 'tail', head: 'head', notified: 0, waited: 'not-equal' });
      if (ABOVE_4_GIB > bufferConstants.MAX_LENGTH) {
        // Node 20: no ArrayBuffer can span it; `buffer` says so and names the way out.
        expect(report.bufferError?.name).toBe('RangeError');
        expect(report.bufferError?.message).toMatch(/use read\(\) and write\(\)/);
      } else {
        expect(report.bufferBytes).toBe(ABOVE_4_GIB);
      }
      expect(sysvSegmentsOf(report.pid)).toEqual([]);
      if (kind === 'posix') expect(existsSync(path.join('/dev/shm', name.slice(1)))).toBe(false);
    });

    it(`${kind}: a size above the kernel's limit is an IpcError with the kernel's code, and nothing is left behind`, async () => {
      const name = names(kind);
      const run = await runFixture<SizeReport>('shared-memory-size.mjs', [kind, String(Number.MAX_SAFE_INTEGER), name]);
      expect(run.signal, describeRun(run)).toBeNull();
      expect(run.code, describeRun(run)).toBe(0);
      const report = run.report!;
      expect(report.error?.name, describeRun(run)).toBe('IpcError');
      expect(['EINVAL', 'ENOMEM', 'ENOSPC', 'EFBIG']).toContain(report.error?.code);
      onTestFinished(() => sysvSegmentsOf(report.pid).forEach(removeSegment));
      expect(sysvSegmentsOf(report.pid)).toEqual([]);
      if (kind === 'posix') expect(existsSync(path.join('/dev/shm', name.slice(1)))).toBe(false);
      if (kind === 'file') expect(existsSync(name)).toBe(false);
    });
  }
});

/** Removes a segment a crashed child left (with ipcrm, the ordinary tool). */
function removeSegment(id: number): void {
  try {
    execFileSync('ipcrm', ['-m', String(id)]);
  } catch {
    // already gone
  }
}
