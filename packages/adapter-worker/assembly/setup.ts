// Laying out a kernel and attaching a thread's instance to it: the entry points that run before
// any object exists (kernel_init once per kernel, kernel_attach once per thread), and the
// per-instance results every thread reads back.
import { heapInit } from './alloc';
import { EINVAL } from './errno';
import { HANDLE_BYTES } from './handle';
import {
  HDR_MAGIC,
  KERNEL_BASE,
  KERNEL_HEADER_BYTES,
  KERNEL_MAGIC,
  MIN_MEMORY_BYTES,
  currentOwner,
  hdr,
  kernelHeader,
  secondResult,
  setCurrentOwner,
} from './kernel';
import { OBJECT_BYTES } from './object';
import { OWNERS_MAX, OWNER_BYTES, ownerAt, ownerEntry, ownerValid } from './owner';

/** Where the static data of this module ends (must stay below KERNEL_BASE). */
export function staticEnd(): u32 {
  return <u32>__heap_base;
}

/**
 * Lays out an empty kernel over `bytes` of memory (once, by the thread that creates it): tables
 * sized from the memory, the rest is heap. 0 or -EINVAL (too small).
 */
export function kernelInit(bytes: u32): i32 {
  if (bytes < MIN_MEMORY_BYTES) return -EINVAL;
  const objects: u32 = min<u32>(max<u32>(bytes >> 13, 64), 65536);
  const handles: u32 = objects * 4;
  const owners: u32 = KERNEL_BASE + KERNEL_HEADER_BYTES;
  const handleTable: u32 = owners + OWNERS_MAX * OWNER_BYTES;
  const objectTable: u32 = (handleTable + handles * HANDLE_BYTES + 63) & ~63;
  const heap: u32 = objectTable + objects * OBJECT_BYTES;
  if (heap >= bytes) return -EINVAL;
  memory.fill(hdr(0), 0, heap - KERNEL_BASE);
  const header = kernelHeader();
  header.memoryBytes = bytes;
  header.owners = owners;
  header.ownersMax = OWNERS_MAX;
  header.handles = handleTable;
  header.handlesMax = handles;
  header.objects = objectTable;
  header.objectsMax = objects;
  heapInit(heap, bytes);
  // Published last: another instance checks the magic before trusting the tables.
  atomic.store<u32>(hdr(HDR_MAGIC), KERNEL_MAGIC);
  return 0;
}

/** Makes this instance act for `owner` (its handles, its locks). 0 or -EINVAL. */
export function kernelAttach(owner: i32): i32 {
  if (atomic.load<u32>(hdr(HDR_MAGIC)) != KERNEL_MAGIC || !ownerValid(owner)) return -EINVAL;
  setCurrentOwner(owner);
  return 0;
}

/** The second result of the last call (e.g. the writer handle of `pipe_create`). */
export function secondResultOf(): i32 {
  return secondResult;
}

/** The scratch buffer of the current owner (0 before `kernel_attach`). */
export function currentScratch(): u32 {
  return currentOwner == 0 ? 0 : ownerEntry(ownerAt(currentOwner)).scratch;
}
