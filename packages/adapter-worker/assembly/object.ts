// The object table: every kernel object (pipe, duplex pipe, FIFO; later queues, semaphore sets,
// segments) is one fixed-size entry, found by its index (object id = index + 1). Named objects
// (FIFO paths; later keys and POSIX names) are entries with a name: the namespace is a scan of the
// table comparing a hash first, then the bytes.
//
// Object entry (OBJECT_BYTES):
//
//   +0   ┌────────────────────────┐
//        │ i32 kind               │ 0 free, KIND_PIPE, KIND_DUPLEX, KIND_FIFO, KIND_SEM_SET, KIND_POSIX_SEM,
//        │                        │ KIND_MSG, KIND_PMQ, KIND_SOCKET, KIND_SOCKET_FILE, KIND_SHM,
//        │                        │ KIND_POSIX_SHM, KIND_SHM_FILE, KIND_LOCK_FILE, KIND_EVENTFD
//   +4   │ i32 lock               │ the object's lock (lock.ts): guards everything below
//   +8   │ i32 seq                │ THE WAIT CELL: bumped and notified on every state change
//   +12  │ i32 refs               │ handles on it, + 1 while its name is linked
//   +16  │ i32 flags              │ FLAG_LINKED: reachable by name
//   +20  │ u32 name ptr           │ heap block with the name's bytes (UTF-8)
//   +24  │ u32 name length        │
//   +28  │ u32 name hash          │ FNV-1a of the name
//   +32  │ ring 0 (ring.ts)       │ pipe / FIFO buffer; duplex: end A writes, end B reads
//        │                        │ (message queues use +32..+96 for their own record instead:
//        │                        │ message-queue.ts, posix-message-queue.ts)
//   +64  │ ring 1 (ring.ts)       │ duplex only: end B writes, end A reads
//   +96  │ u32 read opens         │ FIFO: opens for reading ever (wakes writers waiting in open)
//   +100 │ u32 write opens        │ FIFO: opens for writing ever (wakes readers waiting in open)
//   +104 │ u32 mode               │ FIFO, socket file: permission bits
//   +108 │ u32 serial             │ creation number (diagnostics)
//   +112 │ u32 record             │ socket: its record in the heap; socket file: the bound socket's id;
//        │                        │ shared memory: its segment record (shared-memory.ts)
//   +116 │ i32 parked             │ byte streams: threads parked (Atomics.waitAsync) on the seq cell;
//        │                        │ stream end calls notify only when it is not 0 (a notify takes a
//        │                        │ process-wide lock in the host: the cost of a message otherwise)
//   +120 │ u32 uid, +124 u32 gid  │ FIFO and socket file: the owner, whose class of OBJ_MODE's
//        │                        │ bits applies (permission.ts): open and connect check them
//   +128 │ ring 0's copies in     │ pipe / FIFO / duplex: a read and a write of ring 0 that copy
//        │ flight (ring.ts)       │ without the lock (RING_FLIGHT bytes after the ring)
//   +144 │ reserved               │
//   +160 │ ring 1's copies in     │ duplex only: the same for ring 1
//        │ flight (ring.ts)       │
//   +176 │ reserved               │
//   +192 └────────────────────────┘
//
// The seq cell never resets when a slot is reused, so a stale waiter only sees a spurious wakeup.
// Nor does the parked count: a waiter parked on the slot's previous object still takes its count
// back when it wakes, so the count never drops below the live waiters (at worst it is too high,
// e.g. after a worker was terminated while parked, which only costs notifies).
import { alloc, free } from './alloc';
import { HDR_NEXT_SERIAL, HDR_OBJECTS, HDR_OBJECTS_MAX, HDR_OBJECT_HINT, hdr } from './kernel';
import { msgFreeAll } from './message-queue';
import { pmqFreeAll } from './posix-message-queue';
import { RING_BYTES, RING_CAPACITY, RING_READERS, RING_WRITERS, ringReset } from './ring';

