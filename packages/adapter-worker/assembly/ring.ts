// A byte ring: the buffer of a pipe, of a FIFO, or of one direction of a duplex pipe. The record
// lives inside its object's entry (object.ts), the data and the slot table in the heap; the
// object's lock guards all three.
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
//   +28 │ u32 slots ptr        │ heap block of slotsBytes(capacity): the page slots below; 0 for
//       │                      │ a socket's ring, which counts bytes, not pages (see ringWrite)
//   +32 └──────────────────────┘
//       ...                      (the object's other fields: object.ts)
//   +96 ┌──────────────────────┐ copies in flight (RING_FLIGHT: 96 bytes after the ring, in the
//       │ u32 committed        │ object entry) — bytes ever written AND copied in: readers see
//       │                      │ [head, committed); tail - committed are being copied in
//   +100│ i32 reading          │ owner copying [head, head + reading bytes) out, 0 if none
//   +104│ u32 reading bytes    │
//   +108│ i32 writing          │ owner copying [committed, tail) in, 0 if none
//   +112│ u32 slot first       │ the slot table's index of the oldest occupied slot
//   +116│ u32 slot count       │ occupied slots (0..pages)
//   +120└──────────────────────┘
//
// Slot table (slotsBytes(capacity) = 4 * pages, pages = capacity / PAGE):
//
//   +0  ┌──────────────────────┐
//       │ u32 start[pages]     │ circular from `slot first`: the stream position (a tail value)
//       └──────────────────────┘ where slot i's page began
//
// Why the slot table's first/count live in the object entry: a read that empties the ring frees
// the last page and the next write takes one (count 1, 0, 1, ... in a ping-pong), so both sides
// write them on every call. Next to `committed` and the object's wait cell (object.ts), which
// both sides touch anyway, they cost no cache line of their own moving between the two threads'
// CPUs on every hop; `start[]` is read only when more than one page is occupied.
//
// Linux keeps a pipe's bytes in up to `pages` page-sized buffers (struct pipe_buffer), and what a
// write may take depends on those pages, not only on the free bytes (fs/pipe.c, pipe_write): a
// write first appends its last `len % PAGE` bytes to the newest page if they fit after what that
// page ever held (bytes read from the front of a page are not reused), then takes whole new pages
// while a slot is free. A page is freed once every byte of it has been read. F_SETPIPE_SZ refuses
// (EBUSY) fewer slots than are occupied. The table records where each occupied page began in the
// byte stream, so the ring gives the same counts, EAGAINs and EBUSYs as the kernel while the bytes
// themselves stay contiguous in the data block. Writes of at most PIPE_BUF bytes are atomic as a
// consequence (they fit in one page), as in the kernel. A read takes what is there; empty with no
// writer (or shut) is EOF; no reader is EPIPE.
//
// Copies in flight: a large read or write copies its bytes without the object's lock, so that a
// reader and a writer copy at the same time (on two CPUs a bulk transfer moves at memory speed
// instead of taking turns). Its begin call does the bookkeeping under the lock and marks its side
// of the ring busy (`reading`/`writing`: one copy per side at a time, as Linux's pipe mutex keeps
// one reader and one writer at once); its end call publishes under the lock. What makes the two
// sides safe together: a writer only fills [tail, tail + n) inside pages it took (never the pages
// from the oldest occupied slot on, which hold [head, committed)), readers only see up to
// `committed`, and a read frees its pages only at its end. A thread that dies with a copy in
// flight is rolled back by its reaper (ringRollback): a half-copied write is taken back, a read
// leaves its bytes for the next reader.
import { alloc, free } from './alloc';
import { EAGAIN, EBUSY, ENOMEM, EPIPE } from './errno';

/** The ring record (the diagram above); the compiler owns the offsets. */
@unmanaged export class Ring {
  data: u32;
  capacity: u32;
  head: u32;
  tail: u32;
  readers: i32;
  writers: i32;
  shut: i32;
  slots: u32;
}

/** The copies-in-flight record, RING_FLIGHT bytes after its ring. */
@unmanaged export class RingFlight {
  committed: u32;
  reading: i32;
  readingBytes: u32;
  writing: i32;
  slotFirst: u32;
  slotCount: u32;
}

export const RING_BYTES: u32 = offsetof<Ring>();
/** Read with atomics by pipe_capacity (no lock). */
export const RING_CAPACITY: u32 = offsetof<Ring>('capacity');
/** Fields read with atomics or by their address. */
export const RING_READERS: u32 = offsetof<Ring>('readers');
export const RING_WRITERS: u32 = offsetof<Ring>('writers');
/**
 * Where a ring's copies-in-flight record is, from the ring: three rings further, in its object
 * entry (object.ts places the entry's other fields in between).
 */
