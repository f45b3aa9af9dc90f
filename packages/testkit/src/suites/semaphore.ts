/**
 * System V semaphore sets, as semop(2) and semctl(2) define them: all-or-nothing operation lists,
 * wait-for-zero, IPC_NOWAIT, semtimedop's EAGAIN on timeout, SEM_UNDO when a process dies,
 * GETNCNT/GETZCNT/GETPID, EIDRM on removal, permissions, and 1,000 cancellable waits.
 * The other side of every cross-process case is a real child from `processes.spawn`.
 */
import { execFileSync } from 'node:child_process';
import { onTestFinished, describe, expect, it } from 'vitest';
import { SEMOPM, SEMVMX, isIpcError, type SemaphoreOperation, type SemaphoreSet, type Semaphores } from '@ipcx/core';
import type { SuiteContext } from '../context.js';
import { LineReader, NOBODY, closeAllAfter, itAsAnotherUser, waitUntil } from '../util.js';
import { hostPid, readOwnSource } from '../host.js';

let keyCounter = 0;

/** A System V key unique to this process and call (the pid keeps concurrent runs apart). */
function uniqueKey(): number {
  return 0x5e000000 | ((hostPid & 0xfff) << 12) | (++keyCounter & 0xfff);
}

/**
 * Removes the set when the test finishes, passed or failed (through a fresh handle if the test
 * closed this one), then closes the handle. A set already removed (by a child, `ipcrm`) is fine.
 */
function removeAfter<T extends SemaphoreSet>(semaphores: () => Semaphores, set: T): T {
  onTestFinished(async () => {
    const handle = set.closed ? await semaphores().openById(set.id).catch(() => undefined) : set;
    if (handle !== undefined) {
      await handle.remove().catch((error: unknown) => {
        if (!isIpcError(error, 'EINVAL') && !isIpcError(error, 'EIDRM')) throw error;
      });
      await handle.close();
    }
    await set.close();
  });
  return set;
}

