// The kernel header: where every table lives, the kernel lock, and the allocator's state.
//
// Shared memory (one WebAssembly.Memory, shared by every thread):
//
//   0            KERNEL_BASE                                                    memory end
//   ├────────────┼────────┬─────────┬─────────┬─────────┬────────────────────────────────┤
//   │ AS statics │ header │ owners  │ handles │ objects │ heap (alloc.ts: rings, names,  │
//   │ (unused)   │        │ table   │ table   │ table   │ per-thread scratch buffers)    │
//   └────────────┴────────┴─────────┴─────────┴─────────┴────────────────────────────────┘
//
// Header at KERNEL_BASE (KERNEL_HEADER_BYTES):
//
//   +0   ┌────────────────────────┐
//        │ u32 magic              │ KERNEL_MAGIC once initialised
//   +4   │ u32 memory bytes       │
//   +8   │ i32 lock               │ the kernel lock (lock.ts): allocator, tables, namespace
//   +12  │ u32 next serial        │ creation number of the next object (diagnostics)
//   +16  │ u32 owners ptr         │
//   +20  │ u32 owners max         │
//   +24  │ u32 handles ptr        │
//   +28  │ u32 handles max        │
//   +32  │ u32 objects ptr        │
//   +36  │ u32 objects max        │
//   +40  │ u32 heap top           │ bump pointer of the allocator
//   +44  │ u32 heap end           │
//   +48  │ u32 free lists [32]    │ one free list per size class (alloc.ts)
//   +176 │ u32 object hint        │ where the next free-slot search starts
//   +180 │ u32 handle hint        │
//   +184 │ reserved               │
//   +256 └────────────────────────┘
//
// Lock order: the kernel lock before an object's lock, never the other way round.

export const KERNEL_BASE: u32 = 65536;
export const KERNEL_MAGIC: u32 = 0x6b637069; // "ipck"
export const KERNEL_HEADER_BYTES: u32 = 256;

export const HDR_MAGIC: u32 = 0;
export const HDR_MEMORY_BYTES: u32 = 4;
export const HDR_LOCK: u32 = 8;
export const HDR_NEXT_SERIAL: u32 = 12;
export const HDR_OWNERS: u32 = 16;
export const HDR_OWNERS_MAX: u32 = 20;
export const HDR_HANDLES: u32 = 24;
export const HDR_HANDLES_MAX: u32 = 28;
export const HDR_OBJECTS: u32 = 32;
export const HDR_OBJECTS_MAX: u32 = 36;
export const HDR_HEAP_TOP: u32 = 40;
export const HDR_HEAP_END: u32 = 44;
export const HDR_FREE_LISTS: u32 = 48;
export const HDR_OBJECT_HINT: u32 = 176;
export const HDR_HANDLE_HINT: u32 = 180;

/** Smallest kernel memory accepted (4 MiB is plenty for tests; 256 KiB still works). */
export const MIN_MEMORY_BYTES: u32 = 256 * 1024;

/** The owner id of the thread running this instance (globals are per instance, not shared). */
export let currentOwner: i32 = 0;
/** A second result of the last call (e.g. the writer of `pipe_create`), per instance. */
export let secondResult: i32 = 0;

@inline export function hdr(field: u32): usize {
  return <usize>(KERNEL_BASE + field);
}

@inline export function kernelLock(): bool {
  return lockAcquireKernel();
}

import { lockAcquire, lockRelease } from './lock';

function lockAcquireKernel(): bool {
  return lockAcquire(hdr(HDR_LOCK), currentOwner);
}

@inline export function kernelUnlock(): void {
  lockRelease(hdr(HDR_LOCK));
}

/** Sets which owner this instance acts for (called once per thread after instantiation). */
export function setCurrentOwner(owner: i32): void {
  currentOwner = owner;
}

export function setSecondResult(value: i32): void {
  secondResult = value;
}
