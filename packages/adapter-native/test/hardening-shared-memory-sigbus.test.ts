/**
 * Issue 10, item 2: SIGBUS from shared memory.
 * - Another process makes a POSIX object or a mapped file shorter than the mapping
 *   (`truncate -s 4096`, the ordinary tool); touching the lost range used to kill the process.
 *   Now: the process lives, the lost range reads as zeros, and every later ipcx call on the
 *   segment rejects with EFAULT.
 * - A segment bigger than what is free on /dev/shm used to be created (a file of holes) and its
 *   first write past the free space killed the process. Now: creating or growing reserves the
 *   pages, so it is ENOSPC at once and nothing is left behind. A 1 MiB tmpfs mounted on /dev/shm
 *   in a private mount namespace (`unshare -m`, as root) stands in for a full /dev/shm.
 * - ipcx's SIGBUS handler passes every signal that is not a fault in its own mappings to the
 *   handler that was there before (here: one installed by a library loaded before ipcx), or to
 *   the default action.
 * Each case runs in a child process, so a crash fails the test instead of killing the runner.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { describeRun, fixturesDir, runChild, runFixture } from './fixtures/run-fixture.js';

interface Outcome {
  value?: unknown;
  name?: string;
  code?: string;
  syscall?: string;
  message?: string;
}

interface SigbusReport {
  sizeAfterTruncate: number;
  firstPage: Outcome;
  viewRead?: number;
  viewWriteReadBack?: number;
  lostRead?: Outcome;
  lostWrite?: Outcome;
  after: Record<'read' | 'write' | 'buffer' | 'notify' | 'wait', Outcome> & { viewLost: number };
  sizeAtEnd: number;
  closed: boolean;
  remapped: { size: number; bytes: number[] };
}

const scratch = mkdtempSync(path.join(os.tmpdir(), 'ipcx-hardening-sigbus-'));
let previousHandlerLibrary = '';

beforeAll(() => {
  // The "other library" with its own SIGBUS handler, built from C for this run.
  previousHandlerLibrary = path.join(scratch, 'previous-sigbus-handler.so');
  execFileSync('cc', ['-shared', '-fPIC', `-I${path.join(path.dirname(process.execPath), '../include/node')}`, '-o', previousHandlerLibrary, path.join(fixturesDir, 'previous-sigbus-handler.c')]);
  return () => rmSync(scratch, { recursive: true, force: true });
});

/** A POSIX name or a file path for one test, removed when it finishes. */
function target(kind: 'posix' | 'file', label: string): { name: string; objectPath: string } {
  const name = kind === 'posix' ? `/ipcx-hardening-sigbus-${process.pid}-${label}` : path.join(scratch, `mapped-${label}`);
  const objectPath = kind === 'posix' ? path.join('/dev/shm', name.slice(1)) : name;
  onTestFinished(() => rmSync(objectPath, { force: true }));
  return { name, objectPath };
}

const BROKEN = { name: 'IpcError', code: 'EFAULT' };