export function semaphoreSuite(context: SuiteContext): void {
  describe.skipIf(!context.has('semaphore'))('semaphore set', { timeout: 60_000 }, () => {
    const nobody = NOBODY;
    const semaphores = () => context.backend().semaphores;
    const processes = () => context.backend().processes;
    const privateSet = async (size: number) => removeAfter(semaphores, await semaphores().open('private', { size }));
    /** A pipe whose reader gives the JSON lines that children write to its writer. */
    const reportPipe = async () => {
      const [reader, writer] = closeAllAfter(await context.backend().pipes.create());
      return { lines: new LineReader(reader), writer };
    };
    /** Spawns a child that is killed (if still running) when the test finishes, passed or failed. */
    const spawn = async (name: string, args: unknown[], user?: { uid: number; gid: number }) => {
      const child = await processes().spawn(context.child(name), { args, ...(user ? { user } : {}) });
      onTestFinished(() => child[Symbol.asyncDispose]());
      return child;
    };
    const spawnOperate = (set: SemaphoreSet, writer: unknown, label: string, operations: SemaphoreOperation[], holdMs = 0) =>
      spawn('sem-operate', [set, writer, label, operations, holdMs]);

    it('creates by key and IPC_PRIVATE with create, exclusive and mode; EEXIST, ENOENT; opens by key and id', async () => {
      const key = uniqueKey();
      const set = removeAfter(semaphores, await semaphores().open(key, { size: 3, create: true, exclusive: true, mode: 0o640 }));
      expect(set.size).toBe(3);
      expect(set.key).toBe(key);
      expect(set.values()).toEqual([0, 0, 0]);
      const stat = set.stat();
      expect(stat).toMatchObject({ key, size: 3, mode: 0o640 });
      expect(stat.otime).toBeNull();
      expect(stat.ctime).toBeInstanceOf(Date);
      await expect(semaphores().open(key, { size: 3, create: true, exclusive: true })).rejects.toMatchObject({ name: 'IpcError', code: 'EEXIST', syscall: 'semget' });
      await expect(semaphores().open(uniqueKey())).rejects.toMatchObject({ code: 'ENOENT' });
      // A size larger than the existing set's is the kernel's EINVAL.
      await expect(semaphores().open(key, { size: 4 })).rejects.toMatchObject({ code: 'EINVAL' });
      const again = closeAllAfter([await semaphores().open(key), await semaphores().openById(set.id)]);
      for (const handle of again) {
        expect(handle.id).toBe(set.id);
        expect(handle.size).toBe(3);
      }
      // create without exclusive opens the existing set.
      const same = closeAllAfter([await semaphores().open(key, { size: 3, create: true })])[0];
      expect(same.id).toBe(set.id);
      const one = await privateSet(2);
      const two = await privateSet(2);
      expect(one.id).not.toBe(two.id);
      expect(one.stat().key).toBe(0);
      await expect(semaphores().openById(0x7ffffff0)).rejects.toMatchObject({ code: 'EINVAL' });
    });

    it('removes by id without a handle (removeById): waiters get EIDRM, then EINVAL for the id', async () => {
      const set = await privateSet(1);
      const waiting = set.wait(0).catch((error: unknown) => error);
      await waitUntil(() => set.waitingForIncrease(0) === 1, 'the wait is in the kernel');
      await semaphores().removeById(set.id);
      expect(await waiting).toMatchObject({ name: 'IpcError', code: 'EIDRM' });
      await expect(semaphores().openById(set.id)).rejects.toMatchObject({ code: 'EINVAL' });
      await expect(semaphores().removeById(set.id)).rejects.toMatchObject({ name: 'IpcError', code: 'EINVAL', syscall: 'semctl' });
      await expect(semaphores().removeById(2 ** 31)).rejects.toThrow(RangeError);
      await expect(semaphores().removeById(null as unknown as number)).rejects.toThrow(TypeError);
    });

    it('applies a multi-operation call all-or-nothing: a waiting call changes nothing until it can apply everything', async () => {
      const set = await privateSet(2);
      set.setValues([1, 0]);
      // Would take sem 0 but must wait for sem 1: with nowait, nothing is applied, not even the +1.
      await expect(set.operate([{ index: 0, delta: 1 }, { index: 1, delta: -1 }], { nowait: true })).rejects.toMatchObject({ code: 'EAGAIN' });
      expect(set.values()).toEqual([1, 0]);
      const { lines, writer } = await reportPipe();
      const child = await spawnOperate(set, writer, 'both', [{ index: 0, delta: -1 }, { index: 1, delta: -1 }]);
      await waitUntil(() => set.waitingForIncrease(1) === 1, 'the child waits for semaphore 1');
      // The child is inside its semop: semaphore 0, which it could take alone, is untouched.
      expect(set.values()).toEqual([1, 0]);
      expect(set.waitingForIncrease(0)).toBe(0);
      set.post(1);
      expect(await lines.json()).toMatchObject({ label: 'both', ok: true });
      expect(set.values()).toEqual([0, 0]);
      expect(set.lastPid(0)).toBe(child.pid);
      expect(set.lastPid(1)).toBe(child.pid);
      expect(await child.exited).toEqual({ code: 0, signal: null });
    });

    it('wakes a wait-for-zero when another process brings the value to 0, not before', async () => {
      const set = await privateSet(1);
      set.setValue(0, 2);
      const { lines, writer } = await reportPipe();
      const child = await spawnOperate(set, writer, 'zero', [{ index: 0, delta: 0 }]);
      await waitUntil(() => set.waitingForZero(0) === 1, 'the child waits for zero');
      await set.wait(0, 1);
      // At 1 the child still waits.
      expect(set.value(0)).toBe(1);
      expect(set.waitingForZero(0)).toBe(1);
      await set.wait(0, 1);
      expect(await lines.json()).toMatchObject({ label: 'zero', ok: true });
      expect(set.waitingForZero(0)).toBe(0);
      expect(set.lastPid(0)).toBe(child.pid);
      await child.exited;
    });

    it('lets exactly one of two waiters proceed per unit posted', async () => {
      const set = await privateSet(1);
      const { lines, writer } = await reportPipe();
      const children = { a: await spawnOperate(set, writer, 'a', [{ index: 0, delta: -1 }]), b: await spawnOperate(set, writer, 'b', [{ index: 0, delta: -1 }]) };
      await waitUntil(() => set.waitingForIncrease(0) === 2, 'both children wait');
      set.post(0);
      const first = await lines.json<{ label: 'a' | 'b' }>();
      // The winner took the unit; the other is still counted as waiting and nothing is left.
      expect(set.value(0)).toBe(0);
      expect(set.waitingForIncrease(0)).toBe(1);
      expect(set.lastPid(0)).toBe(children[first.label].pid);
      set.post(0);
      const second = await lines.json<{ label: 'a' | 'b' }>();
      expect([first.label, second.label].sort()).toEqual(['a', 'b']);
      expect(set.lastPid(0)).toBe(children[second.label].pid);
      expect(set.value(0)).toBe(0);
      for (const child of Object.values(children)) expect((await child.exited).code).toBe(0);
    });

    it('fails with EAGAIN for IPC_NOWAIT and on timeout (as semtimedop reports it), AbortError on abort; nothing is lost', async () => {
      const set = await privateSet(2);
      await expect(set.wait(0, 1, { nowait: true })).rejects.toMatchObject({ name: 'IpcError', code: 'EAGAIN', syscall: 'semop' });
      // A per-operation IPC_NOWAIT fails the whole call, and the operation before it is not applied.
      await expect(set.operate([{ index: 1, delta: 1 }, { index: 0, delta: -1, nowait: true }])).rejects.toMatchObject({ code: 'EAGAIN' });
      expect(set.values()).toEqual([0, 0]);
      await expect(set.wait(0, 1, { timeout: 30 })).rejects.toMatchObject({ name: 'IpcError', code: 'EAGAIN', syscall: 'semtimedop' });
      await expect(set.waitForZero(1, { timeout: 0 })).resolves.toBeUndefined();
      set.post(1);
      await expect(set.waitForZero(1, { timeout: 0 })).rejects.toMatchObject({ code: 'EAGAIN', syscall: 'semtimedop' });
      const controller = new AbortController();
      const pending = set.wait(0, 2, { signal: controller.signal });
      await waitUntil(() => set.waitingForIncrease(0) === 1, 'the wait is in the kernel');
      controller.abort();
      await expect(pending).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
      expect(set.waitingForIncrease(0)).toBe(0);
      // An already aborted signal fails at once.
      await expect(set.wait(0, 1, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
      // None of the failed or cancelled calls took anything.
      set.post(0, 2);
      expect(set.values()).toEqual([2, 1]);
      await set.wait(0, 2, { timeout: 10_000 });
      expect(set.values()).toEqual([0, 1]);
    });

    it('gives back units taken with SEM_UNDO when the taker is killed with SIGKILL (taken at once and after waiting)', async () => {
      const set = await privateSet(2);
      set.setValues([1, 0]);
      const { lines, writer } = await reportPipe();
      // Semaphore 0: taken at once. Semaphore 1: taken after waiting (by the child's waiter thread).
      const atOnce = await spawnOperate(set, writer, 'now', [{ index: 0, delta: -1, undo: true }], 60_000);
      expect(await lines.json()).toMatchObject({ label: 'now', ok: true });
      const later = await spawnOperate(set, writer, 'later', [{ index: 1, delta: -1, undo: true }], 60_000);
      await waitUntil(() => set.waitingForIncrease(1) === 1, 'the child waits for semaphore 1');
      set.post(1);
      expect(await lines.json()).toMatchObject({ label: 'later', ok: true });
      expect(set.values()).toEqual([0, 0]);
      for (const child of [atOnce, later]) {
        child.kill('SIGKILL');
        // It died holding its units: no clean exit of its main function.
        expect((await child.exited).code).not.toBe(0);
      }
      expect(set.values()).toEqual([1, 1]);
    });

    it('does not give back units taken without SEM_UNDO when the taker is killed', async () => {
      const set = await privateSet(1);
      set.setValue(0, 1);
      const { lines, writer } = await reportPipe();
      const child = await spawnOperate(set, writer, 'plain', [{ index: 0, delta: -1 }], 60_000);
      expect(await lines.json()).toMatchObject({ label: 'plain', ok: true });
      child.kill('SIGKILL');
      await child.exited;
      expect(set.value(0)).toBe(0);
    });

    it('reports GETNCNT, GETZCNT, GETPID, GETALL and SETALL for waiting children and the last process to operate', async () => {
      const set = await privateSet(3);
      set.setValues([3, 0, 5]);
      expect(set.values()).toEqual([3, 0, 5]);
      const { lines, writer } = await reportPipe();
      const taker = await spawnOperate(set, writer, 'taker', [{ index: 1, delta: -2 }]);
      const zero = await spawnOperate(set, writer, 'zero', [{ index: 0, delta: 0 }]);
      await waitUntil(() => set.waitingForIncrease(1) === 1 && set.waitingForZero(0) === 1, 'both children wait');
      expect([set.waitingForIncrease(0), set.waitingForZero(1), set.waitingForIncrease(2), set.waitingForZero(2)]).toEqual([0, 0, 0, 0]);
      // One SETALL satisfies both waiters.
      set.setValues([0, 2, 5]);
      const reports = [await lines.json(), await lines.json()];
      expect(reports.map((report) => report.label).sort()).toEqual(['taker', 'zero']);
      expect(set.values()).toEqual([0, 0, 5]);
      expect(set.lastPid(1)).toBe(taker.pid);
      expect(set.lastPid(0)).toBe(zero.pid);
      expect([set.waitingForIncrease(1), set.waitingForZero(0)]).toEqual([0, 0]);
      expect(set.stat().otime).toBeInstanceOf(Date);
      await Promise.all([taker.exited, zero.exited]);
    });

    it('fails a waiter with EIDRM when another process removes the set', async () => {
      const set = await privateSet(1);
      const pending = set.wait(0);
      await waitUntil(() => set.waitingForIncrease(0) === 1, 'the wait is in the kernel');
      const remover = await spawn('sem-remove', [set]);
      await expect(pending).rejects.toMatchObject({ name: 'IpcError', code: 'EIDRM' });
      expect((await remover.exited).code).toBe(0);
      // The id is gone.
      expect(() => set.value(0)).toThrow(expect.objectContaining({ code: expect.stringMatching(/^(EINVAL|EIDRM)$/) }));
    });

    it('fails a waiting child with EIDRM when this process removes the set', async () => {
      const set = await privateSet(1);
      const { lines, writer } = await reportPipe();
      const child = await spawnOperate(set, writer, 'waiter', [{ index: 0, delta: -1 }]);
      await waitUntil(() => set.waitingForIncrease(0) === 1, 'the child waits');
      await set.remove();
      expect(await lines.json()).toMatchObject({ label: 'waiter', code: 'EIDRM' });
      await child.exited;
    });

    itAsAnotherUser(context, 'refuses a process of another user with EACCES on a 0o600 set; IPC_SET of mode and owner changes that', async () => {
      const key = uniqueKey();
      const set = removeAfter(semaphores, await semaphores().open(key, { size: 1, create: true, exclusive: true, mode: 0o600 }));
      const { lines, writer } = await reportPipe();
      const first = await spawn('sem-access', [writer, set, key, null], nobody);
      expect(await lines.json()).toEqual({ value: 'EACCES', operate: 'EACCES', open: 'EACCES' });
      await first.exited;
      // Read permission for others: reading works, altering still does not.
      set.set({ mode: 0o604 });
      expect(set.stat().mode).toBe(0o604);
      const second = await spawn('sem-access', [writer, set, key, null], nobody);
      expect(await lines.json()).toEqual({ value: 'ok', operate: 'EACCES', open: 'ok' });
      await second.exited;
      expect(set.value(0)).toBe(0);
      // Handing the set to that user (IPC_SET uid/gid) gives it the owner's rw bits.
      set.set({ uid: nobody.uid, gid: nobody.gid });
      expect(set.stat()).toMatchObject({ uid: nobody.uid, gid: nobody.gid, mode: 0o604, cuid: 0 });
      const third = await spawn('sem-access', [writer, set, key, null], nobody);
      expect(await lines.json()).toEqual({ value: 'ok', operate: 'ok', open: 'ok' });
      await third.exited;
      expect(set.value(0)).toBe(1);
      expect(set.lastPid(0)).toBe(third.pid);
    });

    it('rejects values outside 0..SEMVMX: RangeError for arguments, ERANGE from the kernel for results', async () => {
      const set = await privateSet(2);
      expect(() => set.setValue(0, SEMVMX + 1)).toThrow(RangeError);
      expect(() => set.setValue(0, -1)).toThrow(RangeError);
      expect(() => set.setValues([0, SEMVMX + 1])).toThrow(RangeError);
      set.setValue(0, SEMVMX);
      expect(() => set.post(0)).toThrow(expect.objectContaining({ name: 'IpcError', code: 'ERANGE' }));
      await expect(set.operate([{ index: 1, delta: 1 }, { index: 0, delta: 1 }])).rejects.toMatchObject({ code: 'ERANGE' });
      // All-or-nothing: semaphore 1 did not get its unit either.
      expect(set.values()).toEqual([SEMVMX, 0]);
      // A wait whose retry fails with ERANGE ends, and no longer counts as waiting (GETNCNT).
      set.setValues([0, SEMVMX]);
      const failing = set.operate([{ index: 0, delta: -1 }, { index: 1, delta: 1 }]);
      await waitUntil(() => set.waitingForIncrease(0) === 1, 'the wait is in the kernel');
      set.post(0);
      await expect(failing).rejects.toMatchObject({ code: 'ERANGE' });
      expect(set.waitingForIncrease(0)).toBe(0);
      expect(set.values()).toEqual([1, SEMVMX]);
    });

    it('rejects misuse with TypeError/RangeError before any call, too many operations with E2BIG, use after close with EBADF', async () => {
      const set = await privateSet(2);
      await expect(semaphores().open('private', { size: 0 })).rejects.toBeInstanceOf(RangeError);
      await expect(semaphores().open('private', { size: 32001 })).rejects.toBeInstanceOf(RangeError);
      await expect(semaphores().open('private')).rejects.toBeInstanceOf(TypeError);
      await expect(semaphores().open('key' as never, { size: 1 })).rejects.toBeInstanceOf(TypeError);
      await expect(semaphores().open(uniqueKey(), { size: 1, create: true, mode: 0o10000 })).rejects.toBeInstanceOf(RangeError);
      await expect(set.operate([])).rejects.toBeInstanceOf(RangeError);
      await expect(set.operate('ops' as never)).rejects.toBeInstanceOf(TypeError);
      await expect(set.operate([{ index: 2, delta: 1 }])).rejects.toBeInstanceOf(RangeError);
      await expect(set.operate([{ index: -1, delta: 1 }])).rejects.toBeInstanceOf(RangeError);
      await expect(set.operate([{ index: 0, delta: 1.5 }])).rejects.toBeInstanceOf(RangeError);
      await expect(set.operate([{ index: 0, delta: '1' as never }])).rejects.toBeInstanceOf(TypeError);
      await expect(set.operate([{ index: 0, delta: SEMVMX + 1 }])).rejects.toBeInstanceOf(RangeError);
      await expect(set.operate([{ index: 0, delta: 1, undo: 'yes' as never }])).rejects.toBeInstanceOf(TypeError);
      await expect(set.operate([{ index: 0, delta: 1 }], { timeout: -1 })).rejects.toBeInstanceOf(RangeError);
      await expect(set.wait(0, 0)).rejects.toBeInstanceOf(RangeError);
      expect(() => set.value(2)).toThrow(RangeError);
      expect(() => set.setValues([1])).toThrow(RangeError);
      expect(() => set.set({ mode: 0o1000 })).toThrow(RangeError);
      // SEMOPM operations per call is the kernel's limit (a tunable): one more is its E2BIG.
      const tooMany = Array.from({ length: SEMOPM + 1 }, () => ({ index: 0, delta: 1 }));
      await expect(set.operate(tooMany)).rejects.toMatchObject({ code: 'E2BIG' });
      // Nothing was applied by any of the above; the set still works.
      expect(set.values()).toEqual([0, 0]);
      set.post(0);
      // A pending wait ends with EBADF when its handle closes; later calls fail with EBADF.
      const pending = set.wait(1);
      await set.close();
      await expect(pending).rejects.toMatchObject({ code: 'EBADF' });
      expect(set.closed).toBe(true);
      expect(() => set.value(0)).toThrow(expect.objectContaining({ code: 'EBADF' }));
      expect(() => set.post(0)).toThrow(expect.objectContaining({ code: 'EBADF' }));
      await expect(set.wait(0)).rejects.toMatchObject({ code: 'EBADF' });
      await expect(set.remove()).rejects.toMatchObject({ code: 'EBADF' });
      await set.close();
    });

    it('keeps 1,000 waits pending without blocking the event loop, and cancels them all by their AbortSignals', async () => {
      const set = await privateSet(1);
      const count = 1000;
      let ticks = 0;
      const timer = setInterval(() => ticks++, 5);
      onTestFinished(() => clearInterval(timer));
      const controllers = Array.from({ length: count }, () => new AbortController());
      const waits = controllers.map((controller) => set.wait(0, 1, { signal: controller.signal }).then(() => 'took', (error: Error) => error.name));
      await waitUntil(() => set.waitingForIncrease(0) === count, `${count} waits are in the kernel`, 60_000);
      // The event loop still runs timers and completes I/O.
      const ticksBefore = ticks;
      const source = await readOwnSource(import.meta.url);
      expect(source).toContain('1,000 waits');
      await waitUntil(() => ticks > ticksBefore + 2, 'the timer fires while the waits are pending');
      for (const controller of controllers) controller.abort();
      expect(await Promise.all(waits)).toEqual(Array.from({ length: count }, () => 'AbortError'));
      expect(set.waitingForIncrease(0)).toBe(0);
      // No unit was taken by a cancelled wait.
      set.post(0);
      expect(set.value(0)).toBe(1);
    });

    it.skipIf(!context.hasFeature('host-interop'))('is the kernel set that ipcs lists and ipcrm removes; opens and uses a set made by ipcmk', async () => {
      const set = await privateSet(2);
      const pending = set.wait(1);
      await waitUntil(() => set.waitingForIncrease(1) === 1, 'the wait is in the kernel');
      const listed = execFileSync('ipcs', ['-s'], { encoding: 'utf8' });
      expect(listed.split('\n').some((line) => line.trim().split(/\s+/)[1] === String(set.id))).toBe(true);
      execFileSync('ipcrm', ['-s', String(set.id)]);
      await expect(pending).rejects.toMatchObject({ code: 'EIDRM' });
      expect(execFileSync('ipcs', ['-s'], { encoding: 'utf8' }).split('\n').some((line) => line.trim().split(/\s+/)[1] === String(set.id))).toBe(false);

      const made = execFileSync('ipcmk', ['-S', '2'], { encoding: 'utf8' });
      const id = Number(/Semaphore id: (\d+)/.exec(made)?.[1]);
      expect(Number.isInteger(id)).toBe(true);
      const theirs = removeAfter(semaphores, await semaphores().openById(id));
      expect(theirs.size).toBe(2);
      theirs.post(1, 3);
      await theirs.wait(1, 2);
      expect(theirs.values()).toEqual([0, 1]);
      // ipcs sees the values ipcx left.
      const detail = execFileSync('ipcs', ['-s', '-i', String(id)], { encoding: 'utf8' });
      const rows = detail.split('\n').map((line) => line.trim().split(/\s+/)).filter((cells) => cells.length >= 5 && /^\d+$/.test(cells[0]!) && /^\d+$/.test(cells[1]!));
      expect(rows.map((cells) => Number(cells[1]))).toEqual([0, 1]);
    });
  });
}

/** The manifest's use of System V semaphore sets: a unit posted and taken on a new private set. */
export async function semaphoreProbe(context: SuiteContext): Promise<void> {
  const set = await context.backend().semaphores.open('private', { create: true, size: 1 });
  try {
    set.post(0);
    await set.wait(0, 1, { nowait: true });
    expect(set.value(0)).toBe(0);
  } finally {
    await set.remove();
    await set.close();
  }
}
