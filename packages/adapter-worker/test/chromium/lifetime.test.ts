// A Web Worker's own workers end with its context (the browser ends them a moment later): the
// page reaps them with it, once each one's context is gone (its Web Lock, see host-browser.ts).
import { createWorkerBackend } from '@ipcx/adapter-worker';
import { closeAfter, closeAllAfter, text } from '@ipcx/testkit';
import { expect, it, onTestFinished } from 'vitest';

const subtree = new URL('./children/subtree.js', import.meta.url);

for (const [ending, depth] of [['killed', 1], ['returning', 1], ['killed', 2]] as const) {
  it(`chromium: releases what a worker ${depth} level${depth > 1 ? 's' : ''} below a ${ending} child held: pipe writer, file lock, SEM_UNDO`, async () => {
    const backend = createWorkerBackend({ memoryBytes: 4 * 1024 * 1024 });
    const [reader, writer] = closeAllAfter(await backend.pipes.create());
    const path = `/lifetime/subtree-${ending}-${depth}`;
    const lockFile = closeAfter(await backend.fileLocks.open(path, { create: true }));
    onTestFinished(() => backend.fileLocks.remove(path));
    const set = closeAfter(await backend.semaphores.open('private', { create: true, size: 1 }));
    onTestFinished(() => set.remove());
    set.setValue(0, 1);
    const ready = new SharedArrayBuffer(4);
    const child = await backend.processes.spawn(subtree, { args: [depth, ending === 'killed' ? 'hold' : 'return', ready, writer, path, set] });
    await writer.close();
    expect(text(await reader.read())).toBe('ready');
    expect(set.value(0)).toBe(0);
    if (ending === 'killed') expect(child.kill()).toBe(true);
    expect(await child.exited).toEqual({ code: ending === 'killed' ? 1 : 0, signal: null });
    expect(await reader.read({ nowait: true })).toBeNull();
    const held = await lockFile.lock({ start: 0, length: 1, nowait: true });
    await held.release();
    expect(set.value(0)).toBe(1);
  });
}
