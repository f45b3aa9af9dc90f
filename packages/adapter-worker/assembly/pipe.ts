// Pipes and duplex pipes: entry points over the object table and byte rings.
//
//   pipe (KIND_PIPE)                        duplex pipe (KIND_DUPLEX)
//   ┌──────────────────────────────┐        ┌──────────────────────────────┐
//   │ ring 0: END_WRITE ──► END_READ│        │ ring 0: END_A ──► END_B      │
//   └──────────────────────────────┘        │ ring 1: END_B ──► END_A      │
//                                           └──────────────────────────────┘
//
// Every call that changes state bumps the object's seq cell under the object's lock and notifies
// it after unlocking; the TypeScript side waits on that cell (Atomics.waitAsync) after an EAGAIN.
// Reads and writes notify only while a waiter is parked on the cell (OBJ_PARKED, see publish):
// every thread that parks on a pipe's cell for data or space counts itself in there first.
import { EBADF, EBUSY, EINTR, EINVAL, ENFILE, ENOMEM, EPERM } from './errno';
import { handleCreate, ownHandle, handleEntry } from './handle';
import { currentOwner, kernelLock, kernelUnlock, setSecondResult } from './kernel';
import { lockAcquire, lockRelease } from './lock';
import {
  END_A,
  END_B,
  END_READ,
  END_WRITE,
  KIND_DUPLEX,
  KIND_FIFO,
  KIND_PIPE,
  OBJ_LOCK,
  OBJ_PARKED,
  OBJ_RING0,
  OBJ_RING1,
  countEnd,
  objectAt,
  objectChanged,
  objectCreate,
  objectDestroy,
  objectNotify,
  readRing,
  ringObject,
  writeRing,
  objectEntry,
} from './object';
import { ownerAt, ownerEntry } from './owner';
import {
  RING_CAPACITY,
  RING_MAX_CAPACITY,
  RING_READING,
  RING_WRITING,
  ringAttach,
  ringAvailable,
  ringCommit,
  ringConsume,
  ringRead,
  ringResize,
  ringSpan,
  ringUnwrite,
  ringWrite,
  roundCapacity,
  ringAt,
  ringFlight,
} from './ring';

/** Capacity of each direction of a duplex pipe. */
export const DUPLEX_CAPACITY: u32 = 65536;

/** Gives a fresh object two handles of the current owner; the second goes to `secondResult`. */
function twoHandles(id: i32, first: i32, second: i32): i32 {
  const a = handleCreate(currentOwner, id, first);
  const b = a == 0 ? 0 : handleCreate(currentOwner, id, second);
  if (b == 0) return 0;
  const object = objectAt(id);
  countEnd(object, first, 1);
  countEnd(object, second, 1);
  setSecondResult(b);
  return a;
}

/** `pipe2()`: the reader's handle (the writer's in `second_result`), or -ENOMEM / -ENFILE / -EPERM / -EINTR. */
export function pipeCreate(capacity: u32): i32 {
  const size = roundCapacity(capacity == 0 ? 65536 : capacity);
  if (size > RING_MAX_CAPACITY) return -EPERM;
  if (!kernelLock()) return -EINTR;
  let result: i32 = -ENFILE;
  const id = objectCreate(KIND_PIPE, 2);
  if (id != 0) {
    if (!ringAttach(objectAt(id) + OBJ_RING0, size)) {
      result = -ENOMEM;
      objectDestroy(id);
    } else {
      result = twoHandles(id, END_READ, END_WRITE);
      if (result == 0) {
        result = -ENFILE;
        objectDestroy(id);
      }
    }
  }
  kernelUnlock();
  return result;
}

/** `socketpair()`: end A's handle (end B's in `second_result`), or -errno. */
export function duplexCreate(): i32 {
  if (!kernelLock()) return -EINTR;
  let result: i32 = -ENFILE;
  const id = objectCreate(KIND_DUPLEX, 2);
  if (id != 0) {
    const object = objectAt(id);
    if (!ringAttach(object + OBJ_RING0, DUPLEX_CAPACITY) || !ringAttach(object + OBJ_RING1, DUPLEX_CAPACITY)) {
      result = -ENOMEM;
      objectDestroy(id);
    } else {
      result = twoHandles(id, END_A, END_B);
      if (result == 0) {
        result = -ENFILE;
        objectDestroy(id);
      }
    }
  }
  kernelUnlock();
  return result;
}

