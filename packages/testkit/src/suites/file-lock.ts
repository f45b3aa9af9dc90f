/**
 * Advisory file locks, as fcntl(2) defines open file description locks (F_OFD_SETLK,
 * F_OFD_SETLKW, F_OFD_GETLK): shared locks coexist, an exclusive lock excludes, ranges that do
 * not overlap coexist, one description never conflicts with itself (conversions, sub-range
 * unlocks, merged records), waits end by release, timeout, abort or close, and the kernel releases
 * a dead holder's locks. The other side of every cross-process case is a child from
 * `processes.spawn`; with host interop, a Python program calling fcntl directly.
 */
import { spawn as spawnProgram, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { onTestFinished, describe, expect, it } from 'vitest';
import { isIpcError, type FileLockOptions, type LockFile, type LockFileOpenOptions } from '@ipcx/core';
import type { SuiteContext } from '../context.js';
import { LineReader, closeAfter, closeAllAfter } from '../util.js';

/**
 * A program that is not ipcx: Python's fcntl with the kernel's struct flock. `hold-ofd` /
 * `hold-classic` take an exclusive lock on the whole file (F_OFD_SETLK, or the traditional
 * process-owned F_SETLK), print `locked` and hold it until stdin closes. `probe` prints what
 * F_OFD_GETLK reports for an exclusive lock on the whole file, then whether a shared lock on the
 * whole file and an exclusive lock on byte 15 can be taken (F_OFD_SETLK).
 */
const PYTHON_PEER = `
import errno, fcntl, json, os, struct, sys
FLOCK = '=hh4xqqi4x'  # struct flock on 64-bit Linux: l_type, l_whence, l_start, l_len, l_pid
path, mode = sys.argv[1], sys.argv[2]
fd = os.open(path, os.O_RDWR)
def lock(cmd, kind, start, length):
    return struct.unpack(FLOCK, fcntl.fcntl(fd, cmd, struct.pack(FLOCK, kind, os.SEEK_SET, start, length, 0)))
def attempt(kind, start, length):
    try:
        lock(fcntl.F_OFD_SETLK, kind, start, length)
        return 'ok'
    except OSError as error:
        return errno.errorcode.get(error.errno, str(error.errno))
if mode == 'probe':
    kind, _, start, length, pid = lock(fcntl.F_OFD_GETLK, fcntl.F_WRLCK, 0, 0)
    names = {fcntl.F_RDLCK: 'shared', fcntl.F_WRLCK: 'exclusive', fcntl.F_UNLCK: 'none'}
    print(json.dumps({'holder': names[kind], 'start': start, 'length': length, 'pid': pid, 'shared': attempt(fcntl.F_RDLCK, 0, 0), 'byte15': attempt(fcntl.F_WRLCK, 15, 1)}), flush=True)
else:
    lock(fcntl.F_OFD_SETLK if mode == 'hold-ofd' else fcntl.F_SETLK, fcntl.F_WRLCK, 0, 0)
    print('locked', flush=True)
    sys.stdin.read()
`;

export function fileLockSuite(context: SuiteContext): void {
  describe.skipIf(!context.has('file-lock'))('file lock', { timeout: 60_000 }, () => {
    const fileLocks = () => context.backend().fileLocks;
    /** A fresh lock file path, removed when the test finishes (passed or failed) unless already gone. */
    const freshPath = (label: string) => {
      const path = context.tempPath(`${label}.lock`);
      onTestFinished(async () => {
        await fileLocks().remove(path).catch((error: unknown) => {
          if (!isIpcError(error, 'ENOENT')) throw error;
        });
      });
      return path;
    };
    /** Opens (creating by default) and closes the lock file when the test finishes. */
    const open = async (path: string, options: LockFileOpenOptions = { create: true }) => closeAfter(await fileLocks().open(path, options));
    /** Two (or more) descriptions of one fresh lock file. */
    const descriptions = async (label: string, count = 2): Promise<LockFile[]> => {
      const path = freshPath(label);
      const files: LockFile[] = [];
      for (let i = 0; i < count; i++) files.push(await open(path));
      return files;
    };
    const reportPipe = async () => {
      const [reader, writer] = closeAllAfter(await context.backend().pipes.create());
      return { lines: new LineReader(reader), writer };
    };
    /** A child holding a lock on `path` (see children/file-lock-hold), killed when the test finishes. */
    const spawnHolder = async (path: string, options: FileLockOptions, writer: unknown, label: string, holdMs = 60_000) => {
      const child = await context.backend().processes.spawn(context.child('file-lock-hold'), { args: [path, options, writer, label, holdMs] });
      onTestFinished(() => child[Symbol.asyncDispose]());
      return child;
    };
    const conflict = { name: 'IpcError', code: 'EAGAIN', syscall: 'fcntl' };

    it('opens with create and mode, ENOENT without; remove takes the path, not the open file', async () => {
      const path = freshPath('open');
      await expect(fileLocks().open(path)).rejects.toMatchObject({ name: 'IpcError', code: 'ENOENT' });
      const file = await open(path, { create: true, mode: 0o640 });
      expect(file.path).toBe(path);
      expect(file.closed).toBe(false);
      const again = await open(path);
      await file.lock({ nowait: true });
      await expect(again.lock({ nowait: true })).rejects.toMatchObject(conflict);
      await fileLocks().remove(path);
      await expect(fileLocks().remove(path)).rejects.toMatchObject({ code: 'ENOENT' });
      await expect(fileLocks().open(path)).rejects.toMatchObject({ code: 'ENOENT' });
      // Both descriptions still reach the removed file and its lock.
      await expect(again.lock({ nowait: true })).rejects.toMatchObject(conflict);
      // A new file at the path has locks of its own.
      const fresh = await open(path);
      await fresh.lock({ nowait: true });
    });

    it('an exclusive lock excludes every other lock; shared locks coexist; own locks never conflict', async () => {
      const [a, b, c] = await descriptions('kinds', 3);
      const held = await a!.lock();
      expect(held).toMatchObject({ shared: false, start: 0, length: Infinity, released: false });
      expect(held.file).toBe(a);
      await expect(b!.lock({ nowait: true })).rejects.toMatchObject(conflict);
      await expect(b!.lock({ shared: true, nowait: true })).rejects.toMatchObject(conflict);
      expect(await b!.holder()).toEqual({ shared: false, start: 0, length: Infinity, pid: -1 });
      expect(await b!.holder({ shared: true })).toEqual({ shared: false, start: 0, length: Infinity, pid: -1 });
      // The holder's own description sees no conflict, and locking again only converts its bytes.
      expect(await a!.holder()).toBeNull();
      await a!.lock({ nowait: true });
      await held.release();
      expect(held.released).toBe(true);
      expect(await b!.holder()).toBeNull();
      // Two shared locks of two descriptions coexist; an exclusive one waits for both.
      await a!.lock({ shared: true, nowait: true });
      await b!.lock({ shared: true, nowait: true });
      await c!.lock({ shared: true, nowait: true });
      await expect(c!.lock({ nowait: true })).rejects.toMatchObject(conflict);
      expect(await c!.holder()).toMatchObject({ shared: true, pid: -1 });
      expect(await c!.holder({ shared: true })).toBeNull();
    });

    it('ranges that do not overlap coexist; sub-range unlock; merged records; locks past the end of the file', async () => {
      const [a, b] = await descriptions('ranges');
      await a!.lock({ start: 0, length: 10 });
      await b!.lock({ start: 10, length: 10, nowait: true });
      await expect(b!.lock({ start: 5, length: 10, nowait: true })).rejects.toMatchObject(conflict);
      expect(await b!.holder({ start: 9, length: 1 })).toEqual({ shared: false, start: 0, length: 10, pid: -1 });
      expect(await a!.holder({ start: 12, length: 100 })).toEqual({ shared: false, start: 10, length: 10, pid: -1 });
      // Unlocking the middle of a lock leaves its two ends locked.
      await a!.unlock({ start: 2, length: 3 });
      await b!.lock({ start: 2, length: 3, nowait: true });
      await expect(b!.lock({ start: 1, length: 1, nowait: true })).rejects.toMatchObject(conflict);
      await expect(b!.lock({ start: 5, length: 1, nowait: true })).rejects.toMatchObject(conflict);
      expect(await b!.holder({ start: 0, length: 2 })).toEqual({ shared: false, start: 0, length: 2, pid: -1 });
      expect(await b!.holder({ start: 5, length: 100 })).toEqual({ shared: false, start: 5, length: 5, pid: -1 });
      // Adjacent locks of one kind and one description become one record.
      await a!.lock({ start: 100, length: 50 });
      await a!.lock({ start: 150, length: 50 });
      expect(await b!.holder({ start: 120, length: 1 })).toEqual({ shared: false, start: 100, length: 100, pid: -1 });
      // Far past the end of the (empty) file, to the end of every possible file.
      await a!.lock({ start: 2 ** 40 });
      expect(await b!.holder({ start: 2 ** 41, length: 1 })).toEqual({ shared: false, start: 2 ** 40, length: Infinity, pid: -1 });
      await a!.unlock();
      expect(await b!.holder({ start: 0 })).toBeNull();
    });

    it('waits: a release wakes the waiter; timeout ETIMEDOUT, abort and close end the wait holding nothing', async () => {
      const [a, b, c] = await descriptions('waits', 3);
      const held = await a!.lock();
      const waiting = b!.lock({ shared: true, timeout: 20_000 });
      await new Promise((resolve) => setTimeout(resolve, 30));
      await held.release();
      const got = await waiting;
      expect(got.shared).toBe(true);
      await got.release();
      await a!.lock();
      await expect(b!.lock({ timeout: 40 })).rejects.toMatchObject({ name: 'IpcError', code: 'ETIMEDOUT', syscall: 'fcntl' });
      await expect(b!.lock({ timeout: 0 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
      const controller = new AbortController();
      const aborted = b!.lock({ signal: controller.signal });
      setTimeout(() => controller.abort(), 20);
      await expect(aborted).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
      await expect(b!.lock({ signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
      const closing = b!.lock();
      await new Promise((resolve) => setTimeout(resolve, 20));
      await b!.close();
      await expect(closing).rejects.toMatchObject({ code: 'EBADF' });
      await expect(b!.lock()).rejects.toMatchObject({ code: 'EBADF' });
      // None of the cancelled waits left a lock behind: once a's lock goes, c takes it at once.
      await a!.unlock();
      await c!.lock({ nowait: true });
    });

    it('upgrades atomically and downgrades; await using releases; close releases every lock', async () => {
      const [a, b, c] = await descriptions('convert', 3);
      const mine = await a!.lock({ shared: true });
      const theirs = await b!.lock({ shared: true });
      await expect(mine.upgrade({ nowait: true })).rejects.toMatchObject(conflict);
      // The failed upgrade kept the shared lock.
      expect(mine.shared).toBe(true);
      expect(await c!.holder()).toMatchObject({ shared: true });
      const upgrading = mine.upgrade({ timeout: 20_000 });
      await new Promise((resolve) => setTimeout(resolve, 20));
      await theirs.release();
      await upgrading;
      expect(mine.shared).toBe(false);
      await expect(b!.lock({ shared: true, nowait: true })).rejects.toMatchObject(conflict);
      await mine.downgrade();
      expect(mine.shared).toBe(true);
      await b!.lock({ shared: true, nowait: true });
      await b!.unlock();
      await mine.release();
      {
        await using scoped = await a!.lock({ start: 7, length: 1 });
        expect(scoped.released).toBe(false);
        await expect(b!.lock({ start: 7, length: 1, nowait: true })).rejects.toMatchObject(conflict);
      }
      await b!.lock({ start: 7, length: 1, nowait: true });
      await b!.unlock();
      const kept = await a!.lock();
      await a!.close();
      expect(kept.released).toBe(true);
      await kept.release();
      await expect(kept.upgrade()).rejects.toMatchObject({ code: 'EBADF' });
      await b!.lock({ nowait: true });
    });

    it('excludes another process; a waiter in another process wakes when the lock is released', async () => {
      const path = freshPath('cross');
      const [file] = [await open(path)];
      const { lines, writer } = await reportPipe();
      const held = await file.lock();
      const waiter = await spawnHolder(path, { shared: true }, writer, 'waiter', 0);
      await expect(lines.next({ timeout: 150 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
      await held.release();
      expect(await lines.json({ timeout: 20_000 })).toEqual({ label: 'waiter', locked: true });
      expect((await waiter.exited).code).toBe(0);
      // A child that only tries: EAGAIN while this process holds the bytes, ok for other bytes.
      await file.lock({ start: 0, length: 10 });
      await spawnHolder(path, { start: 5, length: 1, nowait: true }, writer, 'overlap', 0);
      expect(await lines.json()).toEqual({ label: 'overlap', code: 'EAGAIN' });
      await spawnHolder(path, { start: 10, length: 1, nowait: true }, writer, 'beside', 0);
      expect(await lines.json()).toEqual({ label: 'beside', locked: true });
    });

    it('shared holders in other processes coexist with a shared lock here and exclude an exclusive one', async () => {
      const path = freshPath('readers');
      const file = await open(path);
      const { lines, writer } = await reportPipe();
      await spawnHolder(path, { shared: true }, writer, 'reader-1');
      await spawnHolder(path, { shared: true }, writer, 'reader-2');
      const labels = [(await lines.json()).label, (await lines.json()).label].sort();
      expect(labels).toEqual(['reader-1', 'reader-2']);
      const shared = await file.lock({ shared: true, nowait: true });
      await shared.release();
      await expect(file.lock({ nowait: true })).rejects.toMatchObject(conflict);
      expect(await file.holder()).toEqual({ shared: true, start: 0, length: Infinity, pid: -1 });
    });

    it('a holder killed while holding: the kernel releases its lock and the waiter acquires', async () => {
      const path = freshPath('killed');
      const file = await open(path);
      const { lines, writer } = await reportPipe();
      const holder = await spawnHolder(path, {}, writer, 'holder');
      expect(await lines.json({ timeout: 20_000 })).toEqual({ label: 'holder', locked: true });
      await expect(file.lock({ nowait: true })).rejects.toMatchObject(conflict);
      const waiting = file.lock({ timeout: 20_000 });
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(holder.kill('SIGKILL')).toBe(true);
      const status = await holder.exited;
      if (context.hasFeature('os-processes')) expect(status).toEqual({ code: null, signal: 'SIGKILL' });
      const held = await waiting;
      expect(held.shared).toBe(false);
      expect(await file.holder()).toBeNull();
    });

    it('rejects misuse with TypeError/RangeError before any call, and use after close with EBADF', async () => {
      const path = freshPath('misuse');
      await expect(fileLocks().open(42 as never)).rejects.toBeInstanceOf(TypeError);
      await expect(fileLocks().open('')).rejects.toBeInstanceOf(RangeError);
      await expect(fileLocks().open(path, { create: 'yes' as never })).rejects.toBeInstanceOf(TypeError);
      await expect(fileLocks().open(path, { create: true, mode: 0o20000 })).rejects.toBeInstanceOf(RangeError);
      await expect(fileLocks().remove(7 as never)).rejects.toBeInstanceOf(TypeError);
      const file = await open(path);
      await expect(file.lock({ start: -1 })).rejects.toBeInstanceOf(RangeError);
      await expect(file.lock({ start: 1.5 })).rejects.toBeInstanceOf(RangeError);
      await expect(file.lock({ length: 0 })).rejects.toBeInstanceOf(RangeError);
      await expect(file.lock({ start: Number.MAX_SAFE_INTEGER, length: 2 })).rejects.toBeInstanceOf(RangeError);
      await expect(file.lock({ start: '1' as never })).rejects.toBeInstanceOf(TypeError);
      await expect(file.lock({ shared: 1 as never })).rejects.toBeInstanceOf(TypeError);
      await expect(file.lock({ timeout: -1 })).rejects.toBeInstanceOf(RangeError);
      await expect(file.lock('x' as never)).rejects.toBeInstanceOf(TypeError);
      await expect(file.unlock({ length: -5 })).rejects.toBeInstanceOf(RangeError);
      await expect(file.holder({ shared: 'no' as never })).rejects.toBeInstanceOf(TypeError);
      // The file is still usable after every refusal.
      const held = await file.lock({ nowait: true });
      await held.release();
      await file.close();
      expect(file.closed).toBe(true);
      await expect(file.lock()).rejects.toMatchObject({ code: 'EBADF' });
      await expect(file.unlock()).rejects.toMatchObject({ code: 'EBADF' });
      await expect(file.holder()).rejects.toMatchObject({ code: 'EBADF' });
      await file.close();
    });

    describe.skipIf(!context.hasFeature('host-interop'))('with a program that is not ipcx (Python fcntl)', () => {
      /** Runs the Python peer; killed when the test finishes. */
      const python = (path: string, mode: string): ChildProcessWithoutNullStreams => {
        const program = spawnProgram('python3', ['-c', PYTHON_PEER, path, mode]);
        onTestFinished(() => {
          if (program.exitCode === null && program.signalCode === null) program.kill('SIGKILL');
        });
        return program;
      };
      const firstLine = async (program: ChildProcessWithoutNullStreams): Promise<string> => {
        let text = '';
        for await (const chunk of program.stdout) {
          text += String(chunk);
          if (text.includes('\n')) break;
        }
        return text.trim();
      };

      it('conflicts both ways with F_OFD_SETLK in Python: EAGAIN, F_OFD_GETLK answers, a waiter wakes when Python releases', async () => {
        const path = freshPath('python');
        const file = await open(path);
        const holder = python(path, 'hold-ofd');
        expect(await firstLine(holder)).toBe('locked');
        await expect(file.lock({ shared: true, nowait: true })).rejects.toMatchObject(conflict);
        expect(await file.holder()).toEqual({ shared: false, start: 0, length: Infinity, pid: -1 });
        const waiting = file.lock({ start: 10, length: 10, shared: true, timeout: 20_000 });
        await new Promise((resolve) => setTimeout(resolve, 30));
        holder.stdin.end();
        await once(holder, 'exit');
        const held = await waiting;
        // Python now sees this process's shared lock through F_OFD_GETLK, with pid -1.
        const probe = python(path, 'probe');
        expect(JSON.parse(await firstLine(probe))).toEqual({ holder: 'shared', start: 10, length: 10, pid: -1, shared: 'ok', byte15: 'EAGAIN' });
        await once(probe, 'exit');
        await held.release();
      });

      it('conflicts with a traditional F_SETLK lock, whose holder() names the process', async () => {
        const path = freshPath('classic');
        const file = await open(path);
        const holder = python(path, 'hold-classic');
        expect(await firstLine(holder)).toBe('locked');
        await expect(file.lock({ nowait: true })).rejects.toMatchObject(conflict);
        expect(await file.holder()).toEqual({ shared: false, start: 0, length: Infinity, pid: holder.pid });
        holder.stdin.end();
        await once(holder, 'exit');
        await file.lock({ timeout: 20_000 });
      });
    });
  });
}

/** The manifest's use of file locks: a lock taken and released on a new file, then removed. */
export async function fileLockProbe(context: SuiteContext): Promise<void> {
  const fileLocks = context.backend().fileLocks;
  const path = context.tempPath('manifest-lock');
  const file = await fileLocks.open(path, { create: true });
  try {
    const held = await file.lock({ nowait: true });
    await held.release();
  } finally {
    await file.close();
    await fileLocks.remove(path);
  }
}
