// The kernel's own allocator over the heap region (the AS runtime heap is per instance and is
// never used). Power-of-two size classes with one free list each; the caller holds the kernel lock.
// Deallocation is sized (`free(block, bytes)` with the size given to `alloc`): every caller knows
// it (a ring's capacity, a name's length, a scratch buffer's size), so blocks carry no header and a
// 64 KiB ring takes exactly 64 KiB.
//
// A block of class k (2^k bytes, aligned to 16 at least):
//
//   in use                                      free
//   ┌───────────────────────────────────┐       ┌─────────────────┬─────────────────┐
//   │ payload (2^k bytes, all the       │       │ u32 next free   │ unused          │
//   │ caller's)                         │       │ block (0 = end) │                 │
//   └───────────────────────────────────┘       └─────────────────┴─────────────────┘
//
// alloc: pop the class's free list; else bump the heap top (aligned to the block's size, up to
// 4 KiB, so that halves of split blocks stay aligned); else split a free block of a larger class
// in halves (the unused halves go to their classes' free lists). free: push onto the class's list.
// Blocks are never coalesced: a freed ring is reused whole by the next ring of its size, or split
// for smaller ones, which is what a kernel that creates and removes objects in turn needs.
// Out of memory: 0, which entry points report as ENOMEM (or ENOSPC where the kernel says so).
import { HDR_FREE_LISTS, hdr, kernelHeader, kernelLock, kernelUnlock } from './kernel';
import { EINTR } from './errno';

export const MIN_CLASS: u32 = 4; // 16-byte blocks
export const MAX_CLASS: u32 = 31;
export const FREE_LIST_COUNT: u32 = 32;
/** Where the free lists end in the header (it must stay within KERNEL_HEADER_BYTES: the layout test checks). */
export const KERNEL_HEADER_USED: u32 = HDR_FREE_LISTS + FREE_LIST_COUNT * 4;

@inline function freeList(sizeClass: u32): usize {
  return hdr(HDR_FREE_LISTS) + (<usize>sizeClass << 2);
}

/** The size class whose blocks hold `bytes`. */
export function classFor(bytes: u32): u32 {
  if (bytes <= 1) return MIN_CLASS;
  const k: u32 = 32 - <u32>clz<u32>(bytes - 1);
  return k < MIN_CLASS ? MIN_CLASS : k;
}

/** Sets up an empty heap over [start, end). */
export function heapInit(start: u32, end: u32): void {
  kernelHeader().heapTop = (start + 15) & ~15;
  kernelHeader().heapEnd = end;
  for (let k: u32 = 0; k < FREE_LIST_COUNT; k++) store<u32>(freeList(k), 0);
}

/** A block of at least `bytes`, or 0 when the heap is full. Caller holds the kernel lock. */
export function alloc(bytes: u32): usize {
  if (bytes > (<u32>1 << 30)) return 0;
  const k = classFor(bytes);
  const head = load<u32>(freeList(k));
  if (head != 0) {
    store<u32>(freeList(k), load<u32>(<usize>head));
    return head;
  }
  const size: u32 = 1 << k;
  const align: u32 = min<u32>(size, 4096) - 1;
  const top = (kernelHeader().heapTop + align) & ~align;
  if (<u64>top + size <= <u64>kernelHeader().heapEnd) {
    kernelHeader().heapTop = top + size;
    return top;
  }
  for (let j: u32 = k + 1; j <= MAX_CLASS; j++) {
    const big = load<u32>(freeList(j));
    if (big == 0) continue;
    store<u32>(freeList(j), load<u32>(<usize>big));
    // Keep the lower half, give the upper half back, until the block has the wanted class.
    let current = j;
    while (current > k) {
      current--;
      const upper = <usize>big + (<usize>1 << current);
      store<u32>(upper, load<u32>(freeList(current)));
      store<u32>(freeList(current), <u32>upper);
    }
    return big;
  }
  return 0;
}

/** Returns a block from {@link alloc} (asked for `bytes`) to its class's free list. Caller holds the kernel lock. */
export function free(block: usize, bytes: u32): void {
  if (block == 0) return;
  const k = classFor(bytes);
  store<u32>(block, load<u32>(freeList(k)));
  store<u32>(freeList(k), <u32>block);
}

/** Bytes on the free lists plus the unused heap (diagnostics and tests). Caller holds the kernel lock. */
export function freeBytes(): u32 {
  let total: u64 = <u64>(kernelHeader().heapEnd - kernelHeader().heapTop);
  for (let k: u32 = MIN_CLASS; k <= MAX_CLASS; k++) {
    for (let b = load<u32>(freeList(k)); b != 0; b = load<u32>(<usize>b)) total += <u64>1 << k;
  }
  return <u32>min<u64>(total, 0xffffffff);
}

/** Free heap bytes (free lists + untouched heap), or -EINTR. */
export function heapFreeBytes(): i32 {
  if (!kernelLock()) return -EINTR;
  const bytes = freeBytes();
  kernelUnlock();
  return <i32>min<u32>(bytes, 0x7fffffff);
}
