/**
 * Issue 10, item 4: no C++ exception may reach std::terminate. Each waiting System V receive used
 * to allocate its maxBytes up front, so 8 × `receive({ maxBytes: 2**31 - 1 })` under an
 * address-space limit ended in "terminate called after throwing std::bad_alloc". Buffers are now
 * sized by what the kernel can deliver (msgmax, the queue's byte limit) and an allocation that
 * still fails is an ENOMEM rejection.
 *
 * Every case runs in a child in a private IPC namespace (`unshare -i`, as root): its kernel limits
 * can be set there without touching the machine's, and its queues vanish with it even if it
 * crashes. The child's address space is limited with `ulimit -v`.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeRun, fixturesDir, runChild } from './fixtures/run-fixture.js';

interface Outcome {
  data?: string;
  code?: string;
  syscall?: string;
  name?: string;
}

interface LimitReport {
  mode: string;
  nowait?: string;
  outcomes?: Outcome[];
  left?: number;
  largest?: number;
  length?: number;
  intact?: boolean;
  waitedLength?: number;
  error?: { name: string; code?: string; message: string };
}

/** ~2.9 GiB of address space: Node runs, one 2 GiB buffer fits, two do not. */
const ADDRESS_SPACE_KIB = 3_000_000;

/** Runs the fixture in a new IPC namespace with the given msgmax/msgmnb and address-space limit. */
function runInIpcNamespace(mode: string, msgmax: number | undefined, msgmnb: number | undefined) {
  const settings = [
    msgmax === undefined ? '' : `echo ${msgmax} > /proc/sys/kernel/msgmax &&`,
    msgmnb === undefined ? '' : `echo ${msgmnb} > /proc/sys/kernel/msgmnb &&`,
  ].join(' ');
  const script = `${settings} ulimit -v ${ADDRESS_SPACE_KIB} && exec "$0" "$1" "$2"`;
  return runChild<LimitReport>('unshare', ['-i', 'sh', '-c', script, process.execPath, path.join(fixturesDir, 'message-queue-receive-limit.mjs'), mode], { timeoutMs: 30_000 });
}

describe('System V receive buffers are sized by the kernel, and allocation failures are ENOMEM (issue 10, item 4)', () => {
  it('the IPC namespace and the address-space limit can be made here', async () => {
    const run = await runChild('unshare', ['-i', 'sh', '-c', `echo 12345 > /proc/sys/kernel/msgmax && ulimit -v ${ADDRESS_SPACE_KIB} && cat /proc/sys/kernel/msgmax && ulimit -v`]);
    expect(run.code, `unshare -i (root, CAP_SYS_ADMIN) is needed for these tests: ${describeRun(run)}`).toBe(0);
    expect(run.stdout.trim().split('\n')).toEqual(['12345', String(ADDRESS_SPACE_KIB)]);
  });

  it('8 × receive({ maxBytes: 2**31 - 1 }) under an address-space limit all work', async () => {
    const run = await runInIpcNamespace('capped', undefined, undefined);
    expect(run.signal, describeRun(run)).toBeNull();
    expect(run.code, describeRun(run)).toBe(0);
    const report = run.report!;
    expect(report.error, describeRun(run)).toBeUndefined();
    expect(report.nowait).toBe('ENOMSG');
    expect(report.outcomes!.map((outcome) => outcome.data).sort()).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']);
    expect(report.left).toBe(0);
    expect(report.largest).toBe(8192);
  });

  it('a message whose buffer cannot be had is ENOMEM, stays queued, and the process lives', async () => {
    // In one IPC namespace: a first child with no limit queues a 300 MB message; a second one,
    // limited to ~1.4 GiB of address space (Node itself takes ~1 GiB), cannot get the 512 MiB
    // buffer it would take.
    const key = 0x1e100000 + (process.pid & 0xffff);
    const fixture = path.join(fixturesDir, 'message-queue-receive-limit.mjs');
    const script = [
      'echo 1073741824 > /proc/sys/kernel/msgmax && echo 1073741824 > /proc/sys/kernel/msgmnb',
      `"$0" "$1" fill ${key} >&2`,
      `ulimit -v 1450000 && exec "$0" "$1" enomem ${key}`,
    ].join(' && ');
    const run = await runChild<LimitReport & { refused?: Outcome & { length?: number }; received?: string[]; left?: { messages: number; bytes: number } }>(
      'unshare',
      ['-i', 'sh', '-c', script, process.execPath, fixture],
      { timeoutMs: 80_000 },
    );
    expect(run.signal, describeRun(run)).toBeNull();
    expect(run.stderr).not.toMatch(/terminate|bad_alloc/);
    expect(run.code, describeRun(run)).toBe(0);
    const report = run.report!;
    expect(report.error, describeRun(run)).toBeUndefined();
    expect(report.refused).toEqual({ name: 'IpcError', code: 'ENOMEM', syscall: 'msgrcv' });
    expect(report.received!.sort()).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']);
    // The big message was not lost: it is still queued, whole.
    expect(report.left).toEqual({ messages: 1, bytes: 300_000_000 });
  }, 90_000);

  it.each(['nowait', 'wait'])('a large message received (%s) when memory holds its buffer but not a second copy arrives whole, and the process lives', async (how) => {
    // The receive's 128 MiB buffer fits in what is left of the address space (210 MiB), the
    // message's copy into a JS Buffer (100 MB more) would not: node::Buffer::Copy ended the process
    // ("process out of memory") after msgrcv had taken the message. The buffer now goes to JS as it is.
    const key = 0x1e200000 + (process.pid & 0xffff);
    const script = `echo 1073741824 > /proc/sys/kernel/msgmax && echo 1073741824 > /proc/sys/kernel/msgmnb && exec "$0" "$1" copy ${key} ${how}`;
    const run = await runChild<{ fill?: { code: number | null }; waiting?: number; received?: Outcome & { length?: number; intact?: boolean }; left?: { messages: number; bytes: number }; error?: unknown }>(
      'unshare',
      ['-i', 'sh', '-c', script, process.execPath, path.join(fixturesDir, 'message-queue-receive-limit.mjs')],
      { timeoutMs: 60_000 },
    );
    expect(run.signal, describeRun(run)).toBeNull();
    expect(run.stderr).not.toMatch(/out of memory|terminate|bad_alloc/);
    expect(run.code, describeRun(run)).toBe(0);
    const report = run.report!;
    expect(report.error, describeRun(run)).toBeUndefined();
    expect(report.fill?.code, describeRun(run)).toBe(0);
    if (how === 'wait') expect(report.waiting).toBe(1);
    expect(report.received).toEqual({ length: 100_000_000, intact: true });
    expect(report.left).toEqual({ messages: 0, bytes: 0 });
  }, 70_000);

  it('a message longer than the buffer the queue limit suggests arrives whole, never cut (even with noError)', async () => {
    const run = await runInIpcNamespace('grow', 262_144, 1_048_576);
    expect(run.signal, describeRun(run)).toBeNull();
    expect(run.code, describeRun(run)).toBe(0);
    expect(run.report).toMatchObject({ length: 200_000, intact: true, waitedLength: 150_000, cutLength: 100_000 });
  });
});
