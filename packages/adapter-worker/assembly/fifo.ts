// FIFOs: named byte rings. The name lives in the object entry (object.ts); the ring gets its
// buffer when the first end opens and loses it (with any bytes left) when the last end closes.
//
//   namespace ──"/tmp/x"──► object (KIND_FIFO, FLAG_LINKED)
//                             ring 0: END_WRITE handles ──► END_READ handles
//                             read opens / write opens: counters a waiting open watches
//
// Opening is two steps, as in the kernel's fifo_open(): `fifoOpen` counts the new end at once
// (so the other side sees it) and returns a handle plus a snapshot of the other side's open
// counter; the TypeScript side then waits on the seq cell until `fifoOpenReady` says the other
// side is there (or came and went). Cancelling that wait closes the handle.
//
// Permissions: a FIFO records its mode and its creator's identity as owner (OBJ_FILE_UID/GID);
// opening for reading needs the `r` bit of the caller's class, for writing the `w` bit (EACCES),
// checked before anything else as the kernel's path walk does. There are no folders, so creating
// and removing need no permission (the kernel would check the folder's `w` bit).
import { free } from './alloc';
import { EACCES, EBADF, EEXIST, EINTR, ENAMETOOLONG, ENFILE, ENOENT, ENOMEM, ENOSPC, ENXIO } from './errno';
import { handleCreate, ownHandle, handleEntry } from './handle';
import { currentOwner, kernelLock, kernelUnlock, setSecondResult } from './kernel';
import { lockAcquire, lockRelease } from './lock';
import {
  END_READ,
  END_WRITE,
  KIND_FIFO,
  NAME_MAX_BYTES,
  OBJ_LOCK,
  OBJ_READ_OPENS,
  OBJ_RING0,
  OBJ_WRITE_OPENS,
  countEnd,
  objectAt,
  objectChanged,
  objectCreate,
  objectDestroy,
  objectLookup,
  objectNotify,
  objectSetName,
  objectEntry,
  objectInfo,
} from './object';
import { PERM_READ, PERM_WRITE, currentGid, currentUid, permitted } from './permission';
import { RING_DEFAULT_CAPACITY, RING_READERS, RING_WRITERS, ringAttach, ringAt } from './ring';

/** `mkfifo(path, mode)`: 0, or -EEXIST / -ENOSPC (object table full) / -ENOMEM / -ENAMETOOLONG / -ENOENT (empty) / -EINTR. */
export function fifoCreate(path: usize, len: u32, mode: u32): i32 {
  if (len == 0) return -ENOENT;
  if (len > NAME_MAX_BYTES) return -ENAMETOOLONG;
  if (!kernelLock()) return -EINTR;
  let result: i32 = 0;
  if (objectLookup(KIND_FIFO, path, len) != 0) result = -EEXIST;
  else {
    const id = objectCreate(KIND_FIFO, 1);
    if (id == 0) result = -ENOSPC;
    else {
      if (!objectSetName(id, path, len, true)) {
        objectDestroy(id);
        result = -ENOMEM;
      } else {
        const object = objectAt(id);
        objectInfo(object).mode = mode;
        objectInfo(object).fileUid = currentUid();
        objectInfo(object).fileGid = currentGid();
        ringAt(object + OBJ_RING0).capacity = RING_DEFAULT_CAPACITY;
      }
    }
  }
  kernelUnlock();
  return result;
}

/** `unlink(path)`: 0, or -ENOENT / -EINTR. Open ends keep working; the object goes with the last. */
export function fifoUnlink(path: usize, len: u32): i32 {
  if (len == 0) return -ENOENT;
  if (len > NAME_MAX_BYTES) return -ENAMETOOLONG;
  if (!kernelLock()) return -EINTR;
  const id = objectLookup(KIND_FIFO, path, len);
  let result: i32 = -ENOENT;
  if (id != 0) {
    const object = objectAt(id);
    if (!lockAcquire(object + OBJ_LOCK, currentOwner)) result = -EINTR;
    else {
      objectEntry(object).flags = 0;
      free(<usize>objectEntry(object).namePtr, objectEntry(object).nameLen);
      objectEntry(object).namePtr = 0;
      objectEntry(object).nameLen = 0;
      const refs = objectEntry(object).refs - 1;
      objectEntry(object).refs = refs;
      if (refs == 0) objectDestroy(id);
      lockRelease(object + OBJ_LOCK);
      result = 0;
    }
  }
  kernelUnlock();
  return result;
}

