// The kernel's own allocator over the heap region (the AS runtime heap is per instance and is
// never used). Power-of-two size classes with one free list each; the caller holds the kernel lock.
//
// A block (BLOCK_HEADER_BYTES header, then the payload handed out):
//
//   block                                  block + BLOCK_HEADER_BYTES
//   ├────────────────┬─────────────────────┼──────────────────────────────────────┐
//   │ u32 size class │ u32 next free block │ payload (2^class - 8 bytes)          │
//   │ (log2 of size) │ (0 = end; while free│                                      │
//   │                │  BLOCK_USED in use) │                                      │
//   └────────────────┴─────────────────────┴──────────────────────────────────────┘
//
// alloc: pop the class's free list; else bump the heap top; else split a free block of a larger
// class in halves (the unused halves go to their classes' free lists). free: push onto the class's
// list. Blocks are never coalesced: a freed ring is reused whole by the next ring of its size, or
// split for smaller ones, which is what a kernel that creates and removes objects in turn needs.
// Out of memory: 0, which entry points report as ENOMEM.
import { HDR_FREE_LISTS, HDR_HEAP_END, HDR_HEAP_TOP, hdr } from './kernel';

export const BLOCK_HEADER_BYTES: u32 = 8;
export const BLOCK_USED: u32 = 0x75736564; // "used"
export const MIN_CLASS: u32 = 5; // 32-byte blocks
export const MAX_CLASS: u32 = 31;
export const FREE_LIST_COUNT: u32 = 32;

@inline function freeList(sizeClass: u32): usize {
  return hdr(HDR_FREE_LISTS) + (<usize>sizeClass << 2);
}

/** The size class whose blocks hold `bytes` of payload. */
export function classFor(bytes: u32): u32 {
  const total = bytes + BLOCK_HEADER_BYTES;
  const k: u32 = 32 - <u32>clz<u32>(total - 1);
  return k < MIN_CLASS ? MIN_CLASS : k;
}

/** Sets up an empty heap over [start, end). */
export function heapInit(start: u32, end: u32): void {
  store<u32>(hdr(HDR_HEAP_TOP), (start + 7) & ~7);
  store<u32>(hdr(HDR_HEAP_END), end);
  for (let k: u32 = 0; k < FREE_LIST_COUNT; k++) store<u32>(freeList(k), 0);
}

function take(block: usize, sizeClass: u32): usize {
  store<u32>(block, sizeClass);
  store<u32>(block + 4, BLOCK_USED);
  return block + BLOCK_HEADER_BYTES;
}

/** `bytes` of payload, or 0 when the heap is full. Caller holds the kernel lock. */
export function alloc(bytes: u32): usize {
  if (bytes > (<u32>1 << 30)) return 0;
  const k = classFor(bytes);
  const head = load<u32>(freeList(k));
  if (head != 0) {
    store<u32>(freeList(k), load<u32>(<usize>head + 4));
    return take(head, k);
  }
  const top = load<u32>(hdr(HDR_HEAP_TOP));
  const size: u32 = 1 << k;
  if (<u64>top + size <= <u64>load<u32>(hdr(HDR_HEAP_END))) {
    store<u32>(hdr(HDR_HEAP_TOP), top + size);
    return take(top, k);
  }
  for (let j: u32 = k + 1; j <= MAX_CLASS; j++) {
    const big = load<u32>(freeList(j));
    if (big == 0) continue;
    store<u32>(freeList(j), load<u32>(<usize>big + 4));
    // Keep the lower half, give the upper half back, until the block has the wanted class.
    let current = j;
    while (current > k) {
      current--;
      const upper = <usize>big + (<usize>1 << current);
      store<u32>(upper, current);
      store<u32>(upper + 4, load<u32>(freeList(current)));
      store<u32>(freeList(current), <u32>upper);
    }
    return take(big, k);
  }
  return 0;
}

/** Returns a payload from {@link alloc} to its class's free list. Caller holds the kernel lock. */
export function free(payload: usize): void {
  if (payload == 0) return;
  const block = payload - BLOCK_HEADER_BYTES;
  const k = load<u32>(block);
  store<u32>(block + 4, load<u32>(freeList(k)));
  store<u32>(freeList(k), <u32>block);
}

/** Bytes on the free lists plus the unused heap (diagnostics and tests). Caller holds the kernel lock. */
export function freeBytes(): u32 {
  let total: u64 = <u64>(load<u32>(hdr(HDR_HEAP_END)) - load<u32>(hdr(HDR_HEAP_TOP)));
  for (let k: u32 = MIN_CLASS; k <= MAX_CLASS; k++) {
    for (let b = load<u32>(freeList(k)); b != 0; b = load<u32>(<usize>b + 4)) total += <u64>1 << k;
  }
  return <u32>min<u64>(total, 0xffffffff);
}
