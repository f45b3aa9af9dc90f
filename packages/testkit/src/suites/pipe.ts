/**
 * Pipes, as the kernel defines them (pipe(7)): bytes in order, EOF once every writer in every
 * process has closed, EPIPE (never SIGPIPE) with no reader left, writes up to PIPE_BUF atomic.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { PIPE_BUF, nodeWritable, type IpcError } from '@ipcx/core';
import type { SuiteContext } from '../context.js';
import { closeAllAfter, readToEnd, sleep, text, concatBytes } from '../util.js';
import { onNode } from '../host.js';

export function pipeSuite(context: SuiteContext): void {
  describe.skipIf(!context.has('pipe'))('pipe', () => {
    const pipes = () => context.backend().pipes;
    const processes = () => context.backend().processes;

    it('carries bytes from a child in order and reads EOF once every writer closed', async () => {
      const [reader, writer] = closeAllAfter(await pipes().create());
      const chunks = Array.from({ length: 50 }, (_, i) => `line ${i}\n`);
      const child = await processes().spawn(context.child('write-all'), { args: [writer, chunks] });
      await writer.close();
      expect(text(await readToEnd(reader))).toBe(chunks.join(''));
      expect(await child.exited).toEqual({ code: 0, signal: null });
    });

    it('reads EOF only after the last of several writers closed', async () => {
      const [reader, writer] = closeAllAfter(await pipes().create());
      // The holder keeps its writer until it is killed (not for a fixed time: on a loaded machine
      // a short hold could end before the no-EOF check below, and the test would see EOF).
      const holder = await processes().spawn(context.child('hold'), { args: [120_000, writer] });
      const quick = await processes().spawn(context.child('write-all'), { args: [writer, ['a']] });
      await writer.close();
      expect(text(await reader.read())).toBe('a');
      await quick.exited;
      // The holder still has a writer open: no EOF yet.
      await expect(reader.read({ timeout: 100 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
      holder.kill();
      await holder.exited;
      expect(await reader.read()).toBeNull();
    });

    it('rejects a write with EPIPE when no reader is left, and the process lives on', async () => {
      const [reader, writer] = closeAllAfter(await pipes().create());
      const child = await processes().spawn(context.child('close-and-exit'), { args: [reader] });
      await reader.close();
      await child.exited;
      const error = (await writer.write('nobody reads this').catch((e: unknown) => e)) as IpcError;
      expect(error).toMatchObject({ name: 'IpcError', code: 'EPIPE', syscall: 'write' });
      // Still usable enough to close cleanly; the test process is still here.
      await writer.close();
    });

    it(`keeps writes of PIPE_BUF (${PIPE_BUF}) bytes whole when several processes write at once`, async () => {
      const [reader, writer] = closeAllAfter(await pipes().create());
      const writers = 4;
      const records = 64;
      const children = await Promise.all(
        Array.from({ length: writers }, (_, i) => processes().spawn(context.child('atomic-writer'), { args: [writer, i + 1, records, PIPE_BUF] })),
      );
      await writer.close();
      const all = await readToEnd(reader);
      expect(all.length).toBe(writers * records * PIPE_BUF);
      const seen = new Map<number, number>();
      for (let offset = 0; offset < all.length; offset += PIPE_BUF) {
        const record = all.subarray(offset, offset + PIPE_BUF);
        const id = record[0]!;
        // Every byte of a record comes from the same writer.
        expect(record.every((byte) => byte === id)).toBe(true);
        seen.set(id, (seen.get(id) ?? 0) + 1);
      }
      expect([...seen.entries()].sort()).toEqual(Array.from({ length: writers }, (_, i) => [i + 1, records]));
      for (const child of children) expect((await child.exited).code).toBe(0);
    });

    it('reports and changes its capacity', async () => {
      const [reader, writer] = closeAllAfter(await pipes().create({ capacity: 1 << 17 }));
      expect(reader.capacity()).toBeGreaterThanOrEqual(1 << 17);
      expect(writer.setCapacity(4096)).toBe(4096);
      expect(reader.capacity()).toBe(4096);
      // A nowait write fills it exactly to capacity, then EAGAIN.
      expect(await writer.write(new Uint8Array(10000), { nowait: true })).toBe(4096);
      await expect(writer.write('x', { nowait: true })).rejects.toMatchObject({ code: 'EAGAIN' });
    });

    it('waits for a reader to drain a full pipe, then completes the write', async () => {
      const [reader, writer] = closeAllAfter(await pipes().create());
      writer.setCapacity(4096);
      const payload = new Uint8Array(3 * 4096 + 17).map((_, i) => i % 251);
      const writing = writer.write(payload);
      const received = [];
      let total = 0;
      while (total < payload.length) {
        const chunk = (await reader.read())!;
        received.push(chunk);
        total += chunk.length;
      }
      expect(await writing).toBe(payload.length);
      expect(concatBytes(received)).toEqual(payload);
    });

    it('fails a nowait read with EAGAIN, a timed read with ETIMEDOUT, an aborted read with AbortError', async () => {
      const [reader, writer] = closeAllAfter(await pipes().create());
      await expect(reader.read({ nowait: true })).rejects.toMatchObject({ code: 'EAGAIN' });
      await expect(reader.read({ timeout: 20 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
      const controller = new AbortController();
      const pending = reader.read({ signal: controller.signal });
      controller.abort();
      await expect(pending).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
      // Nothing was lost to the cancelled reads: the next write is read whole.
      await writer.write('after');
      expect(text(await reader.read())).toBe('after');
    });

    it('serves pending reads in call order', async () => {
      const [reader, writer] = closeAllAfter(await pipes().create());
      const first = reader.read({ maxBytes: 3 });
      const second = reader.read({ maxBytes: 3 });
      await sleep(5);
      await writer.write('abcdef');
      expect(text(await first)).toBe('abc');
      expect(text(await second)).toBe('def');
    });

    it('rejects misuse with TypeError/RangeError before any system call', async () => {
      const [reader, writer] = closeAllAfter(await pipes().create());
      await expect(pipes().create({ capacity: -1 })).rejects.toBeInstanceOf(RangeError);
      await expect(pipes().create({ capacity: 'big' as never })).rejects.toBeInstanceOf(TypeError);
      await expect(reader.read({ maxBytes: 0 })).rejects.toBeInstanceOf(RangeError);
      await expect(reader.read({ maxBytes: 1.5 })).rejects.toBeInstanceOf(RangeError);
      await expect(reader.read({ timeout: -1 })).rejects.toBeInstanceOf(RangeError);
      await expect(reader.read({ signal: 'x' as never })).rejects.toBeInstanceOf(TypeError);
      await expect(writer.write(42 as never)).rejects.toBeInstanceOf(TypeError);
      expect(() => writer.setCapacity(0)).toThrow(RangeError);
      // Both ends still work afterwards.
      await writer.write('ok');
      expect(text(await reader.read())).toBe('ok');
    });

    it('rejects use after close with EBADF, and a pending read ends when its reader closes', async () => {
      const [reader, writer] = closeAllAfter(await pipes().create());
      const pending = reader.read();
      await reader.close();
      await expect(pending).rejects.toMatchObject({ code: 'EBADF' });
      await expect(reader.read()).rejects.toMatchObject({ code: 'EBADF' });
      await writer.close();
      await expect(writer.write('x')).rejects.toMatchObject({ code: 'EBADF' });
      expect(() => writer.capacity()).toThrow(expect.objectContaining({ code: 'EBADF' }));
      expect(reader.closed && writer.closed).toBe(true);
      await reader.close(); // a second close does nothing
    });

    it('reads into a caller-supplied buffer, 0 at EOF', async () => {
      const [reader, writer] = closeAllAfter(await pipes().create());
      const buffer = new Uint8Array(4);
      await writer.write('abcdef');
      expect(await reader.readInto(buffer)).toBe(4);
      expect(text(buffer)).toBe('abcd');
      const pending = reader.readInto(buffer.subarray(1));
      await writer.close();
      expect(await pending).toBe(2);
      expect(text(buffer)).toBe('aefd');
      expect(await reader.readInto(buffer)).toBe(0);
      await expect(reader.readInto(new Uint8Array(0))).rejects.toBeInstanceOf(RangeError);
      await expect(reader.readInto('x' as never)).rejects.toBeInstanceOf(TypeError);
    });

    // Measured with Node's process.cpuUsage: a Node-only case.
    it.skipIf(!onNode)('costs no CPU while a reader waits (any spinning is bounded)', async () => {
      const [reader, writer] = closeAllAfter(await pipes().create());
      const before = process.cpuUsage();
      const started = performance.now();
      setTimeout(() => void writer.write('late'), 1000);
      expect(text(await reader.read())).toBe('late');
      const elapsedMs = performance.now() - started;
      const used = process.cpuUsage(before);
      const cpuMs = (used.user + used.system) / 1000;
      // A spinning waiter would use about as much CPU as time passed; a parked one next to none.
      expect(cpuMs).toBeLessThan(elapsedMs * 0.25);
    });

    it('lets timers run while every read completes at once (a reader that always finds data)', async () => {
      // 256 KiB read a byte at a time: every read completes on the calling thread, so the loop
      // runs on microtasks alone; the backend must still let the event loop turn now and then.
      const size = 256 * 1024;
      const [reader, writer] = closeAllAfter(await pipes().create({ capacity: size }));
      expect(await writer.write(new Uint8Array(size).fill(7), { nowait: true })).toBe(size);
      let readsWhenTimerRan = -1;
      let reads = 0;
      setTimeout(() => (readsWhenTimerRan = reads), 0);
      const one = new Uint8Array(1);
      for (; reads < size; reads++) expect(await reader.readInto(one)).toBe(1);
      expect(readsWhenTimerRan).toBeGreaterThanOrEqual(0);
      expect(readsWhenTimerRan).toBeLessThan(size);
    });

    it('converts to Web streams', async () => {
      const [reader, writer] = closeAllAfter(await pipes().create());
      const out = writer.writableStream().getWriter();
      await out.write(new TextEncoder().encode('web '));
      await out.write(new TextEncoder().encode('streams'));
      await out.close();
      const parts: string[] = [];
      for await (const chunk of reader.readableStream() as unknown as AsyncIterable<Uint8Array>) parts.push(text(chunk)!);
      expect(parts.join('')).toBe('web streams');
    });

    // Node's streams: a Node-only case.
    it.skipIf(!onNode)('converts to Node streams: nodeWritable ends by closing the writer, Readable.from reads to EOF', async () => {
      const [reader, writer] = closeAllAfter(await pipes().create());
      const lines = Array.from({ length: 100 }, (_, i) => `line ${i}\n`);
      const received = pipeline(Readable.from(reader), async function* (source) {
        let all = '';
        for await (const chunk of source) all += text(chunk);
        yield all;
      }, async function* (source) {
        for await (const all of source) expect(all).toBe(lines.join(''));
      });
      await pipeline(Readable.from(lines), nodeWritable(writer));
      expect(writer.closed).toBe(true);
      await received;
    });

    it('closes a reader when for-await ends, at EOF and on break, unless asked not to', async () => {
      const [reader, writer] = closeAllAfter(await pipes().create());
      await writer.write('first');
      for await (const chunk of reader.iterator({ close: false })) {
        expect(text(chunk)).toBe('first');
        break;
      }
      expect(reader.closed).toBe(false);
      await writer.write('second');
      for await (const chunk of reader) {
        expect(text(chunk)).toBe('second');
        break;
      }
      expect(reader.closed).toBe(true);
      await expect(reader.read()).rejects.toMatchObject({ code: 'EBADF' });

      const [reader2, writer2] = closeAllAfter(await pipes().create());
      await writer2.write('to the end');
      await writer2.close();
      expect(text(await readToEnd(reader2))).toBe('to the end');
      expect(reader2.closed).toBe(true);
    });
  });
}

/** The manifest's use of pipes: bytes through a new pipe. */
export async function pipeProbe(context: SuiteContext): Promise<void> {
  const [reader, writer] = await context.backend().pipes.create();
  try {
    await writer.write('manifest');
    expect(text(await reader.read())).toBe('manifest');
  } finally {
    await writer.close();
    await reader.close();
  }
}
