/**
 * FIFOs (fifo(7)): named by a path that unrelated processes open; opening waits for the other
 * side (without blocking the event loop, and cancellable); EEXIST/ENOENT/ENXIO as the kernel gives.
 */
import { spawn } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { FifoReader, PipeReader } from '@ipcx/core';
import type { SuiteContext } from '../context.js';
import { closeAfter, closeAllAfter, readToEnd, sleep, text } from '../util.js';
import { chmodParentOnDisk, readOwnSource } from '../host.js';

export function fifoSuite(context: SuiteContext): void {
  describe.skipIf(!context.has('fifo'))('FIFO', () => {
    const fifos = () => context.backend().fifos;
    const processes = () => context.backend().processes;

    /** A new FIFO, removed when the test finishes. */
    async function makeFifo(label = 'fifo'): Promise<string> {
      const path = context.tempPath(label);
      await fifos().create(path);
      onTestFinished(async () => {
        await fifos().remove(path).catch(() => {});
      });
      return path;
    }

    it('carries bytes from another process that opens it by path, then EOF', async () => {
      const path = await makeFifo();
      const child = await processes().spawn(context.child('fifo-write'), { args: [path, ['one ', 'two ', 'three']] });
      const reader = closeAfter(await fifos().openReader(path));
      expect(text(await readToEnd(reader))).toBe('one two three');
      expect((await child.exited).code).toBe(0);
    });

    it('carries bytes to another process that opens it by path', async () => {
      const path = await makeFifo();
      const [report, reportWriter] = closeAllAfter(await context.backend().pipes.create());
      const child = await processes().spawn(context.child('fifo-read'), { args: [path, reportWriter] });
      await reportWriter.close();
      const writer = closeAfter(await fifos().openWriter(path));
      await writer.write('hello through a FIFO');
      await writer.close();
      expect(text(await readToEnd(report))).toBe('hello through a FIFO');
      expect((await child.exited).code).toBe(0);
    });

    it('waits in open until the other side opens', async () => {
      const path = await makeFifo();
      let opened = false;
      const opening = fifos()
        .openReader(path)
        .then((reader) => {
          opened = true;
          return closeAfter(reader);
        });
      await sleep(150);
      expect(opened).toBe(false);
      const child = await processes().spawn(context.child('fifo-write'), { args: [path, ['late']] });
      const reader = await opening;
      expect(text(await readToEnd(reader))).toBe('late');
      await child.exited;
    });

    it('ends a waiting open with AbortError on abort and ETIMEDOUT on timeout, and stays usable', async () => {
      const path = await makeFifo();
      const controller = new AbortController();
      const aborted = fifos().openReader(path, { signal: controller.signal });
      await sleep(20);
      controller.abort();
      await expect(aborted).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
      await expect(fifos().openWriter(path, { timeout: 30 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
      const already = new AbortController();
      already.abort();
      await expect(fifos().openReader(path, { signal: already.signal })).rejects.toMatchObject({ code: 'ABORT_ERR' });
      // The cancelled opens left nothing half-open: a real pair still meets.
      const [reader, writer] = await Promise.all([fifos().openReader(path), fifos().openWriter(path)]);
      closeAllAfter([reader, writer]);
      await writer.write('still works');
      expect(text(await reader.read())).toBe('still works');
    });

    it('opens without waiting when asked: a reader at once, a writer with no reader gets ENXIO', async () => {
      const path = await makeFifo();
      await expect(fifos().openWriter(path, { nowait: true })).rejects.toMatchObject({ code: 'ENXIO' });
      const reader = closeAfter(await fifos().openReader(path, { nowait: true }));
      const writer = closeAfter(await fifos().openWriter(path, { nowait: true }));
      await writer.write('x');
      expect(text(await reader.read())).toBe('x');
    });

    it.skipIf(context.hasFeature('os-processes') && typeof process.getuid === 'function' && process.getuid() !== 0)(
      "lets another user open a FIFO only as its mode allows (EACCES, even where ENXIO would follow)",
      async () => {
        const readable = context.tempPath('fifo-0604');
        const closed = context.tempPath('fifo-0600');
        // The folder must let the other user reach the FIFOs, or its own mode would refuse them.
        chmodParentOnDisk(readable, 0o711);
        await fifos().create(readable, { mode: 0o604 });
        await fifos().create(closed, { mode: 0o600 });
        onTestFinished(async () => {
          await fifos().remove(readable).catch(() => {});
          await fifos().remove(closed).catch(() => {});
        });
        const attempt = async (access: 'read' | 'write', at: string): Promise<string | null> => {
          const [report, writer] = closeAllAfter(await context.backend().pipes.create());
          const child = await processes().spawn(context.child('path-access'), { args: [access, at, writer], user: { uid: 65534, gid: 65534 } });
          await writer.close();
          const outcome = text(await readToEnd(report));
          expect((await child.exited).code).toBe(0);
          return outcome;
        };
        expect(await attempt('read', readable)).toBe('ok');
        // No reader: a permitted nowait writer would get ENXIO; the mode refuses it first.
        expect(await attempt('write', readable)).toBe('EACCES');
        expect(await attempt('read', closed)).toBe('EACCES');
        expect(await attempt('write', closed)).toBe('EACCES');
      },
    );

    it('reports EEXIST and ENOENT as the kernel does', async () => {
      const path = await makeFifo();
      await expect(fifos().create(path)).rejects.toMatchObject({ name: 'IpcError', code: 'EEXIST', syscall: 'mkfifo', path });
      // Folders belong to the host's file system; an emulated namespace of paths has none.
      if (context.hasFeature('host-interop')) {
        await expect(fifos().create(context.tempPath('missing-dir') + '/fifo')).rejects.toMatchObject({ code: 'ENOENT' });
      }
      const missing = context.tempPath('never-made');
      await expect(fifos().openReader(missing)).rejects.toMatchObject({ code: 'ENOENT' });
      await expect(fifos().openWriter(missing, { nowait: true })).rejects.toMatchObject({ code: 'ENOENT' });
      await expect(fifos().remove(missing)).rejects.toMatchObject({ code: 'ENOENT' });
    });

    it('keeps open ends working after the path is removed', async () => {
      const path = context.tempPath('unlinked');
      await fifos().create(path);
      const [reader, writer] = closeAllAfter(await Promise.all([fifos().openReader(path), fifos().openWriter(path)]));
      await fifos().remove(path);
      await writer.write('after unlink');
      expect(text(await reader.read())).toBe('after unlink');
    });

    it.skipIf(!context.hasFeature('host-interop'))('is read by `cat` and written by `echo ... >` from a shell', async () => {
      const path = await makeFifo();
      const cat = spawn('cat', [path], { stdio: ['ignore', 'pipe', 'inherit'] });
      let printed = '';
      cat.stdout.on('data', (chunk: Buffer) => (printed += chunk.toString()));
      const catExited = new Promise((resolve) => cat.once('exit', resolve));
      const writer = closeAfter(await fifos().openWriter(path));
      await writer.write('from ipcx to cat\n');
      await writer.close();
      expect(await catExited).toBe(0);
      expect(printed).toBe('from ipcx to cat\n');

      const shell = spawn('sh', ['-c', `echo ts > '${path}'`], { stdio: 'inherit' });
      // Listened for at once: the shell may exit (and 'exit' be emitted) while the read is under
      // way, and an event emitted before its listener is lost (the test then hung until its timeout).
      const shellExited = new Promise((resolve) => shell.once('exit', resolve));
      const reader = closeAfter(await fifos().openReader(path));
      expect(text(await readToEnd(reader))).toBe('ts\n');
      expect(await shellExited).toBe(0);
    });

    it('keeps the event loop and the libuv pool free with 64 opens and 64 reads pending', async () => {
      const count = 64;
      const controller = new AbortController();
      setMaxListeners(2 * count + 10, controller.signal);
      const paths = await Promise.all(Array.from({ length: count }, (_, i) => makeFifo(`live-${i}`)));
      const opens = paths.map((path) => fifos().openReader(path, { signal: controller.signal }));
      const pipes = await Promise.all(Array.from({ length: count }, () => context.backend().pipes.create()));
      for (const pair of pipes) closeAllAfter(pair);
      const reads = pipes.map(([reader]) => (reader as PipeReader).read({ signal: controller.signal }));
      // A timer still fires, and fs.readFile (which needs libuv's pool) still completes.
      const timerDelay = await new Promise<number>((resolve) => {
        const start = performance.now();
        setTimeout(() => resolve(performance.now() - start), 20);
      });
      expect(timerDelay).toBeLessThan(1000);
      const own = await readOwnSource(import.meta.url);
      expect(own.length).toBeGreaterThan(0);
      controller.abort();
      const settled = await Promise.allSettled([...opens, ...reads]);
      for (const outcome of settled) {
        expect(outcome.status).toBe('rejected');
        expect((outcome as PromiseRejectedResult).reason).toMatchObject({ name: 'AbortError' });
      }
    });

    it('rejects misuse with TypeError/RangeError and use after close with EBADF', async () => {
      await expect(fifos().create(42 as never)).rejects.toBeInstanceOf(TypeError);
      await expect(fifos().create('')).rejects.toBeInstanceOf(RangeError);
      await expect(fifos().create(context.tempPath('bad-mode'), { mode: 0o70000 })).rejects.toBeInstanceOf(RangeError);
      await expect(fifos().openReader(context.tempPath('x'), { timeout: -5 })).rejects.toBeInstanceOf(RangeError);
      await expect(fifos().openReader(context.tempPath('x'), { nowait: 'yes' as never })).rejects.toBeInstanceOf(TypeError);
      const path = await makeFifo();
      const reader: FifoReader = await fifos().openReader(path, { nowait: true });
      expect(reader.path).toBe(path);
      await reader.close();
      await expect(reader.read()).rejects.toMatchObject({ code: 'EBADF' });
    });
  });
}

/** The manifest's use of FIFOs: one made at a path, opened without waiting, and removed. */
export async function fifoProbe(context: SuiteContext): Promise<void> {
  const fifos = context.backend().fifos;
  const path = context.tempPath('manifest-fifo');
  await fifos.create(path);
  try {
    // A reader opens without a writer when it does not wait (O_NONBLOCK open, as the kernel allows).
    const reader = await fifos.openReader(path, { nowait: true });
    await reader.close();
  } finally {
    await fifos.remove(path);
  }
}