export const OBJECT_BYTES: u32 = 192;
export const OBJ_KIND: u32 = 0;
export const OBJ_LOCK: u32 = 4;
export const OBJ_SEQ: u32 = 8;
export const OBJ_REFS: u32 = 12;
export const OBJ_FLAGS: u32 = 16;
export const OBJ_NAME_PTR: u32 = 20;
export const OBJ_NAME_LEN: u32 = 24;
export const OBJ_NAME_HASH: u32 = 28;
export const OBJ_RING0: u32 = 32;
/** FIFO and socket file: the owner's uid and gid (the file's owner), next to OBJ_MODE. */
export const OBJ_FILE_UID: u32 = 120;
export const OBJ_FILE_GID: u32 = 124;
export const OBJ_RING1: u32 = 64;
export const OBJ_READ_OPENS: u32 = 96;
export const OBJ_WRITE_OPENS: u32 = 100;
export const OBJ_MODE: u32 = 104;
export const OBJ_SERIAL: u32 = 108;
export const OBJ_RECORD: u32 = 112;
export const OBJ_PARKED: u32 = 116;

export const KIND_PIPE: i32 = 1;
export const KIND_DUPLEX: i32 = 2;
export const KIND_FIFO: i32 = 3;
/** A System V message queue (message-queue.ts). */
export const KIND_MSG: i32 = 4;
/** A POSIX message queue (posix-message-queue.ts). */
export const KIND_PMQ: i32 = 5;
/** A System V semaphore set (semaphore.ts). */
export const KIND_SEM_SET: i32 = 6;
/** A POSIX named semaphore (posix-semaphore.ts). */
export const KIND_POSIX_SEM: i32 = 7;
/** A Unix socket endpoint (socket.ts). */
export const KIND_SOCKET: i32 = 8;
/** A path a Unix socket was bound to: the socket file, which outlives its socket until unlinked. */
export const KIND_SOCKET_FILE: i32 = 9;
/** An advisory lock file (file-lock.ts): a path whose handles own byte-range locks. */
export const KIND_LOCK_FILE: i32 = 10;
/** An event counter (eventfd.ts): anonymous, reached through handles only. */
export const KIND_EVENTFD: i32 = 11;
/** Shared memory (shared-memory.ts): System V segment, POSIX object, emulated file. */
export const KIND_SHM: i32 = 20;
export const KIND_POSIX_SHM: i32 = 21;
export const KIND_SHM_FILE: i32 = 22;
export const FLAG_LINKED: i32 = 1;

/** Handle ends (handle.ts): which way a handle uses its object. */
export const END_READ: i32 = 1;
export const END_WRITE: i32 = 2;
export const END_A: i32 = 4;
export const END_B: i32 = 8;
/** POSIX message queue handles (O_RDONLY / O_WRONLY; both for O_RDWR): no ring, so countEnd ignores them. */
export const END_MQ_READ: i32 = 16;
export const END_MQ_WRITE: i32 = 32;

/** Longest name (Linux PATH_MAX, with its NUL). */
export const NAME_MAX_BYTES: u32 = 4095;

@inline export function objectAt(id: i32): usize {
  return <usize>load<u32>(hdr(HDR_OBJECTS)) + <usize>(id - 1) * OBJECT_BYTES;
}

/** The entry of the object whose ring 0 or ring 1 is at `ring` (entries are OBJECT_BYTES apart from the table's start). */
@inline export function ringObject(ring: usize): usize {
  const table = <usize>load<u32>(hdr(HDR_OBJECTS));
  return table + (ring - table) / OBJECT_BYTES * OBJECT_BYTES;
}

@inline export function objectMax(): i32 {
  return <i32>load<u32>(hdr(HDR_OBJECTS_MAX));
}

/** A free slot made into an object of `kind` with one reference per `refs`: its id, or 0 when the table is full. Kernel lock held. */
export function objectCreate(kind: i32, refs: i32): i32 {
  const max = objectMax();
  let i = <i32>load<u32>(hdr(HDR_OBJECT_HINT));
  for (let tries = 0; tries < max; tries++, i++) {
    if (i >= max) i = 0;
    const entry = objectAt(i + 1);
    if (load<i32>(entry + OBJ_KIND) != 0) continue;
    // Everything but the lock, the seq cell and the parked count starts from zero (a stale
    // waiter may change the count at any time: it is never written here).
    memory.fill(entry + OBJ_REFS, 0, OBJ_PARKED - OBJ_REFS);
    memory.fill(entry + OBJ_PARKED + 4, 0, OBJECT_BYTES - OBJ_PARKED - 4);
    store<i32>(entry + OBJ_REFS, refs);
    const serial = load<u32>(hdr(HDR_NEXT_SERIAL)) + 1;
    store<u32>(hdr(HDR_NEXT_SERIAL), serial);
    store<u32>(entry + OBJ_SERIAL, serial);
    store<i32>(entry + OBJ_KIND, kind);
    store<u32>(hdr(HDR_OBJECT_HINT), <u32>(i + 1));
    return i + 1;
  }
  return 0;
}

