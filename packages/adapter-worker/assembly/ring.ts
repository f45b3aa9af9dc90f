// A byte ring: the buffer of a pipe, of a FIFO, or of one direction of a duplex pipe. The record
// lives inside its object's entry (object.ts), the data in the heap; the object's lock guards both.
//
// Ring record (RING_BYTES):
//
//   +0  ┌──────────────────────┐
//       │ u32 data ptr         │ heap block of `capacity` bytes; 0 while a FIFO has no open end
//   +4  │ u32 capacity         │ a power of two >= RING_MIN_CAPACITY
//   +8  │ u32 head             │ bytes ever read  (wraps at 2^32; index = head & (capacity-1))
//   +12 │ u32 tail             │ bytes ever written; tail - head = bytes buffered
//   +16 │ i32 readers          │ handles that read from this ring
//   +20 │ i32 writers          │ handles that write to it
//   +24 │ i32 shut             │ 1 once the writing side was shut down (duplex end())
//   +28 │ reserved             │
//   +32 └──────────────────────┘
//
// Reads and writes copy in at most two pieces (before and after the wrap). Kernel semantics
// (pipe(7)): a write of at most PIPE_BUF bytes goes in whole or not at all; a larger one takes what
// fits; a read takes what is there; empty with no writer (or shut) is EOF; no reader is EPIPE.
import { free } from './alloc';
import { EAGAIN, EPIPE } from './errno';

export const RING_BYTES: u32 = 32;
export const RING_DATA: u32 = 0;
export const RING_CAPACITY: u32 = 4;
export const RING_HEAD: u32 = 8;
export const RING_TAIL: u32 = 12;
export const RING_READERS: u32 = 16;
export const RING_WRITERS: u32 = 20;
export const RING_SHUT: u32 = 24;

/** Writes up to this size are atomic (Linux PIPE_BUF). */
export const PIPE_BUF: u32 = 4096;
/** A pipe's default capacity (Linux: 16 pages). */
export const RING_DEFAULT_CAPACITY: u32 = 65536;
/** Smallest capacity (one page), as F_SETPIPE_SZ rounds up to. */
export const RING_MIN_CAPACITY: u32 = 4096;
/** Largest capacity an unprivileged process may set (/proc/sys/fs/pipe-max-size). */
export const RING_MAX_CAPACITY: u32 = 1048576;

/** `bytes` rounded up to a power of two, at least one page (what F_SETPIPE_SZ does). */
export function roundCapacity(bytes: u32): u32 {
  if (bytes <= RING_MIN_CAPACITY) return RING_MIN_CAPACITY;
  return <u32>1 << (32 - <u32>clz<u32>(bytes - 1));
}

@inline export function ringUsed(ring: usize): u32 {
  return load<u32>(ring + RING_TAIL) - load<u32>(ring + RING_HEAD);
}

/** Bytes read (0 = EOF) or -EAGAIN. Caller holds the object lock. */
export function ringRead(ring: usize, dst: usize, max: u32): i32 {
  const used = ringUsed(ring);
  if (used == 0) {
    if (load<i32>(ring + RING_WRITERS) == 0 || load<i32>(ring + RING_SHUT) != 0) return 0;
    return -EAGAIN;
  }
  const n = min<u32>(used, max);
  const capacity = load<u32>(ring + RING_CAPACITY);
  const data = <usize>load<u32>(ring + RING_DATA);
  const head = load<u32>(ring + RING_HEAD);
  const at = head & (capacity - 1);
  const first = min<u32>(n, capacity - at);
  memory.copy(dst, data + at, first);
  if (first < n) memory.copy(dst + first, data, n - first);
  store<u32>(ring + RING_HEAD, head + n);
  return <i32>n;
}

/** Bytes written, -EAGAIN (nothing fits / an atomic write does not fit) or -EPIPE. Caller holds the object lock. */
export function ringWrite(ring: usize, src: usize, len: u32): i32 {
  if (load<i32>(ring + RING_READERS) == 0 || load<i32>(ring + RING_SHUT) != 0) return -EPIPE;
  if (len == 0) return 0;
  const capacity = load<u32>(ring + RING_CAPACITY);
  const room = capacity - ringUsed(ring);
  if (len <= PIPE_BUF ? room < len : room == 0) return -EAGAIN;
  const n = min<u32>(len, room);
  const data = <usize>load<u32>(ring + RING_DATA);
  const tail = load<u32>(ring + RING_TAIL);
  const at = tail & (capacity - 1);
  const first = min<u32>(n, capacity - at);
  memory.copy(data + at, src, first);
  if (first < n) memory.copy(data, src + first, n - first);
  store<u32>(ring + RING_TAIL, tail + n);
  return <i32>n;
}

/** Copies the buffered bytes to a new data block of `capacity` (>= used); the old block is the caller's to free (its size was the old capacity). */
export function ringMove(ring: usize, newData: usize, capacity: u32): usize {
  const used = ringUsed(ring);
  const n = ringRead(ring, newData, used); // keeps the bytes in order at the start of the new block
  const old = <usize>load<u32>(ring + RING_DATA);
  store<u32>(ring + RING_DATA, <u32>newData);
  store<u32>(ring + RING_CAPACITY, capacity);
  store<u32>(ring + RING_HEAD, 0);
  store<u32>(ring + RING_TAIL, n > 0 ? <u32>n : 0);
  return old;
}

/** Empties the ring and frees its data block. Kernel lock held. */
export function ringReset(ring: usize): void {
  free(<usize>load<u32>(ring + RING_DATA), load<u32>(ring + RING_CAPACITY));
  store<u32>(ring + RING_DATA, 0);
  store<u32>(ring + RING_HEAD, 0);
  store<u32>(ring + RING_TAIL, 0);
  store<i32>(ring + RING_SHUT, 0);
}
