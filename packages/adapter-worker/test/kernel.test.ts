/**
 * The emulated kernel itself: the TypeScript mirror of its layout, its allocator under churn, and
 * what a full kernel answers.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { createWorkerBackend } from '@ipcx/adapter-worker';
import { Errno, type IpcObject } from '@ipcx/core';
import { readFileSync } from 'node:fs';
import { KernelConstants, KernelEntryPoints } from '../dist/generated/kernel.js';
import { nodeHost } from '../dist/host-node.js';
import { Kernel } from '../dist/kernel.js';
import { End, Kind, KernelErrno, Layout, RingLimits, RingSpan, MsgLayout, PmqLayout, SemaphoreLayout, ShmLayout, SocketLayout, FileLockLayout } from '../dist/layout.js';

const MiB = 1024 * 1024;

/** A new owner created by `creator`'s thread (so its child), and an instance acting for it: a thread as the kernel sees one. */
function ownerThread(kernel: Kernel, creator: Kernel, pid: number): Kernel {
  const owner = creator.calls.owner_create(Layout.SCRATCH_BYTES);
  expect(owner).toBeGreaterThan(0);
  return Kernel.attach(kernel.module, kernel.memory, owner, kernel.id, pid);
}

function closeAllAfter(objects: IpcObject[]): void {
  onTestFinished(async () => {
    await Promise.all(objects.map((object) => object.close()));
  });
}

