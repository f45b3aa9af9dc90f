/**
 * Futex waits parked in io_uring on the main thread (native/futex_ring.cc), and their fallback to
 * a waiter thread. Each run is a real child process that waits on a System V segment which this
 * process changes and notifies (FUTEX_WAKE across processes), then times out, aborts and closes
 * waits, and reports what the addon held at each step (waits in flight, waiter threads, io_uring
 * descriptors in /proc/self/fd).
 *
 * The ring path expects a kernel that parks futex waits in io_uring (Linux 6.7+, io_uring enabled;
 * the machine these tests run on has 6.18): on one without, the first test fails with opcode 0 and
 * says so, rather than passing without having used the ring.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { createNativeBackend } from '@ipcx/adapter-native';
import { describeRun, runFixture } from './fixtures/run-fixture.js';

const shm = createNativeBackend().sharedMemory;

interface Snapshot {
  opcode: number;
  open: boolean;
  waits: number;
  activeWaits: number;
  waiterThreads: number;
  ringDescriptors: number;
}
interface Report {
  before: Snapshot;
  parked: Snapshot;
  wake: { value?: string; error?: string };
  cell0: number;
  timeout: { value?: string; error?: string };
  timeoutMs: number;
  abortParked: Snapshot;
  abort: { value?: string; error?: string };
  afterAbort: Snapshot;
  close: { value?: string; error?: string };
  afterClose: Snapshot;
  idle: Snapshot;
}

/** Runs the waiter fixture against a fresh segment; wakes its first wait from this process. */
async function runWaiter(env: NodeJS.ProcessEnv) {
  const segment = await shm.openSysv('private', { size: 4096 });
  onTestFinished(async () => {
    await segment.close();
    await shm.removeSysv(segment.id).catch(() => {});
  });
  const cells = new Int32Array(segment.buffer);
  const run = runFixture<Report>('futex-ring-waiter.mjs', [String(segment.id)], { env: { ...process.env, ...env }, timeoutMs: 30_000 });
  // Cell 1 = 1: the child's wait on cell 0 is parked. Then change cell 0 and wake it.
  const deadline = Date.now() + 20_000;
  while (Atomics.load(cells, 1) !== 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  Atomics.store(cells, 0, 7);
  segment.notify(0);
  const result = await run;
  expect(result.code, describeRun(result)).toBe(0);
  return result.report!;
}

describe('futex waits parked in io_uring', () => {
  it('a wait parks in the ring (no waiter thread), is woken by another process, times out, aborts and closes, and the ring closes when idle', async () => {
    const report = await runWaiter({ IPCX_NATIVE_FUTEX_RING: undefined });
    expect(report.before).toMatchObject({ opcode: -1, open: false, waits: 0, ringDescriptors: 0 });
    // opcode 0 here means this kernel could not park a futex wait in io_uring (see the file's comment).
    expect(report.parked.opcode).toBeGreaterThan(0);
    expect(report.parked).toMatchObject({ open: true, waits: 1, activeWaits: 1, waiterThreads: 0, ringDescriptors: 1 });
    expect(report.wake).toEqual({ value: 'ok' });
    expect(report.cell0).toBe(7);
    expect(report.timeout).toEqual({ value: 'timed-out' });
    expect(report.timeoutMs).toBeGreaterThanOrEqual(45);
    expect(report.abortParked).toMatchObject({ waits: 1, waiterThreads: 0 });
    expect(report.abort).toEqual({ error: 'AbortError' });
    expect(report.afterAbort).toMatchObject({ waits: 0, activeWaits: 0 });
    expect(report.close).toEqual({ error: 'EBADF' });
    expect(report.afterClose).toMatchObject({ waits: 0, activeWaits: 0, waiterThreads: 0 });
    // 400 ms without waits: the ring's descriptor is closed.
    expect(report.idle).toMatchObject({ open: false, waits: 0, ringDescriptors: 0 });
  });

  it('with IPCX_NATIVE_FUTEX_RING=0 the same waits run on a waiter thread and behave the same', async () => {
    const report = await runWaiter({ IPCX_NATIVE_FUTEX_RING: '0' });
    expect(report.parked).toMatchObject({ opcode: 0, open: false, waits: 0, activeWaits: 1, ringDescriptors: 0 });
    expect(report.parked.waiterThreads).toBeGreaterThanOrEqual(1);
    expect(report.wake).toEqual({ value: 'ok' });
    expect(report.cell0).toBe(7);
    expect(report.timeout).toEqual({ value: 'timed-out' });
    expect(report.timeoutMs).toBeGreaterThanOrEqual(45);
    expect(report.abort).toEqual({ error: 'AbortError' });
    expect(report.afterAbort).toMatchObject({ activeWaits: 0 });
    expect(report.close).toEqual({ error: 'EBADF' });
    expect(report.afterClose).toMatchObject({ activeWaits: 0 });
    expect(report.idle).toMatchObject({ opcode: 0, open: false, ringDescriptors: 0 });
  });
});
