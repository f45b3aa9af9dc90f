// POSIX named semaphores (sem_open, sem_trywait, sem_post, sem_getvalue, sem_unlink): one counter
// per name, in the namespace like a FIFO.
//
//   namespace ──"jobs"──► object (KIND_POSIX_SEM, FLAG_LINKED)   refs: handles + 1 while linked
//                           ▲          ▲
//                  handle (owner 1)  handle (owner 5)            one per sem_open, closed by
//                                                                sem_close or when its worker ends
//
// The name is stored as glibc passes it to /dev/shm (leading slashes removed; the TypeScript side
// checks it). Every field lives in the object entry's kind area; the ring data pointers (+32,
// +64) stay 0 so objectDestroy frees nothing but the name:
//
//   +32  ┌────────────────────────┐
//        │ u32 0                  │ (ring 0's data pointer)
//   +36  │ i32 value              │ 0..SEM_VALUE_MAX
//   +40  │ u32 uid                │ creator = owner (the file's owner in /dev/shm)
//   +44  │ u32 gid                │
//   ...  │                        │
//   +104 │ u32 mode (OBJ_MODE)    │ permission bits
//        └────────────────────────┘
//
// Waiting: a post bumps the object's seq cell and notifies it; a thread waiting for a unit sleeps
// on that cell and tries again (sem_trywait) when it changes, as glibc's futex waiters do.
import { free } from './alloc';
import { EACCES, EAGAIN, EBADF, EEXIST, EINTR, ENFILE, ENOENT, ENOMEM, ENOSPC, EOVERFLOW } from './errno';
import { handleCreate, ownHandle, handleEntry } from './handle';
import { currentOwner, kernelLock, kernelUnlock } from './kernel';
import { lockAcquire, lockRelease } from './lock';
import {
  KIND_POSIX_SEM,
  NAME_MAX_BYTES,
  OBJ_LOCK,
  objectAt,
  objectChanged,
  objectCreate,
  objectDestroy,
  objectLookup,
  objectNotify,
  objectSetName,
  objectEntry,
  objectInfo,
  ObjectEntry,
} from './object';
import { PERM_READ, PERM_WRITE, currentGid, currentUid, permitted } from './permission';

/** The largest value (Linux's SEM_VALUE_MAX, INT_MAX). */
export const SEM_VALUE_MAX: i32 = 0x7fffffff;
/** The semaphore's fields in its object's kind area (the diagram above); the compiler owns the offsets. */
@unmanaged export class PosixSemEntry extends ObjectEntry {
  /** Ring 0's data pointer in a stream: stays 0, so objectDestroy frees nothing but the name. */
  ring0Data: u32;
  value: i32;
  uid: u32;
  gid: u32;
}
/** Where the record ends in the entry: within the kind area (test/kernel.test.ts checks). */
export const PSEM_RECORD_END: u32 = offsetof<PosixSemEntry>();
/** Read with atomics (psem_value takes no lock). */
export const PSEM_VALUE: u32 = offsetof<PosixSemEntry>('value');
/** The PosixSemEntry at `at`. */
@inline export function posixSem(at: usize): PosixSemEntry {
  return changetype<PosixSemEntry>(at);
}

/** The handle end of a POSIX semaphore handle (it neither reads nor writes a ring). */
export const END_SEMAPHORE: i32 = 0;

/** The POSIX semaphore behind one of the current owner's handles, or 0. */
function ownSemaphore(handle: i32): usize {
  const entry = ownHandle(handle);
  if (entry == 0) return 0;
  const object = objectAt(handleEntry(entry).object);
  return objectEntry(object).kind == KIND_POSIX_SEM ? object : 0;
}

/**
 * `sem_open(name, flags, mode, initial)`: a new handle, or -ENOENT / -EEXIST / -EACCES / -ENOSPC
 * (object table full) / -ENOMEM / -ENFILE / -EINTR. Opening an existing semaphore needs read and
 * write permission, as glibc's open(O_RDWR) of its file does.
 */