/**
 * The ring that one of the current owner's handles reads (`side` RING_READING) or writes
 * (RING_WRITING), or 0 (no such handle, or it does not go that way). Its object: `ringObject`.
 */
function handleRing(handle: i32, side: u32): usize {
  const entry = ownHandle(handle);
  if (entry == 0) return 0;
  const object = objectAt(handleEntry(entry).object);
  const end = handleEntry(entry).end;
  return side == RING_READING ? readRing(object, end) : writeRing(object, end);
}

/**
 * Takes the object's lock once no copy is in flight on `side` of `ring` (RING_READING or
 * RING_WRITING): a read or write must not pass one of its own side that is still copying (bytes
 * would come out of order), as Linux's pipe mutex keeps it waiting. False after SIDE_IDLE_SPINS
 * tries (the copying thread was preempted or died: the caller answers -EINTR, "call again").
 */
function lockSideIdle(object: usize, ring: usize, side: u32): bool {
  for (let i = 0; i < SIDE_IDLE_SPINS; i++) {
    if (atomic.load<i32>(ring + side) != 0) continue;
    if (!lockAcquire(object + OBJ_LOCK, currentOwner)) return false;
    if (load<i32>(ring + side) == 0) return true;
    lockRelease(object + OBJ_LOCK);
  }
  return false;
}

/**
 * Loads of a ring side's in-flight mark before lockSideIdle gives up (a copy of up to 64 KiB takes
 * µs; one whose thread lost its CPU is better retried from TypeScript, which can sleep or yield).
 */
const SIDE_IDLE_SPINS: i32 = 1 << 14;

/** Publishes a change made under the object lock: bumps the wait cell, unlocks, wakes parked waiters. */
function publish(object: usize): void {
  objectChanged(object);
  lockRelease(object + OBJ_LOCK);
  // A waiter counts itself in before it parks and then parks only if the cell still holds what it
  // saw: the bump above (sequentially consistent) comes before this load, so either it sees the
  // count or the waiter sees the bump. Spinning waiters need no notify.
  if (atomic.load<i32>(object + OBJ_PARKED) != 0) objectNotify(object);
}

/** `read()`: bytes copied to `dst` (0 = EOF), or -EAGAIN / -EBADF / -EINTR. */
export function streamRead(handle: i32, dst: usize, max: u32): i32 {
  const ring = handleRing(handle, RING_READING);
  if (ring == 0) return -EBADF;
  const object = ringObject(ring);
  if (!lockSideIdle(object, ring, RING_READING)) return -EINTR;
  const n = ringRead(ring, dst, max);
  if (n > 0) publish(object);
  else lockRelease(object + OBJ_LOCK);
  return n;
}

/**
 * `write()` of `len` bytes from `src`, a piece of one write that has `more` bytes after it and,
 * when `continued`, bytes before it already written (see `ringWrite`): bytes taken, or -EAGAIN /
 * -EPIPE / -EBADF / -EINTR.
 */
export function streamWrite(handle: i32, src: usize, len: u32, more: u32, continued: bool): i32 {
  const ring = handleRing(handle, RING_WRITING);
  if (ring == 0) return -EBADF;
  const object = ringObject(ring);
  if (!lockSideIdle(object, ring, RING_WRITING)) return -EINTR;
  const n = ringWrite(ring, src, len, more, continued);
  if (n > 0) publish(object);
  else lockRelease(object + OBJ_LOCK);
  return n;
}

// Reads and writes whose caller copies the bytes itself. TypeScript's bytes are not in this
// memory, so `streamRead`/`streamWrite` need them staged in the scratch buffer: two copies per
// byte. Here a begin call does the ring's bookkeeping under the lock and marks a copy in flight
// on its side of the ring (ring.ts), TypeScript copies straight between its array and the ring
// (the span record in its scratch buffer says where) WITHOUT the lock, and the end call
// publishes: one copy per byte, and a reader and a writer copy at the same time.

