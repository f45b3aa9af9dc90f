/**
 * The kernel's lock (assembly/lock.ts) with real threads: a short spin, then a sleep on the lock
 * word counted in its sleepers, woken by the unlock; a holder that is terminated inside its
 * section has its lock broken when it is reaped, which wakes the sleepers; a sleeper whose parent
 * stops it leaves; a thread that may not sleep (this test's main thread) gives up with EINTR.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { createWorkerBackend } from '@ipcx/adapter-worker';
import { Worker } from 'node:worker_threads';
import { KernelConstants } from '../dist/generated/kernel.js';
import { nodeHost } from '../dist/host-node.js';
import { Kernel } from '../dist/kernel.js';
import { KernelErrno, Layout, ShmLayout } from '../dist/layout.js';
// Not part of the kit's public exports; the built file is what the suites use too.
import { waitUntil } from '../../testkit/dist/util.js';

const MiB = 1024 * 1024;
const contender = new URL('./children/lock-contender.mjs', import.meta.url);
const semContend = new URL('./children/sem-contend.mjs', import.meta.url);
const kernelUrl = new URL('../dist/kernel.js', import.meta.url).href;
const EINTR = KernelErrno.EINTR;
/** The lock word's holder bits and one sleeper (assembly/lock.ts). */
const HOLDER_MASK = 0xffff;
const SLEEPER_SHIFT = 16;

/** A kernel made here, a segment in it, and bare worker threads attached to it as new owners. */
function lockBench() {
  const kernel = Kernel.create(nodeHost.kernelModule(), MiB);
  const { calls } = kernel;
  const segment = calls.shm_get(0, 4096, ShmLayout.IPC_CREAT | 0o600, kernel.scratch, Date.now(), process.pid);
  expect(segment).toBeGreaterThanOrEqual(0);
  const mapping = calls.shm_attach(segment, 0, Date.now(), process.pid);
  expect(mapping).toBeGreaterThan(0);
  // The segment's lock word: its entry holds the wait cell (OBJ_SEQ) and the lock (OBJ_LOCK).
  const lockIndex = (calls.handle_wait_cell(mapping) - Layout.OBJ_SEQ + KernelConstants.OBJ_LOCK) >>> 2;
  const control = new SharedArrayBuffer(8);
  const cells = new Int32Array(control);
  const threads = new Map<number, Worker>();
  const owners: number[] = [];
  onTestFinished(async () => {
    Atomics.store(cells, 1, 1);
    Atomics.store(cells, 0, 1);
    Atomics.notify(cells, 0);
    await Promise.all([...threads.values()].map((thread) => thread.terminate()));
    for (const owner of owners) calls.owner_release(owner);
    calls.handle_close(mapping);
    calls.shm_remove(segment, Date.now());
  });
  // Owners and their handles are made before any thread runs: making them takes the segment's lock too.
  const prepare = (role: 'hold' | 'want', release = true) => {
    const owner = calls.owner_create(Layout.SCRATCH_BYTES);
    expect(owner).toBeGreaterThan(0);
    owners.push(owner);
    const handle = calls.handle_dup(mapping, owner);
    expect(handle).toBeGreaterThan(0);
    const messages: Record<string, unknown>[] = [];
    const participant = {
      owner,
      thread: undefined as Worker | undefined,
      exited: undefined as Promise<number> | undefined,
      run() {
        const thread = new Worker(contender, {
          workerData: { kernelUrl, module: kernel.module, memory: kernel.memory, owner, kernelId: kernel.id, role, handle, control, release, EINTR },
        });
        threads.set(owner, thread);
        thread.on('message', (message) => messages.push(message));
        participant.thread = thread;
        participant.exited = new Promise<number>((resolve) => thread.once('exit', resolve));
        return participant;
      },
      async next() {
        await waitUntil(() => messages.length > 0, `a message from the ${role} thread`);
        return messages.shift()!;
      },
    };
    return participant;
  };
  const word = () => Atomics.load(kernel.cells, lockIndex);
  return { kernel, calls, mapping, cells, prepare, word, owners };
}