export function psemOpen(name: usize, len: u32, create: i32, exclusive: i32, mode: u32, initial: i32): i32 {
  if (len == 0 || len > NAME_MAX_BYTES) return -ENOENT;
  if (!kernelLock()) return -EINTR;
  let id = objectLookup(KIND_POSIX_SEM, name, len);
  let result: i32 = 0;
  let made = false;
  if (id != 0) {
    const object = objectAt(id);
    if (create != 0 && exclusive != 0) result = -EEXIST;
    else if (!permitted(posixSem(object).uid, posixSem(object).gid, posixSem(object).uid, posixSem(object).gid, objectInfo(object).mode, PERM_READ | PERM_WRITE)) {
      result = -EACCES;
    }
  } else if (create == 0) result = -ENOENT;
  else {
    id = objectCreate(KIND_POSIX_SEM, 1);
    if (id == 0) result = -ENOSPC;
    else {
      if (!objectSetName(id, name, len, true)) {
        objectDestroy(id);
        result = -ENOMEM;
      } else {
        const object = objectAt(id);
        posixSem(object).value = initial;
        posixSem(object).uid = currentUid();
        posixSem(object).gid = currentGid();
        objectInfo(object).mode = mode & 0o777;
        made = true;
      }
    }
  }
  if (result == 0) {
    const object = objectAt(id);
    if (!lockAcquire(object + OBJ_LOCK, currentOwner)) result = -EINTR;
    else {
      const handle = handleCreate(currentOwner, id, END_SEMAPHORE);
      if (handle == 0) result = -ENFILE;
      else {
        objectEntry(object).refs = objectEntry(object).refs + 1;
        result = handle;
      }
      lockRelease(object + OBJ_LOCK);
    }
    // A semaphore made by this call that got no handle is not left behind.
    if (result < 0 && made) unlinkLocked(id);
  }
  kernelUnlock();
  return result;
}

/** Drops the name of semaphore `id` and the reference it held. Kernel lock held. */
function unlinkLocked(id: i32): void {
  const object = objectAt(id);
  objectEntry(object).flags = 0;
  free(<usize>objectEntry(object).namePtr, objectEntry(object).nameLen);
  objectEntry(object).namePtr = 0;
  objectEntry(object).nameLen = 0;
  const refs = objectEntry(object).refs - 1;
  objectEntry(object).refs = refs;
  if (refs == 0) objectDestroy(id);
}

/**
 * `sem_unlink(name)`: 0, or -ENOENT / -EACCES (neither its owner nor root: /dev/shm is sticky) /
 * -EINTR. Open handles keep the semaphore; it goes with the last one.
 */
export function psemUnlink(name: usize, len: u32): i32 {
  if (len == 0 || len > NAME_MAX_BYTES) return -ENOENT;
  if (!kernelLock()) return -EINTR;
  const id = objectLookup(KIND_POSIX_SEM, name, len);
  let result: i32 = 0;
  if (id == 0) result = -ENOENT;
  else {
    const object = objectAt(id);
    const me = currentUid();
    if (me != 0 && me != posixSem(object).uid) result = -EACCES;
    else if (!lockAcquire(object + OBJ_LOCK, currentOwner)) result = -EINTR;
    else {
      unlinkLocked(id);
      lockRelease(object + OBJ_LOCK);
    }
  }
  kernelUnlock();
  return result;
}

/** `sem_trywait`: 0 (took a unit), -EAGAIN (value 0), -EBADF, -EINTR. */
export function psemTryWait(handle: i32): i32 {
  const object = ownSemaphore(handle);
  if (object == 0) return -EBADF;
  if (!lockAcquire(object + OBJ_LOCK, currentOwner)) return -EINTR;
  const value = posixSem(object).value;
  let result: i32 = -EAGAIN;
  if (value > 0) {
    posixSem(object).value = value - 1;
    result = 0;
  }
  lockRelease(object + OBJ_LOCK);
  return result;
}

/** `sem_post`: 0, -EOVERFLOW (at SEM_VALUE_MAX), -EBADF, -EINTR. Wakes the threads waiting on it. */
export function psemPost(handle: i32): i32 {
  const object = ownSemaphore(handle);
  if (object == 0) return -EBADF;
  if (!lockAcquire(object + OBJ_LOCK, currentOwner)) return -EINTR;
  const value = posixSem(object).value;
  let result: i32 = -EOVERFLOW;
  if (value < SEM_VALUE_MAX) {
    posixSem(object).value = value + 1;
    // Bump under the lock, notify after: a waiter that read the old seq sees the new one or is woken.
    objectChanged(object);
    result = 0;
  }
  lockRelease(object + OBJ_LOCK);
  if (result == 0) objectNotify(object);
  return result;
}

/** `sem_getvalue`: the value, or -EBADF. */
export function psemValue(handle: i32): i32 {
  const object = ownSemaphore(handle);
  if (object == 0) return -EBADF;
  return atomic.load<i32>(object + PSEM_VALUE);
}