export const RING_FLIGHT: u32 = 3 * RING_BYTES;
export const RING_FLIGHT_BYTES: u32 = offsetof<RingFlight>();
/** The two sides of a ring's copies in flight (also the `side` argument of pipe.ts's helpers). */
export const RING_READING: u32 = RING_FLIGHT + offsetof<RingFlight>('reading');
export const RING_WRITING: u32 = RING_FLIGHT + offsetof<RingFlight>('writing');

/** The ring at `at` as a record. */
@inline export function ringAt(at: usize): Ring {
  return changetype<Ring>(at);
}

/** The copies-in-flight record of the ring at `at`. */
@inline export function ringFlight(at: usize): RingFlight {
  return changetype<RingFlight>(at + RING_FLIGHT);
}

/** The kernel's page: the unit of a pipe buffer's slots. */
export const PAGE: u32 = 4096;
/** Bytes of the slot table of a ring of `capacity`. */
@inline export function slotsBytes(capacity: u32): u32 {
  return (capacity / PAGE) * 4;
}

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

/** Bytes a reader can take: written and copied in (a write in flight is not there yet). */
@inline export function ringUsed(ring: usize): u32 {
  return ringFlight(ring).committed - ringAt(ring).head;
}

/**
 * Gives the ring a data block and an empty slot table for `capacity` bytes. False (nothing
 * allocated) when the heap is full. Kernel lock held.
 */
export function ringAttach(ring: usize, capacity: u32): bool {
  const data = alloc(capacity);
  if (data == 0) return false;
  const slots = alloc(slotsBytes(capacity));
  if (slots == 0) {
    free(data, capacity);
    return false;
  }
  ringFlight(ring).slotFirst = 0;
  ringFlight(ring).slotCount = 0;
  ringAt(ring).data = <u32>data;
  ringAt(ring).slots = <u32>slots;
  ringAt(ring).capacity = capacity;
  ringAt(ring).head = 0;
  ringAt(ring).tail = 0;
  ringFlight(ring).committed = 0;
  return true;
}

/** The address of the start of the `i`th occupied slot (0 = the oldest) of the ring at `ring`. */
@inline function slotStart(ring: usize, slots: usize, pages: u32, i: u32): usize {
  return slots + (((ringFlight(ring).slotFirst + i) & (pages - 1)) << 2);
}

/**
 * Takes up to `max` bytes off the front as a read does, without copying them: advances the head
 * and frees the pages read to their end. Bytes taken (they stay at stream positions
 * [old head, old head + n) until the object lock is released, see {@link ringSpan}), 0 = EOF, or
 * -EAGAIN. Caller holds the object lock.
 */
export function ringConsume(ring: usize, max: u32): i32 {
  const n = ringAvailable(ring, max);
  if (n <= 0) return n;
  const capacity = ringAt(ring).capacity;
  const head = ringAt(ring).head;
  const newHead = head + <u32>n;
  ringAt(ring).head = newHead;
  // Free the pages read to their end (the newest one ends at the tail, past any write in flight:
  // that page is still being filled). Positions wrap at 2^32: compare distances from the head,
  // never positions.
  const slots = <usize>ringAt(ring).slots;
  if (slots == 0) return n;
  const pages = capacity / PAGE;
  const tail = ringAt(ring).tail;
  let count = ringFlight(ring).slotCount;
  while (count > 0) {
    const end = count > 1 ? load<u32>(slotStart(ring, slots, pages, 1)) : tail;
    if (end - head > <u32>n) break;
    ringFlight(ring).slotFirst = (ringFlight(ring).slotFirst + 1) & (pages - 1);
    count--;
  }
  ringFlight(ring).slotCount = count;
  return n;
}

/** What a read of up to `max` bytes would take now, without taking it: bytes, 0 = EOF, or -EAGAIN. Object lock held. */
export function ringAvailable(ring: usize, max: u32): i32 {
  const used = ringUsed(ring);
  if (used == 0) {
    if (ringAt(ring).writers == 0 || ringAt(ring).shut != 0) return 0;
    return -EAGAIN;
  }
  return <i32>min<u32>(used, max);
}

/** Copies the `n` bytes at stream position `from` out to `dst`. */
function ringCopyOut(ring: usize, from: u32, dst: usize, n: u32): void {
  const capacity = ringAt(ring).capacity;
  const data = <usize>ringAt(ring).data;
  const at = from & (capacity - 1);
  const first = min<u32>(n, capacity - at);
  memory.copy(dst, data + at, first);
  if (first < n) memory.copy(dst + first, data, n - first);
}

