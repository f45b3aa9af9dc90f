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
//   +8   │ i32 seq                │ THE WAIT CELL of every kind but the byte streams: bumped and
//        │                        │ notified on every state change (objectCell says which cell)
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
//        │ flight and slot count  │ without the lock, and its slot table's first/count
//        │ (ring.ts)              │ (RING_FLIGHT bytes after the ring)
//   +152 │ i32 ring seq           │ THE WAIT CELL of pipes, duplex pipes and FIFOs (OBJ_RING_SEQ)
//   +156 │ reserved               │
//   +160 │ ring 1's copies in     │ duplex only: the same for ring 1
//        │ flight and slot count  │
//   +184 │ reserved               │
//   +192 └────────────────────────┘
//
// Two wait cells, one per family of kinds (objectCell): the byte streams' peers, each spinning on
// the cell for the other's next change (TypeScript's CellSpin), would otherwise pull the line of
// the lock and ring 0's head/tail (+0) back while the peer is still inside its call and writing
// them; at +152 the cell shares a line with ring 0's `committed` and slot count, written at the end
// of each call anyway. Every other kind keeps its cell at +8, on the lock's line: a semaphore set's,
// a message queue's or an event counter's waiter retries its call (taking the lock) as soon as the
// cell changes, so the lock's line is the one it needs next (measured: with the cell at +152 for
// every kind, worker.sysv-sem / sysv-mq / eventfd ping-pongs were slower; docs/BENCHMARKS.md).
//
// The seq cell never resets when a slot is reused, so a stale waiter only sees a spurious wakeup.
// Nor does the parked count: a waiter parked on the slot's previous object still takes its count
// back when it wakes, so the count never drops below the live waiters (at worst it is too high,
// e.g. after a worker was terminated while parked, which only costs notifies).
import { alloc, free } from './alloc';
import { kernelHeader, kernelLock, kernelUnlock } from './kernel';
import { EINTR, EINVAL } from './errno';
import { kindDestroying } from './kind-hooks';
import { RING_BYTES, RING_FLIGHT, RING_FLIGHT_BYTES, ringAt, ringReset } from './ring';

/** The fields every object has first (+0..+32 above); the compiler owns the offsets. */
@unmanaged export class ObjectEntry {
  kind: i32;
  lock: i32;
  seq: i32;
  refs: i32;
  flags: i32;
  namePtr: u32;
  nameLen: u32;
  nameHash: u32;
}

/** The fields after the kind area (+96..+128 above). */
@unmanaged export class ObjectInfo {
  readOpens: u32;
  writeOpens: u32;
  mode: u32;
  serial: u32;
  record: u32;
  parked: i32;
  /** FIFO and socket file: the owner's uid and gid (the file's owner), next to `mode`. */
  fileUid: u32;
  fileGid: u32;
}

/** The kind area: two rings (pipes, FIFOs, sockets), or a kind's own record of the same size. */
export const OBJ_RING0: u32 = offsetof<ObjectEntry>();
export const OBJ_RING1: u32 = OBJ_RING0 + RING_BYTES;
export const KIND_AREA_BYTES: u32 = 2 * RING_BYTES;
export const OBJ_INFO: u32 = OBJ_RING0 + KIND_AREA_BYTES;
/** Each ring's copies in flight (ring.ts: RING_FLIGHT after it) end the entry. */
export const OBJECT_BYTES: u32 = OBJ_RING1 + RING_FLIGHT + RING_BYTES;
/** Addresses other code waits on or takes (atomics, locks, the TypeScript side's wait cell). */
export const OBJ_KIND: u32 = offsetof<ObjectEntry>('kind');
export const OBJ_LOCK: u32 = offsetof<ObjectEntry>('lock');
/** The wait cell of every kind but pipes, duplex pipes and FIFOs (see objectCell). */
export const OBJ_SEQ: u32 = offsetof<ObjectEntry>('seq');
/** The wait cell of pipes, duplex pipes and FIFOs: after ring 0's copies in flight, on their cache line. */
export const OBJ_RING_SEQ: u32 = OBJ_RING0 + RING_FLIGHT + RING_FLIGHT_BYTES;
export const OBJ_REFS: u32 = offsetof<ObjectEntry>('refs');
export const OBJ_FLAGS: u32 = offsetof<ObjectEntry>('flags');
export const OBJ_SERIAL: u32 = OBJ_INFO + offsetof<ObjectInfo>('serial');
export const OBJ_RECORD: u32 = OBJ_INFO + offsetof<ObjectInfo>('record');
export const OBJ_PARKED: u32 = OBJ_INFO + offsetof<ObjectInfo>('parked');
/** FIFO: opens for reading / writing ever, read with atomics by fifo_open_ready. */
export const OBJ_READ_OPENS: u32 = OBJ_INFO + offsetof<ObjectInfo>('readOpens');
export const OBJ_WRITE_OPENS: u32 = OBJ_INFO + offsetof<ObjectInfo>('writeOpens');
/**
 * Where an object's fields that the kind area's records need (mode, serial) sit, for those records'
 * own diagrams; a test checks the kind area and ObjectInfo fit (KIND_AREA_BYTES, RING_FLIGHT).
 */
