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
import { HANDLE_OBJECT, handleCreate, ownHandle } from './handle';
import { currentOwner, kernelLock, kernelUnlock } from './kernel';
import { lockAcquire, lockRelease } from './lock';
import {
  FLAG_LINKED,
  KIND_POSIX_SEM,
  NAME_MAX_BYTES,
  OBJ_FLAGS,
  OBJ_KIND,
  OBJ_LOCK,
  OBJ_MODE,
  OBJ_NAME_LEN,
  OBJ_NAME_PTR,
  OBJ_REFS,
  objectAt,
  objectChanged,
  objectCreate,
  objectDestroy,
  objectLookup,
  objectNotify,
  objectSetName,
} from './object';
import { PERM_READ, PERM_WRITE, currentGid, currentUid, permitted } from './permission';

/** The largest value (Linux's SEM_VALUE_MAX, INT_MAX). */
export const SEM_VALUE_MAX: i32 = 0x7fffffff;
export const PSEM_VALUE: u32 = 36;
export const PSEM_UID: u32 = 40;
export const PSEM_GID: u32 = 44;
/** The handle end of a POSIX semaphore handle (it neither reads nor writes a ring). */
export const END_SEMAPHORE: i32 = 0;

/** The POSIX semaphore behind one of the current owner's handles, or 0. */
function ownSemaphore(handle: i32): usize {
  const entry = ownHandle(handle);
  if (entry == 0) return 0;
  const object = objectAt(load<i32>(entry + HANDLE_OBJECT));
  return load<i32>(object + OBJ_KIND) == KIND_POSIX_SEM ? object : 0;
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
    else if (!permitted(load<u32>(object + PSEM_UID), load<u32>(object + PSEM_GID), load<u32>(object + PSEM_UID), load<u32>(object + PSEM_GID), load<u32>(object + OBJ_MODE), PERM_READ | PERM_WRITE)) {
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
        store<i32>(object + PSEM_VALUE, initial);
        store<u32>(object + PSEM_UID, currentUid());
        store<u32>(object + PSEM_GID, currentGid());
        store<u32>(object + OBJ_MODE, mode & 0o777);
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
        store<i32>(object + OBJ_REFS, load<i32>(object + OBJ_REFS) + 1);
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
  store<i32>(object + OBJ_FLAGS, 0);
  free(<usize>load<u32>(object + OBJ_NAME_PTR), load<u32>(object + OBJ_NAME_LEN));
  store<u32>(object + OBJ_NAME_PTR, 0);
  store<u32>(object + OBJ_NAME_LEN, 0);
  const refs = load<i32>(object + OBJ_REFS) - 1;
  store<i32>(object + OBJ_REFS, refs);
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
    if (me != 0 && me != load<u32>(object + PSEM_UID)) result = -EACCES;
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
  const value = load<i32>(object + PSEM_VALUE);
  let result: i32 = -EAGAIN;
  if (value > 0) {
    store<i32>(object + PSEM_VALUE, value - 1);
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
  const value = load<i32>(object + PSEM_VALUE);
  let result: i32 = -EOVERFLOW;
  if (value < SEM_VALUE_MAX) {
    store<i32>(object + PSEM_VALUE, value + 1);
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