/** Bytes read (0 = EOF) or -EAGAIN. Caller holds the object lock. */
export function ringRead(ring: usize, dst: usize, max: u32): i32 {
  const head = ringAt(ring).head;
  const n = ringConsume(ring, max);
  if (n > 0) ringCopyOut(ring, head, dst, <u32>n);
  return n;
}

// Span record: where the `n` bytes at one stream position are in memory, for a caller that copies
// them itself (TypeScript, straight between the ring and its own bytes, while the lock is held).
//
//   +0  ┌──────────────────────┐
//       │ u32 first address    │ the bytes up to the end of the data block...
//   +4  │ u32 first length     │
//   +8  │ u32 second address   │ ...and the rest (n - first length) from the block's start
//   +12 └──────────────────────┘
@unmanaged export class Span {
  first: u32;
  firstLength: u32;
  second: u32;
}

export const SPAN_BYTES: u32 = offsetof<Span>();
export const SPAN_FIRST: u32 = offsetof<Span>('first');
export const SPAN_FIRST_LENGTH: u32 = offsetof<Span>('firstLength');
export const SPAN_SECOND: u32 = offsetof<Span>('second');

/** Writes the span record of the `n` bytes at stream position `from` to `at`. */
export function ringSpan(ring: usize, from: u32, n: u32, at: usize): void {
  const capacity = ringAt(ring).capacity;
  const data = ringAt(ring).data;
  const offset = from & (capacity - 1);
  const span = changetype<Span>(at);
  span.first = data + offset;
  span.firstLength = min<u32>(n, capacity - offset);
  span.second = data;
}

/**
 * Copies `n` bytes from `src` in at the tail and commits them; when `copy` is false only reserves
 * them (advances the tail: the caller copies, then commits with {@link ringCommit}).
 */
function ringPut(ring: usize, src: usize, n: u32, copy: bool): void {
  const tail = ringAt(ring).tail;
  if (copy) {
    const capacity = ringAt(ring).capacity;
    const data = <usize>ringAt(ring).data;
    const at = tail & (capacity - 1);
    const first = min<u32>(n, capacity - at);
    memory.copy(data + at, src, first);
    if (first < n) memory.copy(data, src + first, n - first);
    ringFlight(ring).committed = tail + n;
  }
  ringAt(ring).tail = tail + n;
}

/**
 * Copies `len` bytes from `src` to `dst` with `memory.copy`: the engine's `memmove`. A caller's
 * copy into shared memory from JavaScript (`TypedArray.prototype.set`) goes word by word, and
 * into ring bytes that the reader's CPU last touched it paid for every cache line separately:
 * 64 KiB took ~11 us that way and ~2 us here (see stream.ts, `copyIntoRing`). No lock: the
 * caller owns both ranges (a span it reserved, its own scratch buffer).
 */
export function copyBytes(dst: usize, src: usize, len: usize): void {
  memory.copy(dst, src, len);
}

/** Makes every reserved byte (up to the tail) visible to readers. Object lock held. */
@inline export function ringCommit(ring: usize): void {
  ringFlight(ring).committed = ringAt(ring).tail;
}

/** Takes back the bytes written since stream position `position` (nothing read them yet). Object lock held. */
export function ringUnwrite(ring: usize, position: u32): void {
  const slots = <usize>ringAt(ring).slots;
  if (slots != 0) {
    // Free the pages those bytes started: the newest slots, whose start lies in [position, tail).
    const pages = ringAt(ring).capacity / PAGE;
    const taken = ringAt(ring).tail - position;
    let count = ringFlight(ring).slotCount;
    while (count > 0 && load<u32>(slotStart(ring, slots, pages, count - 1)) - position < taken) count--;
    ringFlight(ring).slotCount = count;
  }
  ringAt(ring).tail = position;
  ringFlight(ring).committed = position;
}

/**
 * Writes a piece of one `write()` as Linux's pipe_write does: `len` bytes at `src`, followed in the
 * same write by `more` bytes that the caller passes next (its scratch buffer is smaller than some
 * writes); `continued` when earlier pieces of this write went in already. Only the first piece
 * may append to the newest page (the write's last `total % PAGE` bytes, as the kernel computes
 * it), and a piece that is followed by more stops at a page boundary, so the next piece starts a
 * new page exactly where the kernel would. Bytes taken (possibly fewer than `len`), -EAGAIN
 * (nothing fits) or -EPIPE. Caller holds the object lock. With `copy` false nothing is copied: the
 * bytes taken are stream positions [old tail, old tail + n), to be filled from the start of the
 * caller's bytes before the lock is released (see {@link ringSpan}).
 */