export const OBJECT_INFO_BYTES: u32 = offsetof<ObjectInfo>();

/** The object entry at `at`. */
@inline export function objectEntry(at: usize): ObjectEntry {
  return changetype<ObjectEntry>(at);
}

/** The fields after the kind area of the object entry at `at`. */
@inline export function objectInfo(at: usize): ObjectInfo {
  return changetype<ObjectInfo>(at + OBJ_INFO);
}

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
  return <usize>kernelHeader().objects + <usize>(id - 1) * OBJECT_BYTES;
}

/** The entry of the object whose ring 0 or ring 1 is at `ring` (entries are OBJECT_BYTES apart from the table's start). */
@inline export function ringObject(ring: usize): usize {
  const table = <usize>kernelHeader().objects;
  return table + (ring - table) / OBJECT_BYTES * OBJECT_BYTES;
}

@inline export function objectMax(): i32 {
  return <i32>kernelHeader().objectsMax;
}

/** A free slot made into an object of `kind` with one reference per `refs`: its id, or 0 when the table is full. Kernel lock held. */
export function objectCreate(kind: i32, refs: i32): i32 {
  const max = objectMax();
  let i = <i32>kernelHeader().objectHint;
  for (let tries = 0; tries < max; tries++, i++) {
    if (i >= max) i = 0;
    const entry = objectAt(i + 1);
    if (objectEntry(entry).kind != 0) continue;
    // Everything but the lock, the two seq cells and the parked count starts from zero (a stale
    // waiter may change the count at any time: it is never written here).
    memory.fill(entry + OBJ_REFS, 0, OBJ_PARKED - OBJ_REFS);
    memory.fill(entry + OBJ_PARKED + 4, 0, OBJ_RING_SEQ - OBJ_PARKED - 4);
    memory.fill(entry + OBJ_RING_SEQ + 4, 0, OBJECT_BYTES - OBJ_RING_SEQ - 4);
    objectEntry(entry).refs = refs;
    const serial = kernelHeader().nextSerial + 1;
    kernelHeader().nextSerial = serial;
    objectInfo(entry).serial = serial;
    objectEntry(entry).kind = kind;
    kernelHeader().objectHint = <u32>(i + 1);
    return i + 1;
  }
  return 0;
}

/** Frees the object's rings, name and slot. Kernel lock held (and no handle left). */
export function objectDestroy(id: i32): void {
  const entry = objectAt(id);
  // What the kind keeps outside its entry first (kinds.ts: queues' messages, which also clear
  // their record where rings live).
  kindDestroying(objectEntry(entry).kind, entry);
  ringReset(entry + OBJ_RING0);
  ringReset(entry + OBJ_RING1);
  free(<usize>objectEntry(entry).namePtr, objectEntry(entry).nameLen);
  objectEntry(entry).namePtr = 0;
  objectEntry(entry).nameLen = 0;
  objectEntry(entry).flags = 0;
  objectEntry(entry).kind = 0;
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
  if (reads != 0) ringAt(reads).readers = ringAt(reads).readers + delta;
  const writes = writeRing(entry, end);
  if (writes != 0) ringAt(writes).writers = ringAt(writes).writers + delta;
}

