/**
 * POSIX named semaphores, as sem_overview(7) defines them: one counter per name shared by every
 * process that opens it; wait/trywait/timedwait/post/getvalue; create/exclusive/permissions;
 * unlink. The other side of every cross-process case is a real child from `processes.spawn`.
 */
import { onTestFinished, describe, expect, it } from 'vitest';
import { POSIX_SEMAPHORE_ALIGN, POSIX_SEMAPHORE_BYTES, SEM_VALUE_MAX, isIpcError, type PosixSemaphore, type PosixSemaphoreOpenOptions } from '@ipcx/core';
import type { SuiteContext } from '../context.js';
import { LineReader, closeAfter, closeAllAfter, itAsAnotherUser, waitUntil } from '../util.js';

export function posixSemaphoreSuite(context: SuiteContext): void {
  describe.skipIf(!context.has('posix-semaphore'))('POSIX semaphore', { timeout: 60_000 }, () => {
    const posixSemaphores = () => context.backend().posixSemaphores;
    /** A fresh name, unlinked when the test finishes (passed or failed) unless already gone. */
    const freshName = (label: string) => {
      const name = context.uniqueName(label);
      onTestFinished(async () => {
        await posixSemaphores().unlink(name).catch((error: unknown) => {
          if (!isIpcError(error, 'ENOENT')) throw error;
        });
      });
      return name;
    };
    /** Opens and closes the handle when the test finishes. */
    const open = async (name: string, options?: PosixSemaphoreOpenOptions) => closeAfter(await posixSemaphores().open(name, options));
    const reportPipe = async () => {
      const [reader, writer] = closeAllAfter(await context.backend().pipes.create());
      return { lines: new LineReader(reader), writer };
    };
    /** Spawns a child that is killed (if still running) when the test finishes. */
    const spawn = async (name: string, args: unknown[], user?: { uid: number; gid: number }) => {
      const child = await context.backend().processes.spawn(context.child(name), { args, ...(user ? { user } : {}) });
      onTestFinished(() => child[Symbol.asyncDispose]());
      return child;
    };

    it('creates with create, exclusive, mode and an initial value; EEXIST, ENOENT; unlink removes the name only', async () => {
      const name = freshName('create');
      const semaphore = await open(name, { create: true, exclusive: true, mode: 0o640, initial: 2 });
      expect(semaphore.name).toBe(name);
      expect(semaphore.value()).toBe(2);
      await expect(posixSemaphores().open(name, { create: true, exclusive: true })).rejects.toMatchObject({ name: 'IpcError', code: 'EEXIST', syscall: 'sem_open' });
      // create without exclusive opens the existing one; its initial value is ignored.
      const again = await open(name, { create: true, initial: 7 });
      expect(again.value()).toBe(2);
      // Two handles, one counter.
      again.post();
      expect(semaphore.value()).toBe(3);
      await posixSemaphores().unlink(name);
      await expect(posixSemaphores().open(name)).rejects.toMatchObject({ code: 'ENOENT', syscall: 'sem_open' });
      await expect(posixSemaphores().unlink(name)).rejects.toMatchObject({ code: 'ENOENT', syscall: 'sem_unlink' });
      // Open handles keep working after the unlink.
      await semaphore.wait({ nowait: true });
      expect(again.value()).toBe(2);
      // The name is free again: a new, different semaphore.
      const fresh = await open(name, { create: true, exclusive: true });
      expect(fresh.value()).toBe(0);
      await expect(posixSemaphores().open(context.uniqueName('missing'))).rejects.toMatchObject({ code: 'ENOENT' });
    });

    it('waits, posts and counts: trywait, nowait EAGAIN, timedwait ETIMEDOUT, abort; nothing lost', async () => {
      const semaphore = await open(freshName('basic'), { create: true, initial: 1 });
      expect(semaphore.tryWait()).toBe(true);
      expect(semaphore.tryWait()).toBe(false);
      await expect(semaphore.wait({ nowait: true })).rejects.toMatchObject({ name: 'IpcError', code: 'EAGAIN', syscall: 'sem_trywait' });
      await expect(semaphore.wait({ timeout: 30 })).rejects.toMatchObject({ name: 'IpcError', code: 'ETIMEDOUT', syscall: 'sem_timedwait' });
      await expect(semaphore.wait({ timeout: 0 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
      const controller = new AbortController();
      const aborted = semaphore.wait({ signal: controller.signal });
      controller.abort();
      await expect(aborted).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
      await expect(semaphore.wait({ signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
      // A pending wait is woken by a post.
      const pending = semaphore.wait();
      semaphore.post();
      await pending;
      expect(semaphore.value()).toBe(0);
      for (let i = 0; i < 3; i++) semaphore.post();
      expect(semaphore.value()).toBe(3);
      await semaphore.wait({ timeout: 10_000 });
      expect(semaphore.value()).toBe(2);
    });

    it('travels to a child by name: a post here wakes the child, the child\'s posts wake this process', async () => {
      const name = freshName('travel');
      const semaphore = await open(name, { create: true });
      const { lines, writer } = await reportPipe();
      const waiter = await spawn('sem-posix', [semaphore, writer, 'waiter', 'wait', -1]);
      // The child blocks in sem_wait (value stays 0) until we post.
      await expect(lines.next({ timeout: 200 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
      semaphore.post();
      expect(await lines.json()).toEqual({ label: 'waiter', ok: true });
      expect(semaphore.value()).toBe(0);
      await waiter.exited;
      const mine = semaphore.wait({ timeout: 20_000 });
      const poster = await spawn('sem-posix', [semaphore, writer, 'poster', 'post', 2]);
      await mine;
      expect(await lines.json()).toEqual({ label: 'poster', ok: true });
      expect(semaphore.value()).toBe(1);
      // A timed wait in the child reports the kernel's ETIMEDOUT.
      semaphore.tryWait();
      const timed = await spawn('sem-posix', [semaphore, writer, 'timed', 'wait', 50]);
      expect(await lines.json()).toEqual({ label: 'timed', code: 'ETIMEDOUT' });
      for (const child of [poster, timed]) expect((await child.exited).code).toBe(0);
    });

    it('lets at most 3 of 5 processes in at once through a semaphore of 3', async () => {
      const semaphore = await open(freshName('count'), { create: true, initial: 3 });
      const gate = await open(freshName('gate'), { create: true });
      const [reader, writer] = closeAllAfter(await context.backend().pipes.create());
      const lines = new LineReader(reader);
      const workers = 5;
      const rounds = 4;
      const children = await Promise.all(Array.from({ length: workers }, (_, id) => spawn('sem-posix-worker', [semaphore, gate, writer, id, rounds, 40])));
      await writer.close();
      for (let i = 0; i < workers; i++) expect(await lines.next()).toMatch(/^ready \d$/);
      for (let i = 0; i < workers; i++) gate.post();
      const events = await lines.rest();
      expect(events).toHaveLength(workers * rounds * 2);
      let inside = 0;
      let most = 0;
      const perWorker = new Map<string, number>();
      for (const event of events) {
        const [what, id] = event.split(' ');
        inside += what === 'enter' ? 1 : -1;
        most = Math.max(most, inside);
        expect(inside).toBeGreaterThanOrEqual(0);
        expect(inside).toBeLessThanOrEqual(3);
        if (what === 'enter') perWorker.set(id!, (perWorker.get(id!) ?? 0) + 1);
      }
      // More than one at a time (it is a counting semaphore, not a lock), never more than 3.
      expect(most).toBeGreaterThanOrEqual(2);
      expect(most).toBeLessThanOrEqual(3);
      expect([...perWorker.values()]).toEqual(Array.from({ length: workers }, () => rounds));
      expect(semaphore.value()).toBe(3);
      for (const child of children) expect((await child.exited).code).toBe(0);
    });

    itAsAnotherUser(context, 'refuses a process of another user with EACCES on a 0o600 semaphore', async () => {
      const name = freshName('private');
      await open(name, { create: true, mode: 0o600 });
      const { lines, writer } = await reportPipe();
      const child = await spawn('sem-access', [writer, null, null, name], { uid: 65534, gid: 65534 });
      expect(await lines.json()).toEqual({ posixOpen: 'EACCES' });
      await child.exited;
    });

    it('rejects misuse with TypeError/RangeError before any call, EOVERFLOW at SEM_VALUE_MAX, use after close with EBADF', async () => {
      const name = freshName('misuse');
      await expect(posixSemaphores().open(42 as never)).rejects.toBeInstanceOf(TypeError);
      await expect(posixSemaphores().open('')).rejects.toBeInstanceOf(RangeError);
      await expect(posixSemaphores().open(name, { create: true, initial: -1 })).rejects.toBeInstanceOf(RangeError);
      await expect(posixSemaphores().open(name, { create: true, initial: SEM_VALUE_MAX + 1 })).rejects.toBeInstanceOf(RangeError);
      await expect(posixSemaphores().open(name, { create: true, initial: 1.5 })).rejects.toBeInstanceOf(RangeError);
      await expect(posixSemaphores().open(name, { create: true, mode: 0o10000 })).rejects.toBeInstanceOf(RangeError);
      await expect(posixSemaphores().open(name, { create: 'yes' as never })).rejects.toBeInstanceOf(TypeError);
      await expect(posixSemaphores().unlink(7 as never)).rejects.toBeInstanceOf(TypeError);
      const full = await open(name, { create: true, initial: SEM_VALUE_MAX });
      await expect(full.wait({ timeout: -1 })).rejects.toBeInstanceOf(RangeError);
      await expect(full.wait({ signal: 'x' as never })).rejects.toBeInstanceOf(TypeError);
      expect(() => full.post()).toThrow(expect.objectContaining({ name: 'IpcError', code: 'EOVERFLOW', syscall: 'sem_post' }));
      expect(full.value()).toBe(SEM_VALUE_MAX);
      const semaphore: PosixSemaphore = await open(freshName('closing'), { create: true });
      // A pending wait ends with EBADF when its handle closes; later calls fail with EBADF.
      const pending = semaphore.wait();
      await semaphore.close();
      await expect(pending).rejects.toMatchObject({ code: 'EBADF' });
      expect(semaphore.closed).toBe(true);
      await expect(semaphore.wait()).rejects.toMatchObject({ code: 'EBADF' });
      expect(() => semaphore.post()).toThrow(expect.objectContaining({ code: 'EBADF' }));
      expect(() => semaphore.value()).toThrow(expect.objectContaining({ code: 'EBADF' }));
      expect(() => semaphore.tryWait()).toThrow(expect.objectContaining({ code: 'EBADF' }));
      await semaphore.close();
    });

    describe.skipIf(!context.has('shared-memory'))('unnamed, inside a shared segment', () => {
      /** A private System V segment of one page, removed and closed when the test finishes. */
      const segmentOfOnePage = async () => {
        const segment = closeAfter(await context.backend().sharedMemory.openSysv('private', { size: 4096, create: true }));
        onTestFinished(() => segment.remove().catch(() => {}));
        return segment;
      };

      it('orders two processes that map the same segment', async () => {
        const segment = await segmentOfOnePage();
        const ready = closeAfter(await posixSemaphores().init(segment, 0, 0));
        const done = closeAfter(await posixSemaphores().init(segment, POSIX_SEMAPHORE_BYTES, 0));
        expect(ready.name).toBe('');
        expect(ready.value()).toBe(0);
        const child = await spawn('sem-unnamed', [segment, ready, done]);
        segment.write('hello from the parent\0', 64);
        ready.post();
        await done.wait({ timeout: 10_000 });
        const reply = segment.read(128, 64);
        expect(new TextDecoder().decode(reply.subarray(0, reply.indexOf(0)))).toBe('ack: hello from the parent');
        expect((await child.exited).code).toBe(0);
        expect(ready.value()).toBe(0);
      });

      it('is one counter for every handle on it; attach sees what init made', async () => {
        const segment = await segmentOfOnePage();
        const made = closeAfter(await posixSemaphores().init(segment, 8 * POSIX_SEMAPHORE_ALIGN, 2));
        const other = closeAfter(await posixSemaphores().attach(segment, 8 * POSIX_SEMAPHORE_ALIGN));
        expect(other.value()).toBe(2);
        expect(other.tryWait()).toBe(true);
        expect(made.value()).toBe(1);
        await made.wait();
        // Now zero: a wait through one handle is released by a post through the other.
        const waiting = other.wait({ timeout: 10_000 });
        made.post();
        await waiting;
        expect(made.value()).toBe(0);
      });

      it('closes with its segment: a pending wait rejects with EBADF', async () => {
        const segment = await segmentOfOnePage();
        const semaphore = await posixSemaphores().init(segment, 0, 0);
        const pending = semaphore.wait();
        await segment.close();
        await expect(pending).rejects.toMatchObject({ code: 'EBADF' });
        expect(semaphore.closed).toBe(true);
      });

      it('rejects a misplaced offset, a read-only or closed segment, and a foreign object', async () => {
        const segment = await segmentOfOnePage();
        await expect(posixSemaphores().init(segment, 4)).rejects.toBeInstanceOf(RangeError);
        await expect(posixSemaphores().init(segment, 4096 - POSIX_SEMAPHORE_BYTES + POSIX_SEMAPHORE_ALIGN)).rejects.toBeInstanceOf(RangeError);
        await expect(posixSemaphores().init(segment, -8)).rejects.toBeInstanceOf(RangeError);
        await expect(posixSemaphores().init(segment, 0, -1)).rejects.toBeInstanceOf(RangeError);
        await expect(posixSemaphores().attach({} as never, 0)).rejects.toBeInstanceOf(TypeError);
        const readOnly = closeAfter(await context.backend().sharedMemory.attachSysv((segment as unknown as { id: number }).id, { readOnly: true }));
        await expect(posixSemaphores().attach(readOnly, 0)).rejects.toMatchObject({ code: 'EACCES' });
        await readOnly.close();
        await expect(posixSemaphores().attach(readOnly, 0)).rejects.toMatchObject({ code: 'EBADF' });
      });
    });
  });
}

/** The manifest's use of POSIX semaphores: a unit posted and taken on a new named one, then unlinked. */
export async function posixSemaphoreProbe(context: SuiteContext): Promise<void> {
  const semaphores = context.backend().posixSemaphores;
  const name = context.uniqueName('manifest');
  const semaphore = await semaphores.open(name, { create: true, exclusive: true, initial: 0 });
  try {
    semaphore.post();
    await semaphore.wait({ nowait: true });
    expect(semaphore.value()).toBe(0);
  } finally {
    await semaphore.close();
    await semaphores.unlink(name);
  }
}
