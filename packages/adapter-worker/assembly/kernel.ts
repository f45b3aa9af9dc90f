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
// Header at KERNEL_BASE (KERNEL_HEADER_BYTES reserved; KernelHeader below owns the offsets):
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
//   +48  │ u32 object hint        │ where the next free-slot search starts
//   +52  │ u32 handle hint        │
//   +56  │ u32 owner serial       │ creation number of the last owner (owner.ts: tells a reused
//        │                        │ slot's owners apart)
//   +60  │ u32 free lists [32]    │ one free list per size class (alloc.ts: FREE_LIST_COUNT)
//   +188 │ reserved               │
//   +256 └────────────────────────┘
//
// Lock order: the kernel lock before an object's lock, never the other way round.

export const KERNEL_BASE: u32 = 65536;
export const KERNEL_MAGIC: u32 = 0x6b637069; // "ipck"
/** Bytes reserved for the header (room to grow; KernelHeader plus the free lists fit in it). */
export const KERNEL_HEADER_BYTES: u32 = 256;

/** The header's fields (the diagram above); the compiler owns their offsets. */
@unmanaged export class KernelHeader {
  magic: u32;
  memoryBytes: u32;
  lock: i32;
  nextSerial: u32;
  owners: u32;
  ownersMax: u32;
  handles: u32;
  handlesMax: u32;
  objects: u32;
  objectsMax: u32;
  heapTop: u32;
  heapEnd: u32;
  objectHint: u32;
  handleHint: u32;
  /** Creation number of the last owner made (owner.ts). */
  ownerSerial: u32;
  /** The first of the allocator's free lists (alloc.ts: FREE_LIST_COUNT u32 words from here). */
  freeLists: u32;
}

export const HDR_MAGIC: u32 = offsetof<KernelHeader>('magic');
export const HDR_LOCK: u32 = offsetof<KernelHeader>('lock');
export const HDR_FREE_LISTS: u32 = offsetof<KernelHeader>('freeLists');

/** The header, as a record. */
@inline export function kernelHeader(): KernelHeader {
  return changetype<KernelHeader>(<usize>KERNEL_BASE);
}

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
