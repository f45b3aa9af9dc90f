// Event counters (eventfd(2)): one unsigned 64-bit counter per object, no name, reached only
// through handles (created by efd_create, duplicated to children and passed over sockets like any
// handle). The semantics are the kernel's:
//   write(v): count += v, unless count + v > EFD_MAX: then -EAGAIN (the caller waits for room)
//   read():   counter mode: the whole count, leaving 0; semaphore mode: 1, count - 1;
//             -EAGAIN while count is 0 (the caller waits for a write)
//
//   handle (owner 1) ──┐
//   handle (owner 5) ──┴──► object (KIND_EVENTFD)    refs = handles; destroyed with the last
//
// Fields live in the object entry's kind area. Ring 0's data and slots pointers (+32, +60) and
// ring 1's (+64, +92) stay 0, so objectDestroy frees nothing:
//
//   +32  ┌────────────────────────┐
//        │ u32 0                  │ (ring 0's data pointer)
//   +36  │ i32 flags              │ EFD_SEMAPHORE_FLAG
//   +40  │ u64 count              │ 0..EFD_MAX (8-aligned: the table is 64-aligned, entries 192 apart,
//        │                        │ as the atomic u64 accesses below need)
//   +48  │ (unused)               │
//        └────────────────────────┘
//
// Waiting: every read and write bumps the object's seq cell under the object lock; a thread that
// parks on the cell (for data or for room) counts itself in OBJ_PARKED first, and a change
// notifies only while someone is parked (as pipes do, see publish in pipe.ts).
import { EAGAIN, EBADF, EINTR, EINVAL, ENFILE } from './errno';
import { handleCreate, handleEntry, ownHandle } from './handle';
import { currentOwner, kernelLock, kernelUnlock } from './kernel';
import { lockAcquire, lockRelease } from './lock';
import { KIND_EVENTFD, OBJ_LOCK, OBJ_PARKED, OBJ_SEQ, ObjectEntry, objectAt, objectChanged, objectCreate, objectDestroy, objectEntry, objectNotify } from './object';

/** The largest count (the kernel's ULLONG_MAX - 1). */
export const EFD_MAX: u64 = 0xfffffffffffffffe;
/** The counter's fields in its object's kind area (the diagram above); the compiler owns the offsets. */
@unmanaged export class EventfdEntry extends ObjectEntry {
  /** Ring 0's data pointer in a stream: stays 0, so objectDestroy frees nothing. */
  ring0Data: u32;
  flags: i32;
  /** Read and written with atomics (8-aligned: see the diagram). */
  count: u64;
}
/** Where the record ends in the entry: within the kind area (test/kernel.test.ts checks). */
export const EFD_RECORD_END: u32 = offsetof<EventfdEntry>();
/** The count's address offset, for its atomic accesses. */
export const EFD_COUNT: u32 = offsetof<EventfdEntry>('count');
/** The EventfdEntry at `at`. */
@inline function eventfdAt(at: usize): EventfdEntry {
  return changetype<EventfdEntry>(at);
}
/** `flags` bit: semaphore mode (EFD_SEMAPHORE). */
export const EFD_SEMAPHORE_FLAG: i32 = 1;
/** The handle end of an eventfd handle (it neither reads nor writes a ring). */
export const END_EVENTFD: i32 = 0;

/** What the last successful efd_read of this thread's instance read (a global: one per instance, so per thread). */
let lastRead: u64 = 0;

/** The eventfd behind one of the current owner's handles, or 0. */
function ownEventfd(handle: i32): usize {
  const entry = ownHandle(handle);
  if (entry == 0) return 0;
  const object = objectAt(handleEntry(entry).object);
  return objectEntry(object).kind == KIND_EVENTFD ? object : 0;
}