describe('worker kernel lock', () => {
  it('puts contenders to sleep on the lock word and wakes them one by one at the unlock', { timeout: 60_000 }, async () => {
    const { calls, mapping, cells, prepare, word } = lockBench();
    const holder = prepare('hold');
    const wanting = [prepare('want'), prepare('want')];
    expect(await holder.run().next()).toEqual({ held: true });
    expect(word() & HOLDER_MASK).toBe(holder.owner);
    // This thread may not sleep (it made the kernel and reaps the others): it only spins, then EINTR.
    expect(calls.shm_notify(mapping, 0, 1)).toBe(-EINTR);
    expect(word() >>> SLEEPER_SHIFT).toBe(0);
    for (const thread of wanting) thread.run();
    // Both sleep on the word (counted in), the holder still holds it.
    await waitUntil(() => word() >>> SLEEPER_SHIFT === 2, 'two sleepers on the lock word');
    expect(word() & HOLDER_MASK).toBe(holder.owner);
    Atomics.store(cells, 0, 1);
    Atomics.notify(cells, 0);
    expect(await holder.next()).toEqual({ released: 0 });
    for (const thread of wanting) expect(await thread.next()).toMatchObject({ result: 0 });
    // Everyone gone: no holder, no sleeper left counted in.
    expect(word()).toBe(0);
    expect(calls.shm_notify(mapping, 0, 1)).toBe(0);
  });

  it('breaks the lock of a holder terminated inside its section when it is reaped, and wakes the sleepers', { timeout: 60_000 }, async () => {
    const { calls, prepare, word } = lockBench();
    const holder = prepare('hold', false);
    const wanting = [prepare('want'), prepare('want'), prepare('want')];
    expect(await holder.run().next()).toEqual({ held: true });
    for (const thread of wanting) thread.run();
    await waitUntil(() => word() >>> SLEEPER_SHIFT === 3, 'three sleepers on the lock word');
    // Terminated with the lock held (no owner_stop first: as a thread that died in the section).
    await holder.thread!.terminate();
    await holder.exited;
    expect(word() & HOLDER_MASK).toBe(holder.owner);
    // The reaper breaks its lock (and closes its mapping): the sleepers get the lock in turn.
    expect(calls.owner_release(holder.owner)).toBe(1);
    for (const thread of wanting) expect(await thread.next()).toMatchObject({ result: 0 });
    expect(word()).toBe(0);
  });

  it('lets a sleeper whose parent stops it leave the lock within a sleep slice, holding nothing', { timeout: 60_000 }, async () => {
    const { calls, cells, prepare, word } = lockBench();
    const holder = prepare('hold');
    const sleeper = prepare('want');
    expect(await holder.run().next()).toEqual({ held: true });
    sleeper.run();
    await waitUntil(() => word() >>> SLEEPER_SHIFT === 1, 'one sleeper on the lock word');
    // Waiting for a lock counts as holding one: terminating it now would be unsafe...
    expect(calls.owner_stop(sleeper.owner)).toBe(1);
    // ...until it notices `stopping` (at the latest after one slice) and leaves with EINTR.
    await waitUntil(() => calls.owner_stop(sleeper.owner) === 0, 'the stopped sleeper holding no lock');
    expect(word() >>> SLEEPER_SHIFT).toBe(0);
    expect(word() & HOLDER_MASK).toBe(holder.owner);
    Atomics.store(cells, 1, 1);
    expect(await sleeper.next()).toMatchObject({ result: -EINTR });
    Atomics.store(cells, 0, 1);
    Atomics.notify(cells, 0);
    expect(await holder.next()).toEqual({ released: 0 });
    expect(word()).toBe(0);
  });

  it('loses no unit when 8 workers contend for one semaphore set\'s lock', { timeout: 120_000 }, async () => {
    const backend = createWorkerBackend({ memoryBytes: 4 * MiB });
    const set = await backend.semaphores.open('private', { size: 3 });
    onTestFinished(async () => {
      await set.remove().catch(() => {});
      await set.close();
    });
    set.setValues([1, 0, 0]);
    const rounds = 300;
    const burst = 20;
    const children = await Promise.all(Array.from({ length: 8 }, () => backend.processes.spawn(semContend, { args: [set, rounds, burst] })));
    onTestFinished(async () => {
      await Promise.all(children.map((child) => child[Symbol.asyncDispose]()));
    });
    for (const child of children) expect(await child.exited).toEqual({ code: 0, signal: null });
    // Every round's tally unit is there, the mutex is free, every burst was taken back.
    expect(set.values()).toEqual([1, 8 * rounds, 0]);
    expect(set.waitingForIncrease(0)).toBe(0);
  });
});