export function ringWrite(ring: usize, src: usize, len: u32, more: u32, continued: bool, copy: bool = true): i32 {
  // Like pipe_write: a null write succeeds before the readers are checked.
  if (len == 0) return 0;
  if (ringAt(ring).readers == 0 || ringAt(ring).shut != 0) return -EPIPE;
  const capacity = ringAt(ring).capacity;
  const slots = <usize>ringAt(ring).slots;
  if (slots == 0) {
    // A socket's ring: a buffer of `capacity` bytes, as a socket's send buffer counts bytes.
    const room = capacity - (ringAt(ring).tail - ringAt(ring).head);
    if (room == 0) return -EAGAIN;
    const n = min<u32>(len, room);
    ringPut(ring, src, n, copy);
    return <i32>n;
  }
  const pages = capacity / PAGE;
  let count = ringFlight(ring).slotCount;
  let written: u32 = 0;
  const chars = continued ? 0 : (len + more) & (PAGE - 1);
  if (chars != 0 && count > 0) {
    // The newest page can take them if they fit after everything it ever held.
    const held = ringAt(ring).tail - load<u32>(slotStart(ring, slots, pages, count - 1));
    if (held + chars <= PAGE) {
      ringPut(ring, src, chars, copy);
      written = chars;
    }
  }
  while (written < len && count < pages) {
    const n = min<u32>(PAGE, len - written);
    // A partial page in the middle of a write: the next piece fills it as a whole page.
    if (n < PAGE && more > 0 && written > 0) break;
    store<u32>(slotStart(ring, slots, pages, count), ringAt(ring).tail);
    count++;
    ringPut(ring, src + written, n, copy);
    written += n;
  }
  ringFlight(ring).slotCount = count;
  return written == 0 ? -EAGAIN : <i32>written;
}

/**
 * `F_SETPIPE_SZ` on a ring with a buffer: moves the bytes and the occupied slots into new blocks of
 * `capacity`. 0, -EBUSY (more slots occupied than the new size has) or -ENOMEM. Kernel and object
 * locks held, no copy in flight.
 */
export function ringResize(ring: usize, capacity: u32): i32 {
  const oldCapacity = ringAt(ring).capacity;
  const oldPages = oldCapacity / PAGE;
  const pages = capacity / PAGE;
  const oldSlots = <usize>ringAt(ring).slots;
  const count = ringFlight(ring).slotCount;
  if (count > pages) return -EBUSY;
  const data = alloc(capacity);
  if (data == 0) return -ENOMEM;
  const slots = alloc(slotsBytes(capacity));
  if (slots == 0) {
    free(data, capacity);
    return -ENOMEM;
  }
  // The bytes move to the start of the new block, so every position shifts down by the old head.
  const head = ringAt(ring).head;
  for (let i: u32 = 0; i < count; i++) store<u32>(slots + (i << 2), load<u32>(slotStart(ring, oldSlots, oldPages, i)) - head);
  ringFlight(ring).slotFirst = 0;
  const used = ringUsed(ring);
  const oldData = <usize>ringAt(ring).data;
  const at = head & (oldCapacity - 1);
  const first = min<u32>(used, oldCapacity - at);
  memory.copy(data, oldData + at, first);
  if (first < used) memory.copy(data + first, oldData, used - first);
  free(oldData, oldCapacity);
  free(oldSlots, slotsBytes(oldCapacity));
  ringAt(ring).data = <u32>data;
  ringAt(ring).slots = <u32>slots;
  ringAt(ring).capacity = capacity;
  ringAt(ring).head = 0;
  ringAt(ring).tail = used;
  ringFlight(ring).committed = used;
  return 0;
}

/** Empties the ring and frees its data block and slot table. Kernel lock held. */
export function ringReset(ring: usize): void {
  free(<usize>ringAt(ring).data, ringAt(ring).capacity);
  free(<usize>ringAt(ring).slots, slotsBytes(ringAt(ring).capacity));
  ringAt(ring).data = 0;
  ringAt(ring).slots = 0;
  ringAt(ring).head = 0;
  ringAt(ring).tail = 0;
  ringFlight(ring).committed = 0;
  ringFlight(ring).slotFirst = 0;
  ringFlight(ring).slotCount = 0;
  ringAt(ring).shut = 0;
}