/** Publishes a change made under the object lock: bumps the wait cell, unlocks, wakes parked waiters. */
function publish(object: usize): void {
  objectChanged(object);
  lockRelease(object + OBJ_LOCK);
  // A waiter counts itself in before it parks, and parks only if the cell still holds what it saw:
  // the bump above (sequentially consistent) comes before this load, so either this sees the count
  // or the waiter sees the bump.
  if (atomic.load<i32>(object + OBJ_PARKED) != 0) objectNotify(object);
}

/** `eventfd2(initial, flags)`: a new handle, or -ENFILE (object or handle table full) / -EINVAL / -EINTR. */
export function efdCreate(initial: u32, semaphore: i32): i32 {
  if (semaphore != 0 && semaphore != 1) return -EINVAL;
  if (!kernelLock()) return -EINTR;
  let result: i32 = -ENFILE;
  const id = objectCreate(KIND_EVENTFD, 1);
  if (id != 0) {
    const object = objectAt(id);
    eventfdAt(object).flags = semaphore != 0 ? EFD_SEMAPHORE_FLAG : 0;
    eventfdAt(object).count = <u64>initial;
    const handle = handleCreate(currentOwner, id, END_EVENTFD);
    if (handle == 0) objectDestroy(id);
    else result = handle;
  }
  kernelUnlock();
  return result;
}

/**
 * `read()` of 8 bytes: 0 with the value in efd_last_read, or -EAGAIN (count 0) / -EBADF / -EINTR
 * (the object is locked: call again).
 */
export function efdRead(handle: i32): i32 {
  const object = ownEventfd(handle);
  if (object == 0) return -EBADF;
  // Nothing to take: answer without the lock (a write after this load is caught by the caller's wait).
  if (atomic.load<u64>(object + EFD_COUNT) == 0) return -EAGAIN;
  if (!lockAcquire(object + OBJ_LOCK, currentOwner)) return -EINTR;
  const count = eventfdAt(object).count;
  if (count == 0) {
    lockRelease(object + OBJ_LOCK);
    return -EAGAIN;
  }
  const taken: u64 = (eventfdAt(object).flags & EFD_SEMAPHORE_FLAG) != 0 ? 1 : count;
  atomic.store<u64>(object + EFD_COUNT, count - taken);
  lastRead = taken;
  // Wakes writers waiting for room (and other readers, which see the new count).
  publish(object);
  return 0;
}

/** The value of this thread's last successful efd_read (a u64; JavaScript sees an i64 BigInt). */
export function efdLastRead(): u64 {
  return lastRead;
}

/** `write()` of 8 bytes: 0, or -EAGAIN (count + value would pass EFD_MAX) / -EINVAL (value > EFD_MAX) / -EBADF / -EINTR. */
export function efdWrite(handle: i32, value: u64): i32 {
  if (value > EFD_MAX) return -EINVAL;
  const object = ownEventfd(handle);
  if (object == 0) return -EBADF;
  if (!lockAcquire(object + OBJ_LOCK, currentOwner)) return -EINTR;
  const count = eventfdAt(object).count;
  if (value > EFD_MAX - count) {
    lockRelease(object + OBJ_LOCK);
    return -EAGAIN;
  }
  atomic.store<u64>(object + EFD_COUNT, count + value);
  publish(object);
  return 0;
}

/** 1 for a semaphore-mode eventfd, 0 for counter mode, or -EBADF. */
export function efdSemaphore(handle: i32): i32 {
  const object = ownEventfd(handle);
  if (object == 0) return -EBADF;
  return (eventfdAt(object).flags & EFD_SEMAPHORE_FLAG) != 0 ? 1 : 0;
}

/** The byte address of the object's parked count (waiters count themselves in there), or 0. */
export function efdParkedCell(handle: i32): u32 {
  const object = ownEventfd(handle);
  return object == 0 ? 0 : <u32>(object + OBJ_PARKED);
}

/** The byte address of the object's wait cell, or 0 (the same as handle_wait_cell). */
export function efdWaitCell(handle: i32): u32 {
  const object = ownEventfd(handle);
  return object == 0 ? 0 : <u32>(object + OBJ_SEQ);
}