/**
 * `open(path, O_RDONLY | O_WRONLY [| O_NONBLOCK])`, first step: the handle, with the other side's
 * open counter in `second_result`; or -ENOENT / -EACCES (the mode does not let the caller read, or
 * write) / -ENXIO (nowait writer, no reader) / -ENOMEM / -ENFILE / -EINTR.
 */
export function fifoOpen(path: usize, len: u32, write: bool, nowait: bool): i32 {
  if (len == 0) return -ENOENT;
  if (len > NAME_MAX_BYTES) return -ENAMETOOLONG;
  if (!kernelLock()) return -EINTR;
  const id = objectLookup(KIND_FIFO, path, len);
  if (id == 0) {
    kernelUnlock();
    return -ENOENT;
  }
  const object = objectAt(id);
  const uid = objectInfo(object).fileUid;
  const gid = objectInfo(object).fileGid;
  if (!permitted(uid, gid, uid, gid, objectInfo(object).mode, write ? PERM_WRITE : PERM_READ)) {
    kernelUnlock();
    return -EACCES;
  }
  if (!lockAcquire(object + OBJ_LOCK, currentOwner)) {
    kernelUnlock();
    return -EINTR;
  }
  const ring = object + OBJ_RING0;
  let result: i32 = 0;
  if (write && nowait && ringAt(ring).readers == 0) result = -ENXIO;
  else if (ringAt(ring).data == 0) {
    if (!ringAttach(ring, ringAt(ring).capacity)) result = -ENOMEM;
  }
  if (result == 0) {
    const end = write ? END_WRITE : END_READ;
    const handle = handleCreate(currentOwner, id, end);
    if (handle == 0) result = -ENFILE;
    else {
      countEnd(object, end, 1);
      objectEntry(object).refs = objectEntry(object).refs + 1;
      const mine = write ? OBJ_WRITE_OPENS : OBJ_READ_OPENS;
      store<u32>(object + mine, load<u32>(object + mine) + 1);
      // As Linux's fifo_open: the other side being open at this moment completes the open, even if
      // it closes before this thread looks again (the caller checks later, from another task).
      // Then the snapshot is one behind the counter, so "has opened since" already holds.
      const otherOpens = load<i32>(object + (write ? OBJ_READ_OPENS : OBJ_WRITE_OPENS));
      const otherNow = load<i32>(ring + (write ? RING_READERS : RING_WRITERS));
      setSecondResult(otherNow > 0 ? otherOpens - 1 : otherOpens);
      objectChanged(object);
      result = handle;
    }
  }
  lockRelease(object + OBJ_LOCK);
  kernelUnlock();
  if (result > 0) objectNotify(object);
  return result;
}

/** Second step of a blocking open: 1 once the other side is open or has opened since `snapshot`, 0 before, -EBADF. */
export function fifoOpenReady(handle: i32, snapshot: i32): i32 {
  const entry = ownHandle(handle);
  if (entry == 0) return -EBADF;
  const object = objectAt(handleEntry(entry).object);
  const ring = object + OBJ_RING0;
  const write = handleEntry(entry).end == END_WRITE;
  const others = atomic.load<i32>(ring + (write ? RING_READERS : RING_WRITERS));
  const opens = atomic.load<i32>(object + (write ? OBJ_READ_OPENS : OBJ_WRITE_OPENS));
  return others > 0 || opens != snapshot ? 1 : 0;
}