describe('a mapping whose object another process shortened never kills the process (issue 10, item 2)', () => {
  for (const kind of ['posix', 'file'] as const) {
    it(`${kind}: a raw view of the lost range reads zeros, takes writes, and ipcx calls then say EFAULT`, async () => {
      const { name, objectPath } = target(kind, 'view');
      const run = await runFixture<SigbusReport>('shared-memory-sigbus.mjs', [kind, name, 'view-first']);
      expect(run.signal, describeRun(run)).toBeNull();
      expect(run.code, describeRun(run)).toBe(0);
      const report = run.report!;
      expect(report.sizeAfterTruncate).toBe(4096);
      // Bytes before the new end were read intact before anything faulted.
      expect(report.firstPage).toEqual({ value: [0xab, 0xab, 0xab, 0xab] });
      expect(report.viewRead).toBe(0);
      expect(report.viewWriteReadBack).toBe(5);
      for (const call of ['read', 'write', 'buffer', 'notify', 'wait'] as const) expect(report.after[call], call).toMatchObject(BROKEN);
      expect(report.after.read.message).toMatch(/made its object shorter/);
      expect(report.after.viewLost).toBe(0);
      // Writes into the lost range reached no one: the object is still 4096 bytes.
      expect(report.sizeAtEnd).toBe(4096);
      expect(report.closed).toBe(true);
      expect(report.remapped).toEqual({ size: 4096, bytes: [0xab, 0xab] });
      expect(existsSync(objectPath)).toBe(kind === 'file');
    });

    it(`${kind}: read() of the lost range rejects with EFAULT (not zeros passed off as data)`, async () => {
      const { name } = target(kind, 'read');
      const run = await runFixture<SigbusReport>('shared-memory-sigbus.mjs', [kind, name, 'read-first']);
      expect(run.signal, describeRun(run)).toBeNull();
      expect(run.code, describeRun(run)).toBe(0);
      expect(run.report!.lostRead).toMatchObject({ ...BROKEN, syscall: 'read' });
      expect(run.report!.after.write).toMatchObject(BROKEN);
    });

    it(`${kind}: write() into the lost range rejects with EFAULT`, async () => {
      const { name } = target(kind, 'write');
      const run = await runFixture<SigbusReport>('shared-memory-sigbus.mjs', [kind, name, 'write-first']);
      expect(run.signal, describeRun(run)).toBeNull();
      expect(run.code, describeRun(run)).toBe(0);
      expect(run.report!.lostWrite).toMatchObject({ ...BROKEN, syscall: 'write' });
      expect(run.report!.sizeAtEnd).toBe(4096);
    });
  }

  it("a SIGBUS that is not a fault in ipcx's mappings goes to the handler installed before ipcx's", async () => {
    const { name } = target('file', 'chain');
    const run = await runFixture<SigbusReport>('shared-memory-sigbus.mjs', ['file', name, 'view-first', previousHandlerLibrary, 'kill']);
    // The fault in ipcx's mapping was ipcx's to handle (the report was printed), the kill() was not.
    expect(run.report, describeRun(run)).toBeUndefined(); // the last line is the previous handler's
    expect(run.stdout).toMatch(/"viewWriteReadBack":5/);
    expect(run.stdout).not.toMatch(/previous handler: SIGBUS fault/);
    expect(run.stdout.trim().split('\n').at(-1)).toBe('previous handler: SIGBUS from kill()');
    expect(run.code, describeRun(run)).toBe(42);
  });

  it('without a previous handler, such a SIGBUS still has its default action (the process dies by SIGBUS)', async () => {
    const { name } = target('file', 'default');
    const run = await runFixture<SigbusReport>('shared-memory-sigbus.mjs', ['file', name, 'view-first', '-', 'kill']);
    expect(run.stdout).toMatch(/"viewWriteReadBack":5/);
    expect(run.stdout).not.toMatch(/survived a SIGBUS sent by kill/);
    expect(run.signal, describeRun(run)).toBe('SIGBUS');
  });
});

type SemaphoreSigbusReport = Record<'before' | 'post' | 'value' | 'tryWait' | 'wait' | 'secondValue' | 'secondWait' | 'reopened' | 'open' | 'createOpen', Outcome> & {
  sizeAfterTruncate: number;
  closed: boolean;
  sizeAtEnd: number;
};