/** The span record's place: the start of the current owner's scratch buffer. */
@inline function spanRecord(): usize {
  return <usize>ownerEntry(ownerAt(currentOwner)).scratch;
}

/**
 * The first half of a `read()` that the caller copies: finds up to `max` bytes as `streamRead`
 * would take them, marks them being read by the current owner and writes where they are to the
 * span record (ring.ts) at the start of its scratch buffer. Bytes to copy, to be ended with
 * `streamReadEnd`; or 0 = EOF / -EAGAIN / -EBADF / -EINTR with nothing in flight.
 */
export function streamReadBegin(handle: i32, max: u32): i32 {
  const ring = handleRing(handle, RING_READING);
  if (ring == 0) return -EBADF;
  const object = ringObject(ring);
  if (!lockSideIdle(object, ring, RING_READING)) return -EINTR;
  const n = ringAvailable(ring, max);
  if (n > 0) {
    atomic.store<i32>(ring + RING_READING, currentOwner);
    ringFlight(ring).readingBytes = <u32>n;
    ringSpan(ring, ringAt(ring).head, <u32>n, spanRecord());
  }
  lockRelease(object + OBJ_LOCK);
  return n;
}

/**
 * The first half of a `write()` that the caller copies: takes room as `streamWrite` does (same
 * `more`/`continued` rules), marks it being written by the current owner and writes where it is
 * to the span record; the caller fills it from the start of its piece. Bytes taken, to be ended
 * with `streamWriteEnd`; or -EAGAIN / -EPIPE / -EBADF / -EINTR with nothing in flight (0 for an
 * empty write).
 */
export function streamWriteBegin(handle: i32, len: u32, more: u32, continued: bool): i32 {
  const ring = handleRing(handle, RING_WRITING);
  if (ring == 0) return -EBADF;
  const object = ringObject(ring);
  if (!lockSideIdle(object, ring, RING_WRITING)) return -EINTR;
  const tail = ringAt(ring).tail;
  const n = ringWrite(ring, 0, len, more, continued, false);
  if (n > 0) {
    atomic.store<i32>(ring + RING_WRITING, currentOwner);
    ringSpan(ring, tail, <u32>n, spanRecord());
  }
  lockRelease(object + OBJ_LOCK);
  return n;
}

/**
 * Ends a read begun by `streamReadBegin` (the caller has copied the bytes): takes them off the
 * ring, frees the pages read to their end, wakes waiters. 0, -EINTR (locked: call again, the read
 * stays in flight) or -EBADF (no read of this owner in flight on that handle).
 */
export function streamReadEnd(handle: i32): i32 {
  const ring = handleRing(handle, RING_READING);
  if (ring == 0 || atomic.load<i32>(ring + RING_READING) != currentOwner) return -EBADF;
  const object = ringObject(ring);
  if (!lockAcquire(object + OBJ_LOCK, currentOwner)) return -EINTR;
  ringConsume(ring, ringFlight(ring).readingBytes);
  atomic.store<i32>(ring + RING_READING, 0);
  publish(object);
  return 0;
}

/**
 * Ends a write begun by `streamWriteBegin` (the caller has copied the bytes): makes them visible
 * to readers, wakes waiters. 0, -EINTR (locked: call again, the write stays in flight) or -EBADF.
 */
export function streamWriteEnd(handle: i32): i32 {
  const ring = handleRing(handle, RING_WRITING);
  if (ring == 0 || atomic.load<i32>(ring + RING_WRITING) != currentOwner) return -EBADF;
  const object = ringObject(ring);
  if (!lockAcquire(object + OBJ_LOCK, currentOwner)) return -EINTR;
  ringCommit(ring);
  atomic.store<i32>(ring + RING_WRITING, 0);
  publish(object);
  return 0;
}

/** Whether `owner` has a read or a write in flight on `ring`. */
@inline function copiesOf(ring: usize, owner: i32): bool {
  return atomic.load<i32>(ring + RING_READING) == owner || atomic.load<i32>(ring + RING_WRITING) == owner;
}