/** Frees the object's rings, name and slot. Kernel lock held (and no handle left). */
export function objectDestroy(id: i32): void {
  const entry = objectAt(id);
  // Queues keep messages in the heap and their own record where rings live: free and clear them first.
  const kind = load<i32>(entry + OBJ_KIND);
  if (kind == KIND_MSG) msgFreeAll(entry);
  else if (kind == KIND_PMQ) pmqFreeAll(entry);
  ringReset(entry + OBJ_RING0);
  ringReset(entry + OBJ_RING1);
  free(<usize>load<u32>(entry + OBJ_NAME_PTR), load<u32>(entry + OBJ_NAME_LEN));
  store<u32>(entry + OBJ_NAME_PTR, 0);
  store<u32>(entry + OBJ_NAME_LEN, 0);
  store<i32>(entry + OBJ_FLAGS, 0);
  store<i32>(entry + OBJ_KIND, 0);
}

/** The ring a handle with `end` reads from (0 if it does not read). */
export function readRing(entry: usize, end: i32): usize {
  if (end == END_READ) return entry + OBJ_RING0;
  if (end == END_A) return entry + OBJ_RING1;
  if (end == END_B) return entry + OBJ_RING0;
  return 0;
}

/** The ring a handle with `end` writes to (0 if it does not write). */
export function writeRing(entry: usize, end: i32): usize {
  if (end == END_WRITE) return entry + OBJ_RING0;
  if (end == END_A) return entry + OBJ_RING0;
  if (end == END_B) return entry + OBJ_RING1;
  return 0;
}

/** Adds `delta` (+1 or -1) to the reader/writer counts an end contributes. Object lock held. */
export function countEnd(entry: usize, end: i32, delta: i32): void {
  const reads = readRing(entry, end);
  if (reads != 0) store<i32>(reads + RING_READERS, load<i32>(reads + RING_READERS) + delta);
  const writes = writeRing(entry, end);
  if (writes != 0) store<i32>(writes + RING_WRITERS, load<i32>(writes + RING_WRITERS) + delta);
}

/** Bumps the wait cell; call `objectNotify` after unlocking. Object lock held. */
@inline export function objectChanged(entry: usize): void {
  atomic.add<i32>(entry + OBJ_SEQ, 1);
}

/** Wakes every thread waiting on the object's wait cell. */
@inline export function objectNotify(entry: usize): void {
  atomic.notify(entry + OBJ_SEQ, 0x7fffffff);
}

/**
 * Gives object `id` a copy of the `len`-byte name at `at` (in the heap), linked into the namespace
 * (found by objectLookup) when `link`. False when the heap is full. Kernel lock held.
 */
export function objectSetName(id: i32, at: usize, len: u32, link: bool): bool {
  const name = alloc(len);
  if (name == 0) return false;
  memory.copy(name, at, len);
  const entry = objectAt(id);
  store<u32>(entry + OBJ_NAME_PTR, <u32>name);
  store<u32>(entry + OBJ_NAME_LEN, len);
  store<u32>(entry + OBJ_NAME_HASH, nameHash(at, len));
  if (link) store<i32>(entry + OBJ_FLAGS, FLAG_LINKED);
  return true;
}

/** FNV-1a over `len` bytes at `at`. */
export function nameHash(at: usize, len: u32): u32 {
  let h: u32 = 0x811c9dc5;
  for (let i: u32 = 0; i < len; i++) h = (h ^ <u32>load<u8>(at + i)) * 0x01000193;
  return h;
}

/** The id of the linked object of `kind` named by `len` bytes at `at`, or 0. Kernel lock held. */
export function objectLookup(kind: i32, at: usize, len: u32): i32 {
  const h = nameHash(at, len);
  const max = objectMax();
  for (let id = 1; id <= max; id++) {
    const entry = objectAt(id);
    if (load<i32>(entry + OBJ_KIND) != kind || (load<i32>(entry + OBJ_FLAGS) & FLAG_LINKED) == 0) continue;
    if (load<u32>(entry + OBJ_NAME_HASH) != h || load<u32>(entry + OBJ_NAME_LEN) != len) continue;
    if (memory.compare(<usize>load<u32>(entry + OBJ_NAME_PTR), at, len) == 0) return id;
  }
  return 0;
}

