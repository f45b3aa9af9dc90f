/**
 * FIFOs in the emulated namespace, across worker threads (until the conformance kit's FIFO suite
 * lands, this is what shows them working).
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { createWorkerBackend } from '@ipcx/adapter-worker';
import { closeAfter, readToEnd, sleep, text } from '@ipcx/testkit';

const backend = createWorkerBackend({ memoryBytes: 4 * 1024 * 1024 });
const fifoWrite = new URL('./children/fifo-write.mjs', import.meta.url);
let counter = 0;

async function fifoPath(): Promise<string> {
  const path = `/tmp/ipcx-worker-test/${++counter}.fifo`;
  await backend.fifos.create(path);
  onTestFinished(async () => {
    await backend.fifos.remove(path).catch(() => {});
  });
  return path;
}

describe('worker FIFO', () => {
  it('opens for reading when a worker opens for writing, and reads its bytes then EOF', async () => {
    const path = await fifoPath();
    const opening = backend.fifos.openReader(path);
    await sleep(10);
    const child = await backend.processes.spawn(fifoWrite, { args: [path, ['one ', 'two']] });
    const reader = closeAfter(await opening);
    expect(reader.path).toBe(path);
    expect(text(await readToEnd(reader))).toBe('one two');
    expect(await child.exited).toEqual({ code: 0, signal: null });
  });

  it('makes a writer wait for a reader; nowait: ENXIO for a writer, at once for a reader', async () => {
    const path = await fifoPath();
    await expect(backend.fifos.openWriter(path, { nowait: true })).rejects.toMatchObject({ code: 'ENXIO', syscall: 'open', path });
    const writing = backend.fifos.openWriter(path);
    const reader = closeAfter(await backend.fifos.openReader(path, { nowait: true }));
    const writer = closeAfter(await writing);
    await writer.write('hello');
    expect(text(await reader.read())).toBe('hello');
    await writer.close();
    expect(await reader.read()).toBeNull();
  });

  it('ends a waiting open on timeout or abort and leaves no half-open end behind', async () => {
    const path = await fifoPath();
    await expect(backend.fifos.openReader(path, { timeout: 20 })).rejects.toMatchObject({ code: 'ETIMEDOUT', syscall: 'open' });
    const controller = new AbortController();
    const opening = backend.fifos.openReader(path, { signal: controller.signal });
    controller.abort();
    await expect(opening).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    // No reader is left counted: a nowait writer still finds none.
    await expect(backend.fifos.openWriter(path, { nowait: true })).rejects.toMatchObject({ code: 'ENXIO' });
    expect(backend.diagnostics.openObjects()).toEqual([]);
  });

  it('answers ENOENT and EEXIST by name, lists live FIFOs, and keeps open ends working after remove', async () => {
    const path = await fifoPath();
    await expect(backend.fifos.create(path)).rejects.toMatchObject({ code: 'EEXIST', path });
    await expect(backend.fifos.openReader(`${path}.missing`)).rejects.toMatchObject({ code: 'ENOENT', syscall: 'open' });
    expect(await backend.diagnostics.kernelObjects()).toContain(`fifo '${path}'`);
    const reader = closeAfter(await backend.fifos.openReader(path, { nowait: true }));
    const writer = closeAfter(await backend.fifos.openWriter(path));
    await backend.fifos.remove(path);
    expect(await backend.diagnostics.kernelObjects()).not.toContain(`fifo '${path}'`);
    await expect(backend.fifos.openReader(path, { nowait: true })).rejects.toMatchObject({ code: 'ENOENT' });
    await writer.write('still here');
    expect(text(await reader.read())).toBe('still here');
  });

  it('drops unread bytes when the last end closes, as the kernel does', async () => {
    const path = await fifoPath();
    const reader = await backend.fifos.openReader(path, { nowait: true });
    const writer = await backend.fifos.openWriter(path);
    await writer.write('forgotten');
    await writer.close();
    await reader.close();
    const again = closeAfter(await backend.fifos.openReader(path, { nowait: true }));
    expect(await again.read()).toBeNull();
  });

  it('rejects misuse before touching the kernel', async () => {
    await expect(backend.fifos.create('')).rejects.toBeInstanceOf(RangeError);
    await expect(backend.fifos.create(42 as never)).rejects.toBeInstanceOf(TypeError);
    await expect(backend.fifos.openReader('/x', { timeout: -1 })).rejects.toBeInstanceOf(RangeError);
    await expect(backend.fifos.create('/x', { mode: 0o10000 })).rejects.toBeInstanceOf(RangeError);
  });
});