/**
 * Rolls back the copies in flight that dead `owner` left on the rings of object `id` (its reaper,
 * owner_release): its half-copied write is taken back (readers never saw it), its read leaves the
 * bytes for the next reader. False if the object's lock could not be taken (call again).
 */
export function streamReleaseOwner(id: i32, owner: i32): bool {
  const object = objectAt(id);
  const kind = objectEntry(object).kind;
  if (kind != KIND_PIPE && kind != KIND_DUPLEX && kind != KIND_FIFO) return true;
  // Most objects have nothing of it in flight: look before taking their lock.
  if (!copiesOf(object + OBJ_RING0, owner) && !copiesOf(object + OBJ_RING1, owner)) return true;
  if (!lockAcquire(object + OBJ_LOCK, currentOwner)) return false;
  for (let r = 0; r < 2; r++) {
    const ring = object + (r == 0 ? OBJ_RING0 : OBJ_RING1);
    if (ringFlight(ring).reading == owner) atomic.store<i32>(ring + RING_READING, 0);
    if (ringFlight(ring).writing == owner) {
      ringUnwrite(ring, ringFlight(ring).committed);
      atomic.store<i32>(ring + RING_WRITING, 0);
    }
  }
  publish(object);
  return true;
}

/** `shutdown(SHUT_WR)` of a duplex end: the other end reads EOF. 0 or -errno. */
export function streamShutdown(handle: i32): i32 {
  const entry = ownHandle(handle);
  if (entry == 0) return -EBADF;
  const end = handleEntry(entry).end;
  if (end != END_A && end != END_B) return -EINVAL;
  const object = objectAt(handleEntry(entry).object);
  const ring = writeRing(object, end);
  // After a write still copying in: its bytes come before the EOF.
  if (!lockSideIdle(object, ring, RING_WRITING)) return -EINTR;
  ringAt(ring).shut = 1;
  objectChanged(object);
  lockRelease(object + OBJ_LOCK);
  objectNotify(object);
  return 0;
}

/** The ring a pipe-end handle concerns (its object's ring 0), or 0. */
function pipeRing(handle: i32): usize {
  const entry = ownHandle(handle);
  if (entry == 0) return 0;
  const end = handleEntry(entry).end;
  if (end != END_READ && end != END_WRITE) return 0;
  return objectAt(handleEntry(entry).object) + OBJ_RING0;
}

/** `F_GETPIPE_SZ`: the capacity, or -EBADF. Lock-free: the capacity is one aligned word. */
export function pipeCapacity(handle: i32): i32 {
  const ring = pipeRing(handle);
  if (ring == 0) return -EBADF;
  return <i32>atomic.load<u32>(ring + RING_CAPACITY);
}

/** `F_SETPIPE_SZ`: the new capacity, or -EBUSY (more pages occupied than it has) / -EPERM / -ENOMEM / -EBADF / -EINTR. */
export function pipeSetCapacity(handle: i32, bytes: u32): i32 {
  const ring = pipeRing(handle);
  if (ring == 0) return -EBADF;
  const size = roundCapacity(bytes);
  if (size > RING_MAX_CAPACITY) return -EPERM;
  const object = ring - OBJ_RING0;
  if (!kernelLock()) return -EINTR;
  // The bytes move: wait for the copies in flight on both sides (see lockSideIdle).
  if (!lockSideIdle(object, ring, RING_READING)) {
    kernelUnlock();
    return -EINTR;
  }
  if (ringFlight(ring).writing != 0) {
    lockRelease(object + OBJ_LOCK);
    kernelUnlock();
    return -EINTR;
  }
  let result: i32 = <i32>size;
  if (ringAt(ring).data == 0) {
    // A FIFO with no open end has no buffer: nothing to resize (cannot happen through a handle).
    ringAt(ring).capacity = size;
  } else if (size != ringAt(ring).capacity) {
    const resized = ringResize(ring, size);
    if (resized < 0) result = resized;
  }
  if (result > 0) objectChanged(object);
  lockRelease(object + OBJ_LOCK);
  kernelUnlock();
  if (result > 0) objectNotify(object);
  return result;
}

