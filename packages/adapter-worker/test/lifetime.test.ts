/**
 * A worker that ends, however it ends, gives up its ends: the parent reaps its owner in the
 * kernel on the worker's 'exit' event, as the kernel closes a dead process's descriptors. So do
 * the workers it started (and theirs), which end with it.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { createWorkerBackend } from '@ipcx/adapter-worker';
import { closeAfter, closeAllAfter, sleep, text, waitUntil } from '@ipcx/testkit';
import type { Kernel } from '../dist/kernel.js';

const backend = createWorkerBackend({ memoryBytes: 4 * 1024 * 1024 });
const hold = new URL('../../testkit/dist/children/hold.js', import.meta.url);
const thrower = new URL('./children/throw.mjs', import.meta.url);
const echoTwice = new URL('./children/echo-twice.mjs', import.meta.url);
const neverSettles = new URL('./children/never-settles.mjs', import.meta.url);
const subtree = new URL('./children/subtree.mjs', import.meta.url);
const inSection = new URL('./children/in-section.mjs', import.meta.url);
const FOREVER = 10 * 60_000;

describe('worker lifetime', () => {
  it('gives a waiting reader EOF when a terminated worker held the last writer', async () => {
    const [reader, writer] = closeAllAfter(await backend.pipes.create());
    const child = await backend.processes.spawn(hold, { args: [FOREVER, writer] });
    await writer.close();
    const reading = reader.read();
    await sleep(20);
    expect(child.kill()).toBe(true);
    expect(await reading).toBeNull();
    expect(await child.exited).toEqual({ code: 1, signal: null });
    expect(child.kill()).toBe(false);
  });

  it('gives writers EPIPE (a blocked one included) when a terminated worker held the only reader', async () => {
    const [reader, writer] = closeAllAfter(await backend.pipes.create({ capacity: 4096 }));
    const child = await backend.processes.spawn(hold, { args: [FOREVER, reader] });
    await reader.close();
    expect(await writer.write(new Uint8Array(4096), { nowait: true })).toBe(4096);
    const blocked = writer.write('no room');
    await sleep(20);
    child.kill();
    await expect(blocked).rejects.toMatchObject({ code: 'EPIPE', syscall: 'write' });
    await child.exited;
    await expect(writer.write('x')).rejects.toMatchObject({ code: 'EPIPE' });
  });

  it('gives the other end of a duplex pipe EOF and EPIPE when a terminated worker held its peer', async () => {
    const [mine, theirs] = closeAllAfter(await backend.pipes.createDuplex());
    const child = await backend.processes.spawn(hold, { args: [FOREVER, theirs] });
    await theirs.close();
    await mine.write('unread');
    const reading = mine.read();
    child.kill();
    expect(await reading).toBeNull();
    await expect(mine.write('anyone?')).rejects.toMatchObject({ code: 'EPIPE' });
  });

  it('keeps a worker alive while its only pending work is a parked read, each time it parks, and lets it end after', async () => {
    const [fromParent, toChild] = closeAllAfter(await backend.pipes.create());
    const [fromChild, toParent] = closeAllAfter(await backend.pipes.create());
    const child = await backend.processes.spawn(echoTwice, { args: [fromParent, toParent] });
    await fromParent.close();
    await toParent.close();
    // Each pause outlasts any spin: the child's read is parked, with nothing else holding its thread.
    for (const word of ['first', 'second']) {
      await sleep(150);
      await toChild.write(word);
      expect(text(await fromChild.read())).toBe(word);
    }
    expect(await child.exited).toEqual({ code: 0, signal: null });
    expect(await fromChild.read()).toBeNull();
  });

  it('reports exit code 13, not success, when the main function is still pending as the thread runs out of work', async () => {
    // Node's code for an unsettled top-level await; the child's bootstrap has none (child-main-node.ts).
    const child = await backend.processes.spawn(neverSettles, { args: [] });
    expect(await child.exited).toEqual({ code: 13, signal: null });
  });

  it('reports exit code 1 when the main function throws, and releases its ends', async () => {
    const [reader, writer] = closeAllAfter(await backend.pipes.create());
    const child = await backend.processes.spawn(thrower, { args: [writer], stderr: 'ignore' });
    await writer.close();
    expect(await child.exited).toEqual({ code: 1, signal: null });
    expect(await reader.read()).toBeNull();
  });

  it('refuses to pass an object of another kernel to a child', async () => {
    const other = createWorkerBackend({ memoryBytes: 1024 * 1024 });
    const [reader, writer] = closeAllAfter(await other.pipes.create());
    await expect(backend.processes.spawn(hold, { args: [0, { nested: [writer] }] })).rejects.toBeInstanceOf(TypeError);
    await writer.write('still mine');
    expect(text(await reader.read())).toBe('still mine');
  });

  it('carries objects nested in plain data and reports this thread\'s open handles', async () => {
    const [reader, writer] = closeAllAfter(await backend.pipes.create());
    expect(backend.diagnostics.openObjects()).toEqual([expect.stringMatching(/^pipe reader \(handle \d+, object \d+\)$/), expect.stringMatching(/^pipe writer/)]);
    const echo = new URL('../../testkit/dist/children/write-all.js', import.meta.url);
    const child = await backend.processes.spawn(echo, { args: [writer, ['nested ', 'ok']] });
    await writer.close();
    expect(backend.diagnostics.openObjects()).toHaveLength(1);
    const chunks: string[] = [];
    for await (const chunk of reader) chunks.push(text(chunk)!);
    expect(chunks.join('')).toBe('nested ok');
    expect((await child.exited).code).toBe(0);
  });

  // The child's own workers end with its thread (Node terminates them with it) and their own
  // parent, whose event loop would have reaped them, is gone: this thread reaps them too.
  for (const [ending, depth] of [['killed', 1], ['returning', 1], ['exiting', 1], ['killed', 2], ['returning', 2]] as const) {
    it(`releases what a worker ${depth} level${depth > 1 ? 's' : ''} below a ${ending === 'exiting' ? 'process.exit-ing' : ending} child held: pipe writer, file lock, SEM_UNDO, owner slot`, async () => {
      const own = createWorkerBackend({ memoryBytes: 4 * 1024 * 1024 });
      const kernel = (own.pipes as unknown as { kernel: Kernel }).kernel;
      const [reader, writer] = closeAllAfter(await own.pipes.create());
      const path = `/lifetime/subtree-${ending}-${depth}`;
      const lockFile = closeAfter(await own.fileLocks.open(path, { create: true }));
      onTestFinished(() => own.fileLocks.remove(path));
      const set = closeAfter(await own.semaphores.open('private', { create: true, size: 1 }));
      onTestFinished(() => set.remove());
      set.setValue(0, 1);
      const ready = new SharedArrayBuffer(4);
      const mode = { killed: 'hold', returning: 'return', exiting: 'exit' }[ending];
      const child = await own.processes.spawn(subtree, { args: [depth, mode, ready, writer, path, set] });
      await writer.close();
      expect(text(await reader.read())).toBe('ready');
      expect(set.value(0)).toBe(0);
      if (ending === 'killed') expect(child.kill()).toBe(true);
      expect(await child.exited).toEqual({ code: { killed: 1, returning: 0, exiting: 3 }[ending], signal: null });
      // Released by the time `exited` settles: EOF at once, the lock free, the unit given back.
      expect(await reader.read({ nowait: true })).toBeNull();
      const held = await lockFile.lock({ start: 0, length: 1, nowait: true });
      await held.release();
      expect(set.value(0)).toBe(1);
      // No owner is left below this thread's.
      expect(kernel.calls.owner_next_descendant(kernel.owner, 0)).toBe(0);
    });
  }

  // Ending the child ends its workers' threads: as kill() does for the child, they are stopped
  // first and ended only once out of the kernel's critical sections (here one stays 300 ms).
  for (const ending of ['killed', 'returning'] as const) {
    it(`ends the worker below a ${ending} child only once it has left a kernel critical section`, async () => {
      const own = createWorkerBackend({ memoryBytes: 4 * 1024 * 1024 });
      const cells = new SharedArrayBuffer(12);
      const state = new Int32Array(cells);
      const child = await own.processes.spawn(inSection, { args: [1, ending === 'killed' ? 'hold' : 'return', cells, 300] });
      await waitUntil(() => Atomics.load(state, 0) === 1, 'the worker below inside its section');
      if (ending === 'killed') child.kill();
      expect(await child.exited).toEqual({ code: ending === 'killed' ? 1 : 0, signal: null });
      expect(Atomics.load(state, 2)).toBe(1);
    });
  }
});