/** Whether objects of `kind` wait on OBJ_RING_SEQ (pipes, duplex pipes, FIFOs) rather than OBJ_SEQ. */
@inline export function kindWaitsOnRingSeq(kind: i32): bool {
  return kind == KIND_PIPE || kind == KIND_DUPLEX || kind == KIND_FIFO;
}

/** The address of the wait cell of the object at `entry` (of a live object: its kind picks the cell). */
@inline export function objectCell(entry: usize): usize {
  return entry + (kindWaitsOnRingSeq(objectEntry(entry).kind) ? OBJ_RING_SEQ : OBJ_SEQ);
}

/** Bumps the wait cell; call `objectNotify` after unlocking. Object lock held. */
@inline export function objectChanged(entry: usize): void {
  atomic.add<i32>(objectCell(entry), 1);
}

/**
 * Wakes every thread waiting on the object's wait cell. An object destroyed since its last change
 * (kind 0; the slot is not reused before the caller drops the kernel lock) notifies both cells,
 * since its kind no longer says which one its waiters watch.
 */
@inline export function objectNotify(entry: usize): void {
  const kind = atomic.load<i32>(entry + OBJ_KIND);
  if (kind == 0 || !kindWaitsOnRingSeq(kind)) atomic.notify(entry + OBJ_SEQ, 0x7fffffff);
  if (kind == 0 || kindWaitsOnRingSeq(kind)) atomic.notify(entry + OBJ_RING_SEQ, 0x7fffffff);
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
  objectEntry(entry).namePtr = <u32>name;
  objectEntry(entry).nameLen = len;
  objectEntry(entry).nameHash = nameHash(at, len);
  if (link) objectEntry(entry).flags = FLAG_LINKED;
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
    if (objectEntry(entry).kind != kind || (objectEntry(entry).flags & FLAG_LINKED) == 0) continue;
    if (objectEntry(entry).nameHash != h || objectEntry(entry).nameLen != len) continue;
    if (memory.compare(<usize>objectEntry(entry).namePtr, at, len) == 0) return id;
  }
  return 0;
}

/** The next linked (named) object after id `after`, or 0: for listing the namespace. */
export function objectNextLinked(after: i32): i32 {
  const objects = objectMax();
  for (let id = after + 1; id <= objects; id++) {
    const entry = objectAt(id);
    if (atomic.load<i32>(entry + OBJ_KIND) != 0 && (atomic.load<i32>(entry + OBJ_FLAGS) & FLAG_LINKED) != 0) return id;
  }
  return 0;
}

/** Copies the name of object `id` to `dst` (at most `max` bytes) under the kernel lock: its length, 0 if unnamed, -EINTR. */
export function objectName(id: i32, dst: usize, max: u32): i32 {
  if (id < 1 || id > objectMax()) return -EINVAL;
  if (!kernelLock()) return -EINTR;
  const entry = objectEntry(objectAt(id));
  const len = (entry.flags & FLAG_LINKED) != 0 ? min<u32>(entry.nameLen, max) : 0;
  memory.copy(dst, <usize>entry.namePtr, len);
  kernelUnlock();
  return <i32>len;
}

/** The kind of object `id` (0 = free slot). */
export function objectKind(id: i32): i32 {
  return id < 1 || id > objectMax() ? 0 : atomic.load<i32>(objectAt(id) + OBJ_KIND);
}

/** The creation serial of object `id`. */
export function objectSerial(id: i32): u32 {
  return id < 1 || id > objectMax() ? 0 : atomic.load<u32>(objectAt(id) + OBJ_SERIAL);
}

/** Live objects (any kind). */
export function objectsLive(): i32 {
  const objects = objectMax();
  let live = 0;
  for (let id = 1; id <= objects; id++) if (atomic.load<i32>(objectAt(id) + OBJ_KIND) != 0) live++;
  return live;
}

/** Size of the object table. */
export function objectsMax(): i32 {
  return objectMax();
}
