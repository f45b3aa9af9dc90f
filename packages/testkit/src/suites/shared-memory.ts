/**
 * Shared memory, as the kernel defines it (shmget(2), shmat(2), shmctl(2), shm_open(3), mmap(2)):
 * the same bytes in every process that maps the memory, Atomics across processes, a futex
 * wait/notify on its cells, read-only mappings that refuse writes without killing anyone, stat and
 * remove semantics, and the kernel's error codes.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { ChildProcess, IpcError, PosixSegment, SharedSegment, SysvSegment } from '@ipcx/core';
import type { ProbeReport, ProbeTarget } from '../children/shm-probe.js';
import { OUTCOME_CODES } from '../children/shm-wait.js';
import type { SuiteContext } from '../context.js';
import { NOBODY, closeAllAfter, itAsAnotherUser, readToEnd, sleep, text } from '../util.js';
import { hostPid, onNode, removeFromDisk } from '../host.js';

const PAGE = 4096;

let keyCounter = 0;

/** A System V key unlikely to be used by anyone else: this process's pid and a counter. */
function uniqueKey(): number {
  return (0x5e000000 | ((hostPid & 0xfff) << 12) | (++keyCounter & 0xfff)) >>> 0;
}

/** The inverse of each byte, as the `shm-mirror` child writes it. */
function inverted(bytes: Uint8Array): Uint8Array {
  return bytes.map((byte) => byte ^ 0xff);
}

/** Bytes 0..n-1 of a recognizable pattern. */
function pattern(length: number, seed: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff);
}

function codeOf(error: unknown): string | undefined {
  return (error as Partial<IpcError>).code;
}

/** Polls `check` until it returns true (for states another process reaches), failing after `ms`. */
async function eventually(check: () => Promise<boolean> | boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(10);
  }
}

