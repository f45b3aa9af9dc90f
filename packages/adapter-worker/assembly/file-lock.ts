// Advisory file locks, emulating Linux's open file description locks (fcntl F_OFD_SETLK,
// F_OFD_GETLK; F_OFD_SETLKW is a retry on the wait cell in TypeScript). A lock file is a path in
// the namespace (no file exists); each open of it is a handle, and a handle is what owns locks,
// as an open file description does in the kernel.
//
//   namespace ──"/tmp/x.lock"──► object (KIND_LOCK_FILE, FLAG_LINKED)   refs: handles + 1 while linked
//                                   │ records ──► [h3 shared 0..10) ──► [h5 shared 0..4) ──► [h3 excl 20..∞) ──► 0
//                   handle 3 (owner 1) ┘   handle 5 (owner 2)         (sorted by start)
//
// Object entry fields (the kind area; ring 0's data and slot pointers, +32 and +60, stay 0 so
// objectDestroy frees nothing but the name):
//
//   +32  ┌────────────────────────┐
//        │ u32 0                  │ (ring 0's data pointer)
//   +36  │ u32 records            │ first lock record (heap), 0 = unlocked
//   +40  │ u32 uid                │ creator = owner of the file
//   +44  │ u32 gid                │
//   ...  │                        │
//   +104 │ u32 mode (OBJ_MODE)    │ permission bits
//        └────────────────────────┘
//
// Lock record (LOCK_RECORD_BYTES, heap):
//
//   +0  ┌──────────────────┐
//       │ u32 next         │ next record (0 = end), sorted by start
//   +4  │ i32 handle       │ the owning handle (the open file description)
//   +8  │ i32 type         │ LOCK_SHARED / LOCK_EXCLUSIVE
//   +12 │ reserved         │
//   +16 │ f64 start        │ first byte (an integer below 2^53)
//   +24 │ f64 end          │ one past the last byte; +Infinity: to the end of every possible file
//   +32 └──────────────────┘
//
// The kernel's rules (fs/locks.c posix_lock_inode): a request conflicts with a record of another
// handle that overlaps it when either is exclusive; the conflict check comes first and nothing
// changes on EAGAIN (so a conversion, shared to exclusive, is atomic: the shared lock stays). Then
// the handle's own records over the range are cut out (splitting one that straddles it), the new
// record goes in, and touching or overlapping records of the same handle and type merge, so
// F_OFD_GETLK reports the merged range as Linux does. Every change that removes or weakens a lock
// bumps the wait cell, so waiters retry. Closing a handle (close, or its worker's end) drops its
// records (handle.ts calls lockFileHandleClosed).
import { alloc, free } from './alloc';
import { EACCES, EAGAIN, EBADF, EINTR, ENAMETOOLONG, ENFILE, ENOENT, ENOLCK, ENOMEM, ENOSPC } from './errno';
import { HANDLE_BYTES, handleCreate, ownHandle, handleEntry } from './handle';
import { currentOwner, kernelHeader, kernelLock, kernelUnlock } from './kernel';
import { lockAcquire, lockRelease } from './lock';
import {
  KIND_LOCK_FILE,
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

/** A lock file's fields in its object's kind area (the diagram above). */
@unmanaged export class LockFileEntry extends ObjectEntry {
  /** Ring 0's data pointer in a stream: stays 0, so objectDestroy frees nothing but the name. */
  ring0Data: u32;
  records: u32;
  uid: u32;
  gid: u32;
}
/** Where the record ends in the entry: within the kind area (test/kernel.test.ts checks). */
export const LOCK_FILE_RECORD_END: u32 = offsetof<LockFileEntry>();
/** The head of the record list, walked by its links' addresses. */
export const LOCK_FILE_RECORDS: u32 = offsetof<LockFileEntry>('records');
/** The LockFileEntry at `at`. */
@inline export function lockFile(at: usize): LockFileEntry {
  return changetype<LockFileEntry>(at);
}

/** A lock record (the diagram above). */
@unmanaged export class LockRecord {
  next: u32;
  handle: i32;
  type: i32;
  start: f64;
  end: f64;
}
export const LOCK_RECORD_BYTES: u32 = offsetof<LockRecord>();
const REC_NEXT: u32 = offsetof<LockRecord>('next');
/** The LockRecord at `at`. */
@inline export function lockRecord(at: usize): LockRecord {
  return changetype<LockRecord>(at);
}

/** Lock types, as TypeScript passes them (F_RDLCK, F_WRLCK, F_UNLCK in that order, as on Linux). */
export const LOCK_SHARED: i32 = 0;
export const LOCK_EXCLUSIVE: i32 = 1;
export const LOCK_UNLOCK: i32 = 2;
/** The record flock_get writes (TypeScript reads it at the LOCK_QUERY_* offsets). */
@unmanaged export class LockQuery {
  type: i32;
  start: f64;
  end: f64;
}
export const LOCK_QUERY_BYTES: u32 = offsetof<LockQuery>();
export const LOCK_QUERY_TYPE: u32 = offsetof<LockQuery>('type');
export const LOCK_QUERY_START: u32 = offsetof<LockQuery>('start');
export const LOCK_QUERY_END: u32 = offsetof<LockQuery>('end');
/** The LockQuery at `at`. */
@inline export function lockQuery(at: usize): LockQuery {
  return changetype<LockQuery>(at);
}

/** The end of a lock file handle (it reads and writes no ring). */
export const END_LOCK_FILE: i32 = 0;

/** The lock file object behind one of the current owner's handles, or 0. */
function ownLockFile(handle: i32): usize {
  const entry = ownHandle(handle);
  if (entry == 0) return 0;
  const object = objectAt(handleEntry(entry).object);
  return objectEntry(object).kind == KIND_LOCK_FILE ? object : 0;
}

/**
 * `open(path, O_RDWR | (create ? O_CREAT : 0), mode)`: a new handle, or -ENOENT / -EACCES (no read
 * and write permission) / -ENAMETOOLONG / -ENOSPC (object table full) / -ENOMEM / -ENFILE / -EINTR.
 */
export function flockOpen(path: usize, len: u32, create: i32, mode: u32): i32 {
  if (len == 0) return -ENOENT;
  if (len > NAME_MAX_BYTES) return -ENAMETOOLONG;
  if (!kernelLock()) return -EINTR;
  let id = objectLookup(KIND_LOCK_FILE, path, len);
  let result: i32 = 0;
  let made = false;
  if (id != 0) {
    const object = objectAt(id);
    const uid = lockFile(object).uid;
    const gid = lockFile(object).gid;
    if (!permitted(uid, gid, uid, gid, objectInfo(object).mode, PERM_READ | PERM_WRITE)) result = -EACCES;
  } else if (create == 0) result = -ENOENT;
  else {
    id = objectCreate(KIND_LOCK_FILE, 1);
    if (id == 0) result = -ENOSPC;
    else if (!objectSetName(id, path, len, true)) {
      objectDestroy(id);
      result = -ENOMEM;
    } else {
      const object = objectAt(id);
      lockFile(object).uid = currentUid();
      lockFile(object).gid = currentGid();
      objectInfo(object).mode = mode & 0o7777;
      made = true;
    }
  }
  if (result == 0) {
    const object = objectAt(id);
    if (!lockAcquire(object + OBJ_LOCK, currentOwner)) result = -EINTR;
    else {
      const handle = handleCreate(currentOwner, id, END_LOCK_FILE);
      if (handle == 0) result = -ENFILE;
      else {
        objectEntry(object).refs = objectEntry(object).refs + 1;
        result = handle;
      }
      lockRelease(object + OBJ_LOCK);
    }
    // A file made by this call that got no handle is not left behind.
    if (result < 0 && made) unlinkLocked(id);
  }
  kernelUnlock();
  return result;
}

/** Drops the name of lock file `id` and the reference it held. Kernel lock held. */
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

/** `unlink(path)`: 0, or -ENOENT / -ENAMETOOLONG / -EINTR. Open handles keep the file and their locks. */
export function flockUnlink(path: usize, len: u32): i32 {
  if (len == 0) return -ENOENT;
  if (len > NAME_MAX_BYTES) return -ENAMETOOLONG;
  if (!kernelLock()) return -EINTR;
  const id = objectLookup(KIND_LOCK_FILE, path, len);
  let result: i32 = -ENOENT;
  if (id != 0) {
    const object = objectAt(id);
    if (!lockAcquire(object + OBJ_LOCK, currentOwner)) result = -EINTR;
    else {
      unlinkLocked(id);
      lockRelease(object + OBJ_LOCK);
      result = 0;
    }
  }
  kernelUnlock();
  return result;
}

/** True if a request of `type` over [start, end) by `handle` conflicts with `record`. */
@inline function conflicts(record: usize, handle: i32, type: i32, start: f64, end: f64): bool {
  if (lockRecord(record).handle == handle) return false;
  if (lockRecord(record).start >= end || lockRecord(record).end <= start) return false;
  return type == LOCK_EXCLUSIVE || lockRecord(record).type == LOCK_EXCLUSIVE;
}

/** The first record of another handle that conflicts with the request, or 0. Object lock held. */
function firstConflict(object: usize, handle: i32, type: i32, start: f64, end: f64): usize {
  for (let r = <usize>lockFile(object).records; r != 0; r = <usize>lockRecord(r).next) {
    if (conflicts(r, handle, type, start, end)) return r;
  }
  return 0;
}

/** Puts `record` into the list, sorted by start. Object lock held. */
function insertSorted(object: usize, record: usize): void {
  const start = lockRecord(record).start;
  let link = object + LOCK_FILE_RECORDS;
  for (let r = <usize>load<u32>(link); r != 0 && lockRecord(r).start <= start; r = <usize>load<u32>(link)) link = r + REC_NEXT;
  lockRecord(record).next = load<u32>(link);
  store<u32>(link, <u32>record);
}

/** A fresh record, or 0 when the heap is full. Kernel lock held. */
function newRecord(handle: i32, type: i32, start: f64, end: f64): usize {
  const record = alloc(LOCK_RECORD_BYTES);
  if (record == 0) return 0;
  lockRecord(record).handle = handle;
  lockRecord(record).type = type;
  lockRecord(record).start = start;
  lockRecord(record).end = end;
  return record;
}

/**
 * `fcntl(F_OFD_SETLK)` of `type` over [start, end) (end +Infinity: to the end): 0, -EAGAIN (a
 * conflicting lock of another handle), -ENOLCK (no memory for a record: nothing changed), -EBADF,
 * -EINTR. Waiters are woken when a lock was removed or weakened.
 */
export function flockSet(handle: i32, type: i32, start: f64, end: f64): i32 {
  const object = ownLockFile(handle);
  if (object == 0) return -EBADF;
  // Records are allocated: the kernel lock first, then the object's (kernel.ts's lock order).
  if (!kernelLock()) return -EINTR;
  if (!lockAcquire(object + OBJ_LOCK, currentOwner)) {
    kernelUnlock();
    return -EINTR;
  }
  let result: i32 = 0;
  if (type != LOCK_UNLOCK && firstConflict(object, handle, type, start, end) != 0) result = -EAGAIN;
  else {
    // Allocate first, so that running out of memory changes nothing: the new record, and the right
    // part of an own record that straddles the whole range (at most one can).
    let fresh: usize = 0;
    let right: usize = 0;
    let ok = true;
    if (type != LOCK_UNLOCK) {
      fresh = newRecord(handle, type, start, end);
      ok = fresh != 0;
    }
    for (let r = <usize>lockFile(object).records; ok && r != 0; r = <usize>lockRecord(r).next) {
      if (lockRecord(r).handle == handle && lockRecord(r).start < start && lockRecord(r).end > end) {
        right = newRecord(handle, lockRecord(r).type, end, lockRecord(r).end);
        ok = right != 0;
        break;
      }
    }
    if (!ok) {
      free(fresh, LOCK_RECORD_BYTES);
      result = -ENOLCK;
    } else {
      const removed = carve(object, handle, start, end, right);
      if (fresh != 0) {
        insertSorted(object, fresh);
        mergeOwn(object, handle);
      }
      // A removed or converted range can unblock others; a lock added where this handle held none cannot.
      if (removed) objectChanged(object);
    }
  }
  lockRelease(object + OBJ_LOCK);
  kernelUnlock();
  if (result == 0) objectNotify(object);
  return result;
}

/**
 * Cuts [start, end) out of `handle`'s records: a record inside it goes, one that overlaps an edge
 * shrinks, one that straddles it keeps its left part and gets `right` (prepared by the caller) as
 * its right part. True if any byte was unlocked or changed. Both locks held.
 */
function carve(object: usize, handle: i32, start: f64, end: f64, right: usize): bool {
  let changed = false;
  let link = object + LOCK_FILE_RECORDS;
  for (let r = <usize>load<u32>(link); r != 0; r = <usize>load<u32>(link)) {
    const rs = lockRecord(r).start;
    const re = lockRecord(r).end;
    if (lockRecord(r).handle != handle || rs >= end || re <= start) {
      link = r + REC_NEXT;
      continue;
    }
    changed = true;
    if (rs >= start && re <= end) {
      // Entirely inside: unlink and free.
      store<u32>(link, lockRecord(r).next);
      free(r, LOCK_RECORD_BYTES);
      continue;
    }
    if (rs < start && re > end) {
      lockRecord(r).end = start;
      link = r + REC_NEXT;
      if (right != 0) insertSorted(object, right);
      continue;
    }
    if (rs < start) lockRecord(r).end = start;
    else {
      // Overlaps the range's end: keeps [end, re), so its start moves and its place in the order may too.
      store<u32>(link, lockRecord(r).next);
      lockRecord(r).start = end;
      insertSorted(object, r);
      continue;
    }
    link = r + REC_NEXT;
  }
  return changed;
}

/** Merges `handle`'s records of one type that touch or overlap (the kernel keeps one record per run). Both locks held. */
function mergeOwn(object: usize, handle: i32): void {
  for (let a = <usize>lockFile(object).records; a != 0; a = <usize>lockRecord(a).next) {
    if (lockRecord(a).handle != handle) continue;
    // Later records start at or after a's start (sorted): absorb each of the same handle and type that begins by a's end.
    let link = a + REC_NEXT;
    for (let b = <usize>load<u32>(link); b != 0; b = <usize>load<u32>(link)) {
      if (lockRecord(b).start > lockRecord(a).end) break;
      if (lockRecord(b).handle == handle && lockRecord(b).type == lockRecord(a).type) {
        lockRecord(a).end = max<f64>(lockRecord(a).end, lockRecord(b).end);
        store<u32>(link, lockRecord(b).next);
        free(b, LOCK_RECORD_BYTES);
        continue;
      }
      link = b + REC_NEXT;
    }
  }
}

/**
 * `fcntl(F_OFD_GETLK)`: writes the first lock of another handle that conflicts with a request of
 * `type` over [start, end) to `dst` (LOCK_QUERY_* fields) and returns 1, or returns 0 when there
 * is none; -EBADF, -EINTR.
 */
export function flockGet(handle: i32, type: i32, start: f64, end: f64, dst: usize): i32 {
  const object = ownLockFile(handle);
  if (object == 0) return -EBADF;
  if (!lockAcquire(object + OBJ_LOCK, currentOwner)) return -EINTR;
  const r = firstConflict(object, handle, type, start, end);
  if (r != 0) {
    lockQuery(dst).type = lockRecord(r).type;
    lockQuery(dst).start = lockRecord(r).start;
    lockQuery(dst).end = lockRecord(r).end;
  }
  lockRelease(object + OBJ_LOCK);
  return r != 0 ? 1 : 0;
}

/**
 * The handle at `entry` closes (close, or its worker ended): its records go, as the kernel drops
 * an open file description's locks with its last descriptor. Kernel and object locks held; the
 * caller bumps and notifies the wait cell.
 */
export function lockFileHandleClosed(object: usize, entry: usize): void {
  const handle = <i32>((entry - <usize>kernelHeader().handles) / HANDLE_BYTES) + 1;
  let link = object + LOCK_FILE_RECORDS;
  for (let r = <usize>load<u32>(link); r != 0; r = <usize>load<u32>(link)) {
    if (lockRecord(r).handle == handle) {
      store<u32>(link, lockRecord(r).next);
      free(r, LOCK_RECORD_BYTES);
    } else link = r + REC_NEXT;
  }
}

/** Records of a lock file (tests: nothing is left behind). */
export function flockRecords(handle: i32): i32 {
  const object = ownLockFile(handle);
  if (object == 0) return -EBADF;
  let count = 0;
  for (let r = <usize>lockFile(object).records; r != 0; r = <usize>lockRecord(r).next) count++;
  return count;
}
