/**
 * Reads are sized by what the kernel delivers, not by the caller's `maxBytes` (an upper bound).
 * A pipe, FIFO or stream socket kept a `maxBytes` scratch buffer for its whole life, socket
 * receives grew one shared scratch to the largest `maxBytes` ever asked, and a generic descriptor
 * read allocated `maxBytes` (zero-filled on the main thread when it had to wait): reads of 5 bytes
 * with `maxBytes: 2**30` took 1 GiB each, and under an address-space limit every read from the
 * second stream on failed with "RangeError: Array buffer allocation failed" although the kernel
 * had 5 bytes to give. Large reads must still give everything that is there, up to `maxBytes`.
 *
 * Every case runs in a child (test/fixtures/read-max-bytes-limit.mjs) whose address space is
 * limited with `ulimit -v`, relative to what a bare Node takes here, so that a crash or an
 * exhausted address space fails the test instead of the runner.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { describeRun, fixturesDir, runChild } from './fixtures/run-fixture.js';

interface Report {
  error?: { name: string; code?: string; message: string; stack?: string };
  [key: string]: unknown;
}

/** The address space (KiB) of a bare Node process here: the limits are set this much above it. */
function nodeBaselineKiB(): number {
  const script = "process.stdout.write(/VmSize:\\s+(\\d+)/.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8'))[1])";
  return Number(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }));
}

/** Runs the fixture with its address space limited to Node's own plus `headroomKiB`. */
function runLimited(headroomKiB: number, args: readonly string[], timeoutMs = 30_000) {
  const limit = nodeBaselineKiB() + headroomKiB;
  const script = `ulimit -v ${limit} && exec "$0" "$@"`;
  return runChild<Report>('sh', ['-c', script, process.execPath, path.join(fixturesDir, 'read-max-bytes-limit.mjs'), ...args], { timeoutMs });
}

/** ~1.9 GiB above Node's own: one 1 GiB buffer fits, two do not. */
const ONE_GIB_FITS = 2_000_000;
/** ~440 MiB above Node's own: a 256 MiB buffer fits, not the 512 MiB one that would follow it. */
const QUARTER_GIB_FITS = 450_000;

describe('reads are sized by what the kernel delivers, not by maxBytes', () => {
  it('reads of a few bytes with maxBytes 2**30 work on every kind under an address-space limit, at once and waiting', async () => {
    const run = await runLimited(ONE_GIB_FITS, ['small']);
    expect(run.signal, describeRun(run)).toBeNull();
    expect(run.code, describeRun(run)).toBe(0);
    const report = run.report as Report & { outcomes: Record<string, unknown[]>; before: number; after: number };
    expect(report.error, describeRun(run)).toBeUndefined();
    const expected: Record<string, string> = {
      pipe: 'hello',
      'pipe waiting': 'later',
      fifo: 'fifo!',
      'stream read': 'sock!',
      'stream receive': 'recv!',
      seqpacket: 'seq!',
      'seqpacket waiting': 'later',
      datagram: 'dat!',
      'datagram waiting': 'later',
      descriptor: 'file!',
      'descriptor waiting': 'thread',
    };
    expect(Object.keys(report.outcomes).sort()).toEqual(Object.keys(expected).sort());
    for (const [kind, value] of Object.entries(expected)) expect(report.outcomes[kind], kind).toEqual(Array(8).fill(value));
    // 88 reads with maxBytes 2**30 took 88 GiB of address space before; now a few scratch
    // buffers and the waiter threads' malloc arenas.
    expect(report.after - report.before).toBeLessThan(512);
  });

  it('maxBytes 2**30 still gives everything that is there in one read; a message is cut only at maxBytes', async () => {
    const run = await runLimited(ONE_GIB_FITS, ['large']);
    expect(run.signal, describeRun(run)).toBeNull();
    expect(run.code, describeRun(run)).toBe(0);
    const report = run.report!;
    expect(report.error, describeRun(run)).toBeUndefined();
    expect(report).toEqual({
      mode: 'large',
      pipe: { length: 1 << 20, intact: true },
      stream: { sent: 200_000, length: 200_000, intact: true },
      seqpacket: { whole: { length: 150_000, intact: true, truncated: false }, cut: { length: 100_000, truncated: true } },
      datagram: { whole: { length: 150_000, intact: true, truncated: false }, cut: { length: 100_000, truncated: true } },
      file: { length: 8 << 20, intact: true },
      waiting: { length: 300_000, intact: true },
    });
  });

  it('a file larger than memory allows arrives in parts, every byte in order, with no RangeError or crash (from the cache, and from disk on a waiter thread)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), `ipcx-read-max-bytes-${process.pid}-`));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'partial-file');
    const chunk = Buffer.alloc(1 << 20);
    for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 7) % 251;
    const hash = createHash('sha256');
    const fd = openSync(file, 'w');
    for (let i = 0; i < 300; i++) {
      chunk[0] = i; // every MiB differs: a part out of order changes the hash
      writeSync(fd, chunk);
      hash.update(chunk);
    }
    closeSync(fd);
    const digest = hash.digest('hex');
    const check = (run: Awaited<ReturnType<typeof runLimited>>) => {
      expect(run.signal, describeRun(run)).toBeNull();
      expect(run.code, describeRun(run)).toBe(0);
      const report = run.report as Report & { total: number; reads: number[]; intact: boolean };
      expect(report.error, describeRun(run)).toBeUndefined();
      expect(report.total).toBe(300 << 20);
      expect(report.intact).toBe(true);
      // Memory allowed less than the whole file at once: the bounded path was taken.
      expect(report.reads.length, describeRun(run)).toBeGreaterThan(1);
    };
    // Cached (just written): read on the main thread, preadv2(RWF_NOWAIT).
    check(await runLimited(QUARTER_GIB_FITS, ['partial', dir, digest], 60_000));
    // Dropped from the page cache: RWF_NOWAIT says EAGAIN, the read goes to a waiter thread.
    execFileSync('python3', ['-c', 'import os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); os.fsync(fd); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)', file]);
    check(await runLimited(QUARTER_GIB_FITS, ['partial', dir, digest], 60_000));
  }, 150_000);
});