export function sharedMemorySuite(context: SuiteContext): void {
  describe.skipIf(!context.has('shared-memory'))('shared memory', () => {
    const shm = () => context.backend().sharedMemory;
    const processes = () => context.backend().processes;

    /** Closes the segment and removes it (by id) when the test finishes, passed or failed. */
    function removeSysvAfter<T extends SysvSegment>(segment: T): T {
      const { id } = segment;
      onTestFinished(async () => {
        await segment.close();
        await shm()
          .removeSysv(id)
          .catch((error: unknown) => {
            // Already removed (and gone, or marked): fine.
            if (codeOf(error) !== 'EINVAL' && codeOf(error) !== 'EIDRM') throw error;
          });
      });
      return segment;
    }

    /** Removes the System V segment of `key`, if any, when the test finishes. */
    function removeKeyAfter(key: number): number {
      onTestFinished(async () => {
        const segment = await shm()
          .openSysv(key)
          .catch(() => undefined);
        if (segment === undefined) return;
        await segment.close();
        await segment.remove().catch(() => {});
      });
      return key;
    }

    /** Unlinks the POSIX name (if still there) when the test finishes. */
    function unlinkAfter(name: string): string {
      onTestFinished(async () => {
        await shm()
          .unlinkPosix(name)
          .catch((error: unknown) => {
            if (codeOf(error) !== 'ENOENT') throw error;
          });
      });
      return name;
    }

    /** A temporary path, deleted when the test finishes. */
    function tempFile(label: string): string {
      const path = context.tempPath(label);
      onTestFinished(() => removeFromDisk(path));
      return path;
    }

    function closeAfter<T extends SharedSegment>(segment: T): T {
      onTestFinished(() => segment.close());
      return segment;
    }

    /** Runs the `shm-probe` child and returns its report. */
    async function probe(target: ProbeTarget, length: number, user?: { uid: number; gid: number }): Promise<{ report: ProbeReport; child: ChildProcess }> {
      const [reader, writer] = closeAllAfter(await context.backend().pipes.create());
      const child = await processes().spawn(context.child('shm-probe'), { args: [writer, target, length], ...(user ? { user } : {}) });
      await writer.close();
      const report = JSON.parse(text(await readToEnd(reader)) ?? 'null') as ProbeReport;
      return { report, child };
    }

    /** Parent writes, a child reads and answers, the parent reads the answer. */
    async function mirrorWithChild(segment: SharedSegment): Promise<void> {
      const mine = pattern(256, 7);
      segment.write(mine, 64);
      const child = await processes().spawn(context.child('shm-mirror'), { args: [segment, 64, 256] });
      expect(await child.exited).toEqual({ code: 0, signal: null });
      expect(segment.read(64, 256)).toEqual(mine);
      expect(segment.read(64 + 256, 256)).toEqual(inverted(mine));
      // And through the live buffer, not only copies.
      expect(new Uint8Array(segment.buffer, 64 + 256, 256)).toEqual(inverted(mine));
    }

    describe('bytes across processes', () => {
      it('System V: bytes written by a child are read by the parent and vice versa', async () => {
        const segment = removeSysvAfter(await shm().openSysv('private', { size: PAGE }));
        expect(segment).toMatchObject({ kind: 'sysv', size: PAGE, readOnly: false });
        expect(segment.buffer.byteLength).toBe(PAGE);
        await mirrorWithChild(segment);
      });

      it('POSIX: bytes written by a child are read by the parent and vice versa', async () => {
        const name = unlinkAfter(context.uniqueName('mirror'));
        const segment = closeAfter(await shm().openPosix(name, { create: true, exclusive: true, size: PAGE }));
        expect(segment).toMatchObject({ kind: 'posix', name, size: PAGE, readOnly: false });
        await mirrorWithChild(segment);
        // Another mapping of the same name in this process sees the same bytes.
        const again = closeAfter(await shm().openPosix(name));
        expect(again.size).toBe(PAGE);
        expect(again.read(64 + 256, 256)).toEqual(inverted(pattern(256, 7)));
      });

      it('file mapping: bytes written by a child are read by the parent and vice versa, and reach the file', async () => {
        const path = tempFile('mapped');
        const segment = closeAfter(await shm().mapFile(path, { create: true, size: 2 * PAGE }));
        expect(segment).toMatchObject({ kind: 'file', path, size: 2 * PAGE, readOnly: false });
        await mirrorWithChild(segment);
        if (context.hasFeature('host-interop')) {
          // MAP_SHARED: the writes of both processes are in the file, seen through read(2).
          const onDisk = readFileSync(path);
          expect(onDisk.length).toBe(2 * PAGE);
          expect(new Uint8Array(onDisk.subarray(64, 64 + 256))).toEqual(pattern(256, 7));
          expect(new Uint8Array(onDisk.subarray(64 + 256, 64 + 512))).toEqual(inverted(pattern(256, 7)));
          // And a write to the file through write(2) is seen in the mapping.
          writeFileSync(path, 'written by fs', { flag: 'r+' });
          expect(text(segment.read(0, 13))).toBe('written by fs');
        }
      });

      it('file mapping of an existing file maps its size; read-only mapping of it reads the file', async () => {
        const path = tempFile('existing');
        const created = closeAfter(await shm().mapFile(path, { create: true, size: 100 }));
        created.write('file contents');
        const mapped = closeAfter(await shm().mapFile(path, { readOnly: true }));
        expect(mapped.size).toBe(100);
        expect(text(mapped.read(0, 13))).toBe('file contents');
        // Past the end of a file cannot be mapped read-only (it would raise SIGBUS on access).
        await expect(shm().mapFile(path, { readOnly: true, size: 2 * PAGE })).rejects.toMatchObject({ code: 'EINVAL' });
      });
    });

    it('Atomics.add from 3 processes x 100,000 adds sums exactly', async () => {
      const segment = removeSysvAfter(await shm().openSysv('private', { size: PAGE }));
      const cells = new Int32Array(segment.buffer);
      const SUM = 0;
      const READY = 1;
      const GO = 2;
      const adds = 100_000;
      const children = await Promise.all(
        [1, 2, 3].map(() => processes().spawn(context.child('shm-add'), { args: [segment, adds, SUM, READY, GO] })),
      );
      // Wait until all three are ready, sleeping on the ready cell between their notifies.
      for (let ready = Atomics.load(cells, READY); ready < 3; ready = Atomics.load(cells, READY)) {
        await segment.wait(READY, ready, { timeout: 1000 });
      }
      Atomics.store(cells, GO, 1);
      segment.notify(GO);
      for (const child of children) expect(await child.exited).toEqual({ code: 0, signal: null });
      expect(Atomics.load(cells, SUM)).toBe(3 * adds);
    });

    describe('wait and notify', () => {
      it("a waiter in the parent is woken by a child's notify with 'ok'", async () => {
        const segment = removeSysvAfter(await shm().openSysv('private', { size: PAGE }));
        const cells = new Int32Array(segment.buffer);
        const waiting = segment.wait(4, 0);
        const child = await processes().spawn(context.child('shm-notify'), { args: [segment, 4, 5] });
        expect(await waiting).toBe('ok');
        expect(await child.exited).toEqual({ code: 0, signal: null });
        // The child's notify woke exactly one waiter: this one.
        expect(Atomics.load(cells, 5)).toBe(1);
      });

      it("a waiter in a child is woken by the parent's notify", async () => {
        const name = unlinkAfter(context.uniqueName('wake-child'));
        const segment = closeAfter(await shm().openPosix(name, { create: true, exclusive: true, size: PAGE }));
        const cells = new Int32Array(segment.buffer);
        const child = await processes().spawn(context.child('shm-wait'), { args: [segment, 8, 0, undefined, 9] });
        // The child may not be asleep yet; a notify that found nobody returns 0 and is repeated.
        let woken = 0;
        await eventually(() => (woken = segment.notify(8, 1)) === 1, 'the child waits');
        expect(woken).toBe(1);
        while (Atomics.load(cells, 9) === 0) await segment.wait(9, 0, { timeout: 1000 });
        expect(Atomics.load(cells, 9)).toBe(OUTCOME_CODES.ok);
        expect(await child.exited).toEqual({ code: 0, signal: null });
      });

      it("a child's wait times out with 'timed-out' and sees 'not-equal' for another value", async () => {
        const segment = removeSysvAfter(await shm().openSysv('private', { size: PAGE }));
        const cells = new Int32Array(segment.buffer);
        Atomics.store(cells, 0, 42);
        const timing = await processes().spawn(context.child('shm-wait'), { args: [segment, 0, 42, 50, 1] });
        const differing = await processes().spawn(context.child('shm-wait'), { args: [segment, 0, 41, undefined, 2] });
        expect(await timing.exited).toEqual({ code: 0, signal: null });
        expect(await differing.exited).toEqual({ code: 0, signal: null });
        expect(Atomics.load(cells, 1)).toBe(OUTCOME_CODES['timed-out']);
        expect(Atomics.load(cells, 2)).toBe(OUTCOME_CODES['not-equal']);
      });

      it("answers 'not-equal' at once, 'timed-out' on timeout, AbortError on abort, and leaves no waiter behind", async () => {
        const segment = removeSysvAfter(await shm().openSysv('private', { size: PAGE }));
        const cells = new Int32Array(segment.buffer);
        Atomics.store(cells, 3, -7);
        expect(await segment.wait(3, -6)).toBe('not-equal');
        expect(await segment.wait(3, -7, { timeout: 0 })).toBe('timed-out');
        expect(await segment.wait(3, -7, { timeout: 30 })).toBe('timed-out');
        const controller = new AbortController();
        const pending = segment.wait(3, -7, { signal: controller.signal });
        await sleep(20);
        controller.abort();
        await expect(pending).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
        await expect(segment.wait(3, -7, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
        // The aborted and timed-out waits really left the kernel: nobody is left to wake.
        expect(segment.notify(3)).toBe(0);
      });

      // Measured with Node's process.cpuUsage: a Node-only case.
      it.skipIf(!onNode)('costs no CPU while a waiter sleeps (any spinning is bounded)', async () => {
        const segment = removeSysvAfter(await shm().openSysv('private', { size: PAGE }));
        const cells = new Int32Array(segment.buffer);
        const before = process.cpuUsage();
        const started = performance.now();
        setTimeout(() => {
          Atomics.store(cells, 12, 1);
          segment.notify(12);
        }, 1000);
        expect(await segment.wait(12, 0)).toBe('ok');
        const elapsedMs = performance.now() - started;
        const used = process.cpuUsage(before);
        const cpuMs = (used.user + used.system) / 1000;
        // A spinning waiter would use about as much CPU as time passed; a sleeping one next to none.
        expect(cpuMs).toBeLessThan(elapsedMs * 0.25);
        expect(Atomics.load(cells, 12)).toBe(1);
      });

      it('notify wakes at most count waiters and returns how many it woke', async () => {
        const segment = removeSysvAfter(await shm().openSysv('private', { size: PAGE }));
        expect(segment.notify(6)).toBe(0);
        const settled: string[] = [];
        const waiters = [0, 1, 2].map((i) => segment.wait(6, 0).then((outcome) => settled.push(`${i}:${outcome}`)));
        const counts: number[] = [];
        let total = 0;
        // Waiters reach the kernel at their own pace; wake in twos until all three were woken.
        await eventually(() => {
          const woken = segment.notify(6, 2);
          if (woken > 0) counts.push(woken);
          total += woken;
          return total >= 3;
        }, 'three waiters were woken');
        await Promise.all(waiters);
        expect(total).toBe(3);
        expect(counts.every((count) => count >= 1 && count <= 2)).toBe(true);
        expect(settled.sort()).toEqual(['0:ok', '1:ok', '2:ok']);
        expect(segment.notify(6, 2)).toBe(0);
      });

      it('a wait on a read-only mapping is woken by a writer; notify(index, 0) wakes nobody', async () => {
        const segment = removeSysvAfter(await shm().openSysv('private', { size: PAGE }));
        const reader = closeAfter(await shm().attachSysv(segment.id, { readOnly: true }));
        const waiting = reader.wait(10, 0);
        let finished = false;
        void waiting.then(() => (finished = true));
        await sleep(20);
        expect(segment.notify(10, 0)).toBe(0);
        expect(finished).toBe(false);
        await eventually(() => segment.notify(10) === 1, 'the read-only waiter was woken');
        expect(await waiting).toBe('ok');
      });
    });

    describe('read-only mappings', () => {
      it('System V: a child attached read-only reads but cannot change what the parent sees, and survives', async () => {
        const segment = removeSysvAfter(await shm().openSysv('private', { size: PAGE }));
        const mine = pattern(64, 3);
        segment.write(mine);
        const { report, child } = await probe({ kind: 'sysv', id: segment.id, readOnly: true }, 64);
        expect(report).toEqual({ open: 'ok', bytes: [...mine], buffer: 'EACCES', write: 'EACCES' });
        expect(await child.exited).toEqual({ code: 0, signal: null });
        expect(segment.read(0, 64)).toEqual(mine);
      });

      it('POSIX: a child opening read-only reads but cannot write; a writable child can', async () => {
        const name = unlinkAfter(context.uniqueName('read-only'));
        const segment = closeAfter(await shm().openPosix(name, { create: true, size: PAGE }));
        const mine = pattern(32, 9);
        segment.write(mine);
        const readOnly = await probe({ kind: 'posix', name, readOnly: true }, 32);
        expect(readOnly.report).toEqual({ open: 'ok', bytes: [...mine], buffer: 'EACCES', write: 'EACCES' });
        expect(await readOnly.child.exited).toEqual({ code: 0, signal: null });
        expect(segment.read(0, 32)).toEqual(mine);
        // The control: the same probe with write access does change the bytes.
        const writable = await probe({ kind: 'posix', name }, 32);
        expect(writable.report).toEqual({ open: 'ok', bytes: [...mine], buffer: 'ok', write: 'ok' });
        expect(segment.read(0, 32)).toEqual(new Uint8Array(32).fill(0xdd));
      });

      it('in this process: no buffer (EACCES), write() rejects with EACCES, read() copies', async () => {
        const path = tempFile('read-only');
        const writable = closeAfter(await shm().mapFile(path, { create: true, size: PAGE }));
        writable.write('abc');
        const segment = closeAfter(await shm().mapFile(path, { readOnly: true }));
        expect(segment.readOnly).toBe(true);
        expect(() => segment.buffer).toThrow(expect.objectContaining({ code: 'EACCES' }));
        expect(() => segment.write('x')).toThrow(expect.objectContaining({ code: 'EACCES' }));
        const copy = segment.read(0, 3);
        expect(text(copy)).toBe('abc');
        copy[0] = 0x7a; // a copy: the mapping is untouched
        expect(text(segment.read(0, 3))).toBe('abc');
        writable.write('xyz');
        expect(text(segment.read(0, 3))).toBe('xyz');
      });
    });

    describe('stat and remove', () => {
      it('stat reports size, mode, creator and attachments from two processes', async () => {
        const key = removeKeyAfter(uniqueKey());
        const segment = removeSysvAfter(await shm().openSysv(key, { create: true, exclusive: true, size: 3000, mode: 0o640 }));
        const first = await segment.stat();
        expect(first).toMatchObject({ key, size: 3000, attachments: 1, creatorPid: hostPid, mode: 0o640, removed: false });
        expect(segment.size).toBe(3000);
        const holder = await processes().spawn(context.child('hold'), { args: [60_000, segment] });
        await eventually(async () => (await segment.stat()).attachments === 2, 'the child attached');
        expect((await shm().statSysv(segment.id)).lastPid).toBe(holder.pid);
        holder.kill('SIGKILL');
        await holder.exited;
        // The kernel detaches a process's segments when it dies.
        await eventually(async () => (await segment.stat()).attachments === 1, 'the child detached');
        // Opening by key finds the same segment.
        const again = removeSysvAfter(await shm().openSysv(key));
        expect(again.id).toBe(segment.id);
      });

      it('a removed segment stays usable by attached processes until the last detaches, then is gone', async () => {
        const key = removeKeyAfter(uniqueKey());
        const segment = removeSysvAfter(await shm().openSysv(key, { create: true, exclusive: true, size: PAGE }));
        const { id } = segment;
        const mine = pattern(100, 1);
        segment.write(mine, 0);
        const GO = 512;
        const child = await processes().spawn(context.child('shm-mirror'), { args: [segment, 0, 100, GO] });
        await eventually(async () => (await segment.stat()).attachments === 2, 'the child attached');
        await segment.remove();
        const marked = await segment.stat();
        expect(marked).toMatchObject({ removed: true, key: 0, attachments: 2 });
        // The key is free at once.
        await expect(shm().openSysv(key)).rejects.toMatchObject({ code: 'ENOENT' });
        // While attachments remain, Linux still lets a process attach it by id (shmctl(2), NOTES).
        const late = await shm().attachSysv(id);
        expect(late.read(0, 100)).toEqual(mine);
        await late.close();
        // Both processes keep using the memory: the child works only now.
        Atomics.store(new Int32Array(segment.buffer), GO, 1);
        segment.notify(GO);
        expect(await child.exited).toEqual({ code: 0, signal: null });
        expect(segment.read(100, 100)).toEqual(inverted(mine));
        await segment.close();
        // The last detach destroyed it: no stat, no new attach.
        const statError = await shm().statSysv(id).catch((error: unknown) => error);
        expect(['EINVAL', 'EIDRM']).toContain(codeOf(statError));
        const attachError = await shm().attachSysv(id).catch((error: unknown) => error);
        expect(attachError).toMatchObject({ name: 'IpcError', syscall: 'shmat' });
        expect(['EINVAL', 'EIDRM']).toContain(codeOf(attachError));
      });

      it('POSIX unlink removes the name; existing mappings keep working', async () => {
        const name = unlinkAfter(context.uniqueName('unlink'));
        const segment = closeAfter(await shm().openPosix(name, { create: true, size: PAGE }));
        segment.write('still here');
        await segment.unlink();
        await expect(shm().openPosix(name)).rejects.toMatchObject({ code: 'ENOENT' });
        await expect(segment.unlink()).rejects.toMatchObject({ code: 'ENOENT' });
        expect(text(segment.read(0, 10))).toBe('still here');
      });
    });

    describe('errors', () => {
      itAsAnotherUser(context, 'EACCES for a 0o600 segment or object opened by a child running as another user', async () => {
        const closed = removeSysvAfter(await shm().openSysv('private', { size: PAGE, mode: 0o600 }));
        const denied = await probe({ kind: 'sysv', id: closed.id }, 4, NOBODY);
        expect(denied.report).toEqual({ open: 'EACCES' });
        expect(await denied.child.exited).toEqual({ code: 0, signal: null });
        // The control: with permission for others, the same child attaches.
        const open = removeSysvAfter(await shm().openSysv('private', { size: PAGE, mode: 0o606 }));
        const allowed = await probe({ kind: 'sysv', id: open.id }, 4, NOBODY);
        expect(allowed.report).toMatchObject({ open: 'ok', write: 'ok' });

        const name = unlinkAfter(context.uniqueName('denied'));
        closeAfter(await shm().openPosix(name, { create: true, size: PAGE, mode: 0o600 }));
        expect((await probe({ kind: 'posix', name }, 4, NOBODY)).report).toEqual({ open: 'EACCES' });
      });

      it('EEXIST on create + exclusive when the key or name exists', async () => {
        const key = removeKeyAfter(uniqueKey());
        removeSysvAfter(await shm().openSysv(key, { create: true, exclusive: true, size: PAGE }));
        await expect(shm().openSysv(key, { create: true, exclusive: true, size: PAGE })).rejects.toMatchObject({ name: 'IpcError', code: 'EEXIST', syscall: 'shmget' });
        // Without exclusive, create opens the existing one.
        const same = removeSysvAfter(await shm().openSysv(key, { create: true, size: PAGE }));
        expect(same.size).toBe(PAGE);

        const name = unlinkAfter(context.uniqueName('exists'));
        closeAfter(await shm().openPosix(name, { create: true, exclusive: true, size: PAGE }));
        await expect(shm().openPosix(name, { create: true, exclusive: true, size: PAGE })).rejects.toMatchObject({ code: 'EEXIST', syscall: 'shm_open' });
      });

      it('ENOENT when opening a missing key, name or file', async () => {
        await expect(shm().openSysv(uniqueKey())).rejects.toMatchObject({ name: 'IpcError', code: 'ENOENT', syscall: 'shmget' });
        await expect(shm().openPosix(context.uniqueName('missing'))).rejects.toMatchObject({ code: 'ENOENT', syscall: 'shm_open' });
        await expect(shm().mapFile(context.tempPath('missing'))).rejects.toMatchObject({ code: 'ENOENT', syscall: 'open' });
        await expect(shm().unlinkPosix(context.uniqueName('missing'))).rejects.toMatchObject({ code: 'ENOENT' });
      });

      it('EINVAL for sizes the kernel refuses, and nothing is left behind', async () => {
        await expect(shm().openSysv('private', { size: 0 })).rejects.toMatchObject({ code: 'EINVAL', syscall: 'shmget' });
        const key = removeKeyAfter(uniqueKey());
        removeSysvAfter(await shm().openSysv(key, { create: true, size: PAGE }));
        // Larger than the existing segment.
        await expect(shm().openSysv(key, { size: 2 * PAGE })).rejects.toMatchObject({ code: 'EINVAL' });
        const name = unlinkAfter(context.uniqueName('zero'));
        await expect(shm().openPosix(name, { create: true, size: 0 })).rejects.toMatchObject({ code: 'EINVAL' });
        // The object that could not be mapped was not left behind under its name.
        await expect(shm().openPosix(name)).rejects.toMatchObject({ code: 'ENOENT' });
        const path = tempFile('empty');
        closeAfter(await shm().mapFile(path, { create: true, size: 8 })).write('x');
        await expect(shm().mapFile(path, { size: 0 })).rejects.toMatchObject({ code: 'EINVAL' });
      });

      it('rejects misuse with TypeError/RangeError before any system call', async () => {
        const segment = removeSysvAfter(await shm().openSysv('private', { size: 64 }));
        await expect(shm().openSysv('shared' as never, { size: 64 })).rejects.toBeInstanceOf(TypeError);
        await expect(shm().openSysv(1.5)).rejects.toBeInstanceOf(RangeError);
        await expect(shm().openSysv('private')).rejects.toBeInstanceOf(TypeError);
        await expect(shm().openSysv('private', { size: -1 })).rejects.toBeInstanceOf(RangeError);
        await expect(shm().openSysv('private', { size: 64, mode: 0o1777 })).rejects.toBeInstanceOf(RangeError);
        await expect(shm().openSysv('private', { size: 64, readOnly: 'yes' as never })).rejects.toBeInstanceOf(TypeError);
        await expect(shm().attachSysv(-1)).rejects.toBeInstanceOf(RangeError);
        await expect(shm().openPosix('no-slash')).rejects.toBeInstanceOf(RangeError);
        await expect(shm().openPosix('/a/b')).rejects.toBeInstanceOf(RangeError);
        await expect(shm().openPosix(42 as never)).rejects.toBeInstanceOf(TypeError);
        await expect(shm().openPosix(context.uniqueName('x'), { create: true })).rejects.toBeInstanceOf(TypeError);
        await expect(shm().mapFile('')).rejects.toBeInstanceOf(RangeError);
        await expect(shm().mapFile(context.tempPath('never-made'), { create: true })).rejects.toBeInstanceOf(TypeError);
        await expect(segment.wait(16, 0)).rejects.toBeInstanceOf(RangeError); // 64 bytes = cells 0..15
        await expect(segment.wait(-1, 0)).rejects.toBeInstanceOf(RangeError);
        await expect(segment.wait(0, 2 ** 31)).rejects.toBeInstanceOf(RangeError);
        await expect(segment.wait(0, 0, { timeout: -1 })).rejects.toBeInstanceOf(RangeError);
        await expect(segment.wait(0, 0, { signal: 'x' as never })).rejects.toBeInstanceOf(TypeError);
        expect(() => segment.notify(0.5)).toThrow(RangeError);
        expect(() => segment.notify(0, -1)).toThrow(RangeError);
        expect(() => segment.read(65)).toThrow(RangeError);
        expect(() => segment.read(60, 5)).toThrow(RangeError);
        expect(() => segment.write(new Uint8Array(10), 60)).toThrow(RangeError);
        expect(() => segment.write(42 as never)).toThrow(TypeError);
        // Still fully usable.
        expect(segment.write('ok', 62)).toBe(2);
        expect(text(segment.read(62))).toBe('ok');
      });

      it('rejects use after close with EBADF; the buffer and its views are detached', async () => {
        const segment = removeSysvAfter(await shm().openSysv('private', { size: PAGE }));
        const view = new Uint8Array(segment.buffer);
        const cells = new Int32Array(segment.buffer);
        view[0] = 1;
        const pending = segment.wait(1, 0);
        await segment.close();
        expect(segment.closed).toBe(true);
        await expect(pending).rejects.toMatchObject({ code: 'EBADF' });
        // No JS engine can detach a SharedArrayBuffer (the worker backend's segments are ones):
        // there, views made before close keep the (still allocated) memory. Any other buffer must be detached.
        if (!(view.buffer instanceof SharedArrayBuffer)) {
          expect(view.length).toBe(0);
          expect(cells.length).toBe(0);
          expect(view[0]).toBeUndefined();
        }
        expect(() => segment.buffer).toThrow(expect.objectContaining({ code: 'EBADF' }));
        expect(() => segment.read()).toThrow(expect.objectContaining({ code: 'EBADF' }));
        expect(() => segment.write('x')).toThrow(expect.objectContaining({ code: 'EBADF' }));
        expect(() => segment.notify(0)).toThrow(expect.objectContaining({ code: 'EBADF' }));
        await expect(segment.wait(0, 0)).rejects.toMatchObject({ code: 'EBADF' });
        await segment.close(); // a second close does nothing
        // The segment itself outlives the handle.
        expect((await segment.stat()).attachments).toBe(0);
      });
    });

    describe.skipIf(!context.hasFeature('host-interop'))('host interop', () => {
      it('a System V segment shows in `ipcs -m`, and `ipcrm -m` removes it', async () => {
        const segment = removeSysvAfter(await shm().openSysv('private', { size: 12345, mode: 0o640 }));
        const line = execFileSync('ipcs', ['-m'], { encoding: 'utf8' })
          .split('\n')
          .map((row) => row.trim().split(/\s+/))
          .find((columns) => columns[1] === String(segment.id));
        // key shmid owner perms bytes nattch
        expect(line?.slice(3, 6)).toEqual(['640', '12345', '1']);
        execFileSync('ipcrm', ['-m', String(segment.id)]);
        expect(await segment.stat()).toMatchObject({ removed: true });
        segment.write('usable until detached');
        await segment.close();
        await expect(shm().statSysv(segment.id)).rejects.toMatchObject({ name: 'IpcError' });
        expect(execFileSync('ipcs', ['-m'], { encoding: 'utf8' }).split('\n').some((row) => row.trim().split(/\s+/)[1] === String(segment.id))).toBe(false);
      });

      it("a POSIX object is shared with Python's multiprocessing.shared_memory", async () => {
        const name = unlinkAfter(context.uniqueName('python'));
        const segment: PosixSegment = closeAfter(await shm().openPosix(name, { create: true, exclusive: true, size: PAGE }));
        segment.write('hello from ipcx');
        const script = [
          'import sys',
          'from multiprocessing import shared_memory, resource_tracker',
          'name = sys.argv[1]',
          'try:',
          '    shm = shared_memory.SharedMemory(name=name, track=False)',
          'except TypeError:',
          // Before 3.13 every attach registers with the resource tracker, which would unlink
          // the object when this interpreter exits.
          '    shm = shared_memory.SharedMemory(name=name)',
          "    resource_tracker.unregister(shm._name, 'shared_memory')",
          'got = bytes(shm.buf[:15]).decode()',
          "answer = ('python read: ' + got).encode()",
          'shm.buf[100:100 + len(answer)] = answer',
          'print(shm.size, got)',
          'shm.close()',
        ].join('\n');
        // Python's names have no leading '/'.
        const output = execFileSync('python3', ['-c', script, name.slice(1)], { encoding: 'utf8' });
        expect(output.trim()).toBe(`${PAGE} hello from ipcx`);
        expect(text(segment.read(100, 28))).toBe('python read: hello from ipcx');
        // Python did not unlink it on exit.
        expect(existsSync(`/dev/shm${name}`)).toBe(true);
      });
    });
  });
}

/** The manifest's use of shared memory: bytes written and read back in a new private segment. */
export async function sharedMemoryProbe(context: SuiteContext): Promise<void> {
  const segment = await context.backend().sharedMemory.openSysv('private', { create: true, size: 4096 });
  try {
    segment.write('manifest', 100);
    expect(text(segment.read(100, 8))).toBe('manifest');
  } finally {
    await segment.remove();
    await segment.close();
  }
}