describe('worker kernel', () => {
  it('generates every constant and entry point of the shipped kernel.wasm, and nothing else', () => {
    // The module as the package ships it (dist/kernel.wasm, what both hosts load), read here
    // independently of the host's loader.
    const module = new WebAssembly.Module(readFileSync(new URL('../dist/kernel.wasm', import.meta.url)));
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    const exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
    const globals: Record<string, number> = {};
    const functions: Record<string, number> = {};
    for (const { name, kind } of WebAssembly.Module.exports(module)) {
      if (kind === 'global') globals[name] = (exports[name] as WebAssembly.Global).value as number;
      if (kind === 'function') functions[name] = (exports[name] as (...args: unknown[]) => unknown).length;
    }
    expect(KernelConstants).toEqual(globals);
    expect(KernelEntryPoints).toEqual(functions);
    // Records whose fields the TypeScript side reads, at the offsets the compiler gave them.
    expect(Object.keys(globals)).toEqual(expect.arrayContaining(['OBJ_SEQ', 'OBJ_PARKED', 'MSG_RECEIVED_PAYLOAD', 'SPAN_SECOND', 'W_STATUS', 'WAITER_STATE']));
    // The object entry's parts fit where object.ts places them: the kind area (two rings), the
    // other fields, then each ring's copies in flight RING_FLIGHT after it.
    const { OBJECT_BYTES, OBJ_RING0, RING_BYTES, RING_FLIGHT, RING_FLIGHT_BYTES, KIND_AREA_BYTES, OBJECT_INFO_BYTES } = KernelConstants;
    expect(KIND_AREA_BYTES).toBe(2 * RING_BYTES);
    expect(KIND_AREA_BYTES + OBJECT_INFO_BYTES).toBeLessThanOrEqual(RING_FLIGHT);
    expect(RING_FLIGHT_BYTES).toBeLessThanOrEqual(RING_BYTES);
    expect(OBJECT_BYTES).toBe(OBJ_RING0 + RING_BYTES + RING_FLIGHT + RING_BYTES);
    // Two wait cells: byte streams' (pipe, duplex, FIFO) between ring 0's copies in flight and ring
    // 1's, on the line of ring 0's `committed`, not on the lock's line; every other kind's on the
    // lock's line (its waiters take the lock as soon as the cell changes).
    const { OBJ_SEQ, OBJ_RING_SEQ, OBJ_LOCK } = KernelConstants;
    expect(OBJECT_BYTES % 64).toBe(0);
    expect(OBJ_RING_SEQ).toBeGreaterThanOrEqual(OBJ_RING0 + RING_FLIGHT + RING_FLIGHT_BYTES);
    expect(OBJ_RING_SEQ + 4).toBeLessThanOrEqual(OBJ_RING0 + RING_BYTES + RING_FLIGHT);
    expect(Math.floor(OBJ_RING_SEQ / 64)).toBe(Math.floor((OBJ_RING0 + RING_FLIGHT) / 64));
    expect(Math.floor(OBJ_RING_SEQ / 64)).not.toBe(Math.floor(OBJ_LOCK / 64));
    expect(Math.floor(OBJ_SEQ / 64)).toBe(Math.floor(OBJ_LOCK / 64));
    const recordEnds = Object.entries(KernelConstants).filter(([name]) => name.endsWith('_RECORD_END'));
    expect(recordEnds.length).toBeGreaterThanOrEqual(5);
    for (const [name, end] of recordEnds) expect({ name, fits: end <= OBJ_RING0 + KIND_AREA_BYTES }).toEqual({ name, fits: true });
    // The kernel header's fields and free lists fit in the bytes reserved for it.
    expect(KernelConstants.KERNEL_HEADER_USED).toBeLessThanOrEqual(KernelConstants.KERNEL_HEADER_BYTES);
  });

  it('has the same layout constants in TypeScript as in AssemblyScript', () => {
    const kernel = Kernel.create(nodeHost.kernelModule(), MiB);
    const globals = kernel.calls as unknown as Record<string, WebAssembly.Global | undefined>;
    const mirrored = { ...Layout, ...Kind, ...End, ...RingLimits, ...RingSpan, ...KernelErrno, ...SocketLayout, ...ShmLayout, ...SemaphoreLayout, ...MsgLayout, ...PmqLayout, ...FileLockLayout };
    for (const [name, value] of Object.entries(mirrored)) {
      expect({ name, value: globals[name]?.value }).toEqual({ name, value });
    }
    // The kernel's errno numbers are Linux's, as core's table has them.
    for (const [name, value] of Object.entries(KernelErrno)) expect(value).toBe(Errno[name as keyof typeof Errno]);
    // The module's own static data ends below the kernel region.
    expect(kernel.calls.static_end()).toBeLessThanOrEqual(Layout.KERNEL_BASE);
  });

  it("hands out a pipe's wait cell at OBJ_RING_SEQ and an event counter's at OBJ_SEQ of their entries", () => {
    const kernel = Kernel.create(nodeHost.kernelModule(), MiB);
    const { calls } = kernel;
    const reader = calls.pipe_create(0);
    const writer = calls.second_result();
    const counter = calls.efd_create(0, 0);
    expect([reader > 0, writer > 0, counter > 0]).toEqual([true, true, true]);
    const pipeEntry = calls.handle_wait_cell(reader) - KernelConstants.OBJ_RING_SEQ;
    const counterEntry = calls.handle_wait_cell(counter) - Layout.OBJ_SEQ;
    // Both are entry starts: their distance is a whole number of entries, the one between their ids.
    expect(counterEntry - pipeEntry).toBe((calls.handle_object(counter) - calls.handle_object(reader)) * Layout.OBJECT_BYTES);
    expect(calls.handle_wait_cell(writer)).toBe(calls.handle_wait_cell(reader));
    expect(calls.efd_wait_cell(counter)).toBe(calls.handle_wait_cell(counter));
    for (const handle of [reader, writer, counter]) expect(calls.handle_close(handle)).toBe(0);
    expect(calls.objects_live()).toBe(0);
  });

  it('creates and removes 100,000 pipes in a row in a small kernel, reusing the memory', async () => {
    const backend = createWorkerBackend({ memoryBytes: MiB });
    const kernel = (backend.pipes as unknown as { kernel: Kernel }).kernel;
    // Warm up with both sizes: the heap never gets back the alignment padding of a size class's
    // first block (a ring's slot table is small and leaves the top unaligned), only its blocks.
    for (const capacity of [65536, 4096]) {
      const [reader0, writer0] = await backend.pipes.create({ capacity });
      await reader0.close();
      await writer0.close();
    }
    const freeBefore = kernel.calls.heap_free_bytes();
    for (let i = 0; i < 100_000; i++) {
      const [reader, writer] = await backend.pipes.create({ capacity: i % 2 === 0 ? 65536 : 4096 });
      if (i % 1000 === 0) {
        await writer.write(`pipe ${i}`);
        expect(new TextDecoder().decode((await reader.read())!)).toBe(`pipe ${i}`);
      }
      await writer.close();
      await reader.close();
    }
    expect(kernel.calls.heap_free_bytes()).toBe(freeBefore);
    expect(kernel.calls.objects_live()).toBe(0);
    expect(backend.diagnostics.openObjects()).toEqual([]);
  });

  it('answers ENOMEM when its memory is full and works again once pipes are closed', async () => {
    const backend = createWorkerBackend({ memoryBytes: MiB });
    const made: IpcObject[] = [];
    closeAllAfter(made);
    let error: unknown;
    for (let i = 0; i < 100 && error === undefined; i++) {
      try {
        made.push(...(await backend.pipes.create()));
      } catch (caught) {
        error = caught;
      }
    }
    expect(error).toMatchObject({ name: 'IpcError', code: 'ENOMEM', errno: Errno.ENOMEM, syscall: 'pipe2' });
    // Roughly (1 MiB - tables - this thread's scratch) / 64 KiB pipes fitted.
    expect(made.length / 2).toBeGreaterThanOrEqual(8);
    // Growing a pipe beyond what is left fails the same way; the pipe keeps working.
    const writer = made[1] as unknown as { setCapacity(bytes: number): number; write(data: string): Promise<number> };
    expect(() => writer.setCapacity(1 << 20)).toThrow(expect.objectContaining({ code: 'ENOMEM' }));
    await made.pop()!.close();
    await made.pop()!.close();
    const [reader, again] = await backend.pipes.create();
    made.push(reader, again);
    await again.write('room again');
    expect(new TextDecoder().decode((await reader.read())!)).toBe('room again');
  });

  it('answers ENOSPC when its object table is full of FIFOs, and EEXIST/ENOENT by name', async () => {
    const backend = createWorkerBackend({ memoryBytes: MiB });
    const kernel = (backend.pipes as unknown as { kernel: Kernel }).kernel;
    const max = kernel.calls.objects_max();
    const paths = Array.from({ length: max }, (_, i) => `/emulated/fifo-${i}`);
    onTestFinished(async () => {
      await Promise.allSettled(paths.map((path) => backend.fifos.remove(path)));
    });
    for (const path of paths) await backend.fifos.create(path);
    await expect(backend.fifos.create('/emulated/one-too-many')).rejects.toMatchObject({ code: 'ENOSPC', errno: Errno.ENOSPC, syscall: 'mkfifo' });
    await expect(backend.fifos.create(paths[0]!)).rejects.toMatchObject({ code: 'EEXIST' });
    // Pipes have no room either: the table is the kernel's file table.
    await expect(backend.pipes.create()).rejects.toMatchObject({ code: 'ENFILE' });
    expect(await backend.diagnostics.kernelObjects()).toHaveLength(max);
    await backend.fifos.remove(paths[0]!);
    await expect(backend.fifos.remove(paths[0]!)).rejects.toMatchObject({ code: 'ENOENT', syscall: 'unlink' });
    await backend.fifos.create('/emulated/one-too-many');
    paths.push('/emulated/one-too-many');
  });

  it('refuses a kernel smaller than 256 KiB', () => {
    expect(() => createWorkerBackend({ memoryBytes: 1024 })).toThrow(RangeError);
    expect(() => createWorkerBackend({ memoryBytes: 'big' as never })).toThrow(TypeError);
  });

  it('takes back the write a dead thread left in flight, and leaves its read for the next reader', () => {
    // A second owner on the same memory plays a worker that died inside a copy: it began and
    // never ended. Its reaper (owner_release) must undo it; nothing else may see half of it.
    const kernel = Kernel.create(nodeHost.kernelModule(), MiB);
    const { calls } = kernel;
    const { EAGAIN, EINTR } = KernelErrno;
    const reader = calls.pipe_create(65536);
    const writer = calls.second_result();
    const put = (data: string) => {
      const bytes = new TextEncoder().encode(data);
      kernel.bytes.set(bytes, kernel.scratch);
      return calls.stream_write(writer, kernel.scratch, bytes.length, 0, 0);
    };
    const take = (max: number) => {
      const n = calls.stream_read(reader, kernel.scratch, max);
      return n < 0 ? n : new TextDecoder().decode(kernel.bytes.slice(kernel.scratch, kernel.scratch + n));
    };
    const dying = () => {
      const owner = calls.owner_create(Layout.SCRATCH_BYTES);
      return { owner, thread: Kernel.attach(kernel.module, kernel.memory, owner, kernel.id, 2), reader: calls.handle_dup(reader, owner), writer: calls.handle_dup(writer, owner) };
    };

    const writing = dying();
    expect(writing.thread.calls.stream_write_begin(writing.writer, 20_000, 0, 0)).toBe(20_000);
    expect(take(100)).toBe(-EAGAIN); // not committed: readers see none of it
    expect(put('x')).toBe(-EINTR); // the writing side is busy: another writer waits (here: gives up its spin)
    expect(calls.owner_release(writing.owner)).toBe(2);
    // Rolled back: its five pages are free again (a whole 64 KiB write fits), no stray bytes.
    expect(put('after')).toBe(5);
    expect(take(100)).toBe('after');
    kernel.bytes.fill(1, kernel.scratch, kernel.scratch + 65536);
    expect(calls.stream_write(writer, kernel.scratch, 65536, 0, 0)).toBe(65536);
    expect(calls.stream_read(reader, kernel.scratch, 65536)).toBe(65536);

    const reading = dying();
    expect(put('kept for the next reader')).toBe(24);
    expect(reading.thread.calls.stream_read_begin(reading.reader, 100)).toBe(24);
    expect(take(100)).toBe(-EINTR); // the reading side is busy
    expect(calls.owner_release(reading.owner)).toBe(2);
    expect(take(100)).toBe('kept for the next reader');

    // A live thread's copy ends normally: the end call publishes it.
    const live = dying();
    expect(live.thread.calls.stream_write_begin(live.writer, 4, 0, 0)).toBe(4);
    const span = live.thread.scratch >>> 2;
    kernel.bytes.set(new TextEncoder().encode('done'), kernel.cells[span + RingSpan.SPAN_FIRST / 4]!);
    expect(live.thread.calls.stream_write_end(live.writer)).toBe(0);
    expect(live.thread.calls.stream_write_end(live.writer)).toBe(-KernelErrno.EBADF); // nothing in flight any more
    expect(take(100)).toBe('done');
    expect(calls.owner_release(live.owner)).toBe(2);
    expect(calls.handle_close(reader)).toBe(0);
    expect(calls.handle_close(writer)).toBe(0);
    expect(calls.objects_live()).toBe(0);
  });
  it('lets an owner marked stopping take no lock and change nothing until it is reaped', () => {
    const kernel = Kernel.create(nodeHost.kernelModule(), MiB);
    const { calls } = kernel;
    const EINTR = -KernelErrno.EINTR;
    const owner = calls.owner_create(Layout.SCRATCH_BYTES);
    const thread = Kernel.attach(kernel.module, kernel.memory, owner, kernel.id, 2);
    // Before: the thread works, holds no lock between calls.
    const reader = thread.calls.pipe_create(65536);
    expect(reader).toBeGreaterThan(0);
    const writer = thread.calls.second_result();
    // A futex wait's first step returns with the segment's lock held until its second step: a
    // parent stopping the thread then sees one lock and must wait; the second step releases it.
    const segment = thread.calls.shm_get(0, 4096, ShmLayout.IPC_CREAT | 0o600, thread.scratch, Date.now(), 2);
    const mapping = thread.calls.shm_attach(segment, 0, Date.now(), 2);
    const waiter = thread.calls.shm_wait_prepare(mapping, 0);
    expect(waiter).toBeGreaterThan(0);
    expect(calls.owner_stop(owner)).toBe(1);
    expect(thread.calls.shm_wait_abandon(mapping)).toBe(0);
    // Idle between calls: no lock held or wanted, so terminating it now cuts no section.
    expect(calls.owner_stop(owner)).toBe(0);
    expect(thread.calls.shm_wait_free(mapping, waiter)).toBe(EINTR); // the reaper frees it
    // Stopping: every entry point that needs a lock answers "call again", and changes nothing.
    expect(thread.calls.pipe_create(65536)).toBe(EINTR);
    expect(thread.calls.handle_close(reader)).toBe(EINTR);
    expect(calls.objects_live()).toBe(2); // the pipe and the segment
    expect(calls.owner_stop(owner + 100)).toBe(-KernelErrno.EINVAL); // no such owner
    expect(calls.owner_stop(kernel.owner)).toBe(-KernelErrno.EINVAL); // not oneself
    // Reaped: its pipe and its mapping go with it; a new owner in the slot starts un-stopped.
    expect(calls.owner_release(owner)).toBe(3);
    expect(calls.shm_remove(segment, Date.now())).toBe(0);
    expect(calls.objects_live()).toBe(0);
    const next = calls.owner_create(Layout.SCRATCH_BYTES);
    expect(next).toBe(owner);
    const again = Kernel.attach(kernel.module, kernel.memory, next, kernel.id, 3);
    expect(again.calls.pipe_create(4096)).toBeGreaterThan(0);
    expect(calls.owner_release(next)).toBe(2);
    expect(writer).toBeGreaterThan(0);
  });

  it("stops and reaps an owner's whole subtree (the owners its thread created, and theirs), the deepest first", () => {
    // Threads played by instances: this one creates `child`, whose thread creates `middle`, whose
    // thread creates `leaf`; `sibling` is another child of this thread.
    const kernel = Kernel.create(nodeHost.kernelModule(), MiB);
    const { calls } = kernel;
    const { EINTR, EINVAL } = KernelErrno;
    const thread = (creator: Kernel, pid: number) => ownerThread(kernel, creator, pid);
    const child = thread(kernel, 2);
    const middle = thread(child, 3);
    const leaf = thread(middle, 4);
    const sibling = thread(kernel, 5);
    for (const each of [child, middle, leaf, sibling]) expect(each.calls.pipe_create(65536)).toBeGreaterThan(0);
    expect(calls.owner_serial(leaf.owner)).toBeGreaterThan(calls.owner_serial(middle.owner));
    // The leaf is inside a critical section: a futex wait's first step holds the segment's lock.
    const segment = leaf.calls.shm_get(0, 4096, ShmLayout.IPC_CREAT | 0o600, leaf.scratch, Date.now(), 4);
    const mapping = leaf.calls.shm_attach(segment, 0, Date.now(), 4);
    expect(leaf.calls.shm_wait_prepare(mapping, 0)).toBeGreaterThan(0);

    // The child ending by itself stops its descendants (not itself): one lock still held below.
    expect(child.calls.owner_stop_descendants()).toBe(1);
    expect(middle.calls.pipe_create(65536)).toBe(-EINTR);
    expect(child.calls.pipe_create(65536)).toBeGreaterThan(0); // the child itself works on
    // Its parent's stop covers the child and its whole subtree, and waits for the same lock.
    expect(calls.owner_stop(child.owner)).toBe(1);
    expect(child.calls.pipe_create(65536)).toBe(-EINTR);
    expect(sibling.calls.pipe_create(65536)).toBeGreaterThan(0); // not below the child
    expect(leaf.calls.shm_wait_abandon(mapping)).toBe(0);
    expect(calls.owner_stop(child.owner)).toBe(0);
    // A child being stopped by its parent waits for it to end its thread (see stopDescendants).
    expect(child.calls.owner_stop_descendants()).toBe(-EINTR);
    expect(calls.owner_next_descendant(child.owner, 0)).toBe(middle.owner);
    expect(calls.owner_next_descendant(child.owner, middle.owner)).toBe(leaf.owner);
    expect(calls.owner_next_descendant(child.owner, leaf.owner)).toBe(0);

    // Reaped together: four pipes of two ends and the leaf's mapping; the sibling is untouched.
    expect(calls.owner_release(child.owner)).toBe(9);
    for (const gone of [child, middle, leaf]) expect(calls.owner_serial(gone.owner)).toBe(-EINVAL);
    expect(calls.owner_next_descendant(kernel.owner, 0)).toBe(sibling.owner);
    expect(calls.owner_next_descendant(kernel.owner, sibling.owner)).toBe(0);
    expect(calls.owner_release(sibling.owner)).toBe(4);
    expect(calls.shm_remove(segment, Date.now())).toBe(0);
    expect(calls.objects_live()).toBe(0);
    // A thread cannot reap its own ancestor.
    const parent = thread(kernel, 6);
    const below = thread(parent, 7);
    expect(below.calls.owner_release(parent.owner)).toBe(-EINVAL);
    expect(calls.owner_release(parent.owner)).toBe(0);
  });

  it('reaps a subtree whose member died holding a lock that a deeper member\'s close needs', () => {
    // Ended without a stop (as by the engine's resource limits): the child inside a futex wait's
    // first step, holding the segment's lock, which its own child's mapping needs to close.
    const kernel = Kernel.create(nodeHost.kernelModule(), MiB);
    const { calls } = kernel;
    const child = ownerThread(kernel, kernel, 2);
    const leaf = ownerThread(kernel, child, 3);
    const segment = child.calls.shm_get(0, 4096, ShmLayout.IPC_CREAT | 0o600, child.scratch, Date.now(), 2);
    const mapping = child.calls.shm_attach(segment, 0, Date.now(), 2);
    expect(child.calls.handle_dup(mapping, leaf.owner)).toBeGreaterThan(0);
    expect(child.calls.shm_wait_prepare(mapping, 0)).toBeGreaterThan(0);
    // The leaf goes first (the deepest), its close taking the lock its dead parent held.
    expect(calls.owner_release(child.owner)).toBe(2);
    expect(calls.shm_remove(segment, Date.now())).toBe(0);
    expect(calls.objects_live()).toBe(0);
  });
});