describe("a named POSIX semaphore whose file another process shortened never kills the process (glibc's own mapping)", () => {
  /** A semaphore name for one test; its file is removed when the test finishes. */
  function semaphoreName(label: string): string {
    const name = `/ipcx-hardening-sigbus-sem-${process.pid}-${label}`;
    onTestFinished(() => rmSync(`/dev/shm/sem.${name.slice(1)}`, { force: true }));
    return name;
  }

  it('after `truncate -s 0` of its file, every call on every handle of it rejects with EFAULT', async () => {
    const run = await runFixture<SemaphoreSigbusReport>('posix-semaphore-sigbus.mjs', ['truncated', semaphoreName('truncated')]);
    expect(run.signal, describeRun(run)).toBeNull();
    expect(run.code, describeRun(run)).toBe(0);
    const report = run.report!;
    expect(report.before).toEqual({ value: 2 });
    expect(report.sizeAfterTruncate).toBe(0);
    const calls = { post: 'sem_post', value: 'sem_getvalue', tryWait: 'sem_trywait', wait: 'sem_trywait', secondValue: 'sem_getvalue', secondWait: 'sem_trywait' } as const;
    for (const [call, syscall] of Object.entries(calls)) expect(report[call as keyof typeof calls], call).toMatchObject({ ...BROKEN, syscall });
    expect(report.post.message).toMatch(/made its file \(\/dev\/shm\/sem\.[^)]+\) shorter than a semaphore/);
    // Opening the name again refuses the short file instead of handing out a broken semaphore.
    expect(report.reopened).toMatchObject({ name: 'IpcError', code: 'EINVAL', syscall: 'sem_open' });
    expect(report.closed).toBe(true);
    // Nothing written through the broken handles reached the file.
    expect(report.sizeAtEnd).toBe(0);
  });

  it('a file already too short when it is opened is EINVAL at open, with or without create', async () => {
    const run = await runFixture<SemaphoreSigbusReport>('posix-semaphore-sigbus.mjs', ['empty', semaphoreName('empty')]);
    expect(run.signal, describeRun(run)).toBeNull();
    expect(run.code, describeRun(run)).toBe(0);
    for (const call of ['open', 'createOpen'] as const) {
      expect(run.report![call], call).toMatchObject({ name: 'IpcError', code: 'EINVAL', syscall: 'sem_open' });
      expect(run.report![call].message, call).toMatch(/holds 0 bytes, fewer than a semaphore's 32/);
    }
  });
});

interface EnospcReport {
  tooBig: Outcome | string;
  leftBehind: boolean;
  fileTooBig: Outcome | string;
  fileLeftBehind: boolean;
  fitsLast: number;
  grow: Outcome | string;
  sizeAfterGrow: number;
}

/** Runs `script` with /dev/shm a tmpfs of 1 MiB, in a private mount namespace. */
function withTinyDevShm(command: string, args: string[]) {
  const script = 'mount -t tmpfs -o size=1M ipcx-hardening /dev/shm && exec "$@"';
  return runChild<EnospcReport>('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', command, ...args]);
}

describe('creating or growing a segment reserves its pages: a full /dev/shm is ENOSPC at once (issue 10, item 2)', () => {
  it('a private mount namespace with a 1 MiB /dev/shm can be made here (root, unshare -m)', async () => {
    const run = await withTinyDevShm('df', ['--output=size', '-B1K', '/dev/shm']);
    expect(run.code, `the ENOSPC test needs unshare -m and mount as root: ${describeRun(run)}`).toBe(0);
    expect(run.stdout.trim().split('\n').at(-1)?.trim()).toBe('1024');
  });

  it('an 8 MiB POSIX segment or file mapping on a 1 MiB /dev/shm is ENOSPC, leaves nothing, and growing is ENOSPC too', async () => {
    const name = `/ipcx-hardening-enospc-${process.pid}`;
    const run = await withTinyDevShm(process.execPath, [path.join(fixturesDir, 'shared-memory-enospc.mjs'), name]);
    expect(run.signal, describeRun(run)).toBeNull();
    expect(run.code, describeRun(run)).toBe(0);
    const report = run.report!;
    expect(report.tooBig).toEqual({ name: 'IpcError', code: 'ENOSPC', syscall: 'posix_fallocate' });
    expect(report.leftBehind).toBe(false);
    expect(report.fileTooBig).toEqual({ name: 'IpcError', code: 'ENOSPC', syscall: 'posix_fallocate' });
    expect(report.fileLeftBehind).toBe(false);
    expect(report.fitsLast).toBe(1);
    expect(report.grow).toEqual({ name: 'IpcError', code: 'ENOSPC', syscall: 'posix_fallocate' });
    expect(report.sizeAfterGrow).toBe(512 << 10);
  });
});
