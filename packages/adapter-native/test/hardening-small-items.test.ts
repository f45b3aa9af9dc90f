/**
 * Issue 10, item 10, the small ones:
 * - a sparse operation array (`operate([, { index: 1, delta: -1 }])`) was taken as "wait for zero
 *   on semaphore 0" (the hole encoded as zeros): TypeError, on both backends (core's check);
 * - `send(1, detachedUint8Array)` sent an empty message on the native backend: TypeError on both
 *   (core's checkBytes, which every send and write uses);
 * - a native wait that cannot get a thread rejected with EAGAIN like a nowait miss: it now says
 *   `syscall: 'pthread_create'` (and why, in its message), as the TSDoc of the waits documents.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createNativeBackend } from '@ipcx/adapter-native';
import type { IpcBackend, SemaphoreOperation } from '@ipcx/core';
import { createWorkerBackend } from '../../adapter-worker/dist/index.js';
import { describeRun, runFixture } from './fixtures/run-fixture.js';

const backends: Array<[string, IpcBackend]> = [
  ['native', createNativeBackend()],
  ['worker', createWorkerBackend()],
];

/** A view whose ArrayBuffer has been detached (transferred away). */
function detachedBytes(): Uint8Array {
  const bytes = new Uint8Array([1, 2, 3]);
  structuredClone(bytes.buffer, { transfer: [bytes.buffer] });
  expect(bytes.byteLength).toBe(0);
  return bytes;
}

describe.each(backends)('%s backend: misuse is a TypeError, and nothing happens (issue 10, item 10)', (_, ipc) => {
  it('a sparse operation array is a TypeError naming the hole; no operation is applied', async () => {
    const set = await ipc.semaphores.open('private', { size: 2 });
    onTestFinished(async () => {
      await set.remove().catch(() => {});
      await set.close();
    });
    set.setValues([0, 1]);
    // eslint-disable-next-line no-sparse-arrays
    const sparse = [, { index: 1, delta: -1 }] as unknown as SemaphoreOperation[];
    // Read as [{ index: 0, delta: 0 }, { index: 1, delta: -1 }] this would succeed at once
    // (semaphore 0 is zero) and take semaphore 1.
    await expect(set.operate(sparse)).rejects.toThrow(TypeError);
    await expect(set.operate(sparse)).rejects.toThrow(/operations\[0\]/);
    expect(set.values()).toEqual([0, 1]);
  });

  it('send(type, detached Uint8Array) is a TypeError and queues nothing', async () => {
    const queue = await ipc.messageQueues.open(0);
    onTestFinished(async () => {
      await queue.remove().catch(() => {});
      await queue.close();
    });
    await expect(queue.send(1, detachedBytes())).rejects.toThrow(TypeError);
    await expect(queue.send(1, detachedBytes())).rejects.toThrow(/detached/);
    expect((await queue.stat()).messages).toBe(0);
    // An empty view of a live buffer is an empty message, as before.
    await queue.send(1, new Uint8Array(0));
    expect((await queue.receive({ nowait: true })).data.length).toBe(0);
  });

  it('a POSIX queue send and a segment write of a detached view are TypeErrors too', async () => {
    const name = `/ipcx-hardening-detached-${process.pid}`;
    const mq = await ipc.posixMessageQueues.open(name, { create: true, access: 'readwrite' });
    const segment = await ipc.sharedMemory.openSysv('private', { size: 4096 });
    onTestFinished(async () => {
      await mq.close();
      await ipc.posixMessageQueues.unlink(name).catch(() => {});
      await segment.close();
      await ipc.sharedMemory.removeSysv(segment.id).catch(() => {});
    });
    await expect(mq.send(detachedBytes())).rejects.toThrow(TypeError);
    expect(mq.attributes().currentMessages).toBe(0);
    expect(() => segment.write(detachedBytes())).toThrow(TypeError);
  });
});

describe('native: a wait that cannot get a thread is told apart from a nowait miss (issue 10, item 10)', () => {
  it('under a thread limit, wait() rejects EAGAIN with syscall pthread_create; nothing is taken', async () => {
    // RLIMIT_NPROC binds every user but root: the child runs as nobody and lowers its own limit.
    expect(process.getuid?.(), 'this test must run as root to start a child as user nobody').toBe(0);
    const [, , uid, gid] = execFileSync('getent', ['passwd', 'nobody'], { encoding: 'utf8' }).trim().split(':');
    const run = await runFixture<Record<string, { code?: string; syscall?: string; message?: string } | string | number>>('wait-without-thread.mjs', [], {
      uid: Number(uid),
      gid: Number(gid),
      cwd: '/',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    });
    expect(run.signal, describeRun(run)).toBeNull();
    expect(run.code, describeRun(run)).toBe(0);
    const report = run.report!;
    expect(report.error, describeRun(run)).toBeUndefined();
    expect(report.nowaitMiss).toMatchObject({ name: 'IpcError', code: 'EAGAIN', syscall: 'semop' });
    expect(report.noThread).toMatchObject({ name: 'IpcError', code: 'EAGAIN', syscall: 'pthread_create' });
    expect((report.noThread as { message: string }).message).toMatch(/no thread could be started/);
    expect(report).toMatchObject({ afterPost: 2, takeNow: 'took', value: 1 });
  });
});

describe('mapFile on a path that is not a regular file (found by the fuzzer)', () => {
  it('refuses a FIFO at once with EINVAL instead of waiting in open() for a writer', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ipcx-map-fifo-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const run = await runFixture<{ readOnly: string; readWrite: string; timerRan: boolean }>('map-fifo.mjs', [dir], { timeoutMs: 15_000 });
    expect(run.code, describeRun(run)).toBe(0);
    expect(run.report).toEqual({ readOnly: 'IpcError:EINVAL', readWrite: 'IpcError:EINVAL', timerRan: true });
  });
});
