// Shared memory: System V segments (KIND_SHM), POSIX shared-memory objects (KIND_POSIX_SHM) and
// emulated files for file mappings (KIND_SHM_FILE). The kernel keeps the bookkeeping (keys, names,
// sizes, permissions, attachments, stat times, removal) and the futex wait queue of every segment;
// the segment's BYTES are not here: each segment is one SharedArrayBuffer of exactly its size,
// held by the thread that made the kernel and posted to every thread that maps it (src/shared-memory.ts
// says why: a slice of this memory cannot be an ArrayBuffer of its own, and `buffer.byteLength`
// must be the segment's size).
//
//   namespace (kind + name, FLAG_SEG_NAMED)      object entry (object.ts)
//   ┌──────────────────────────────────┐         ┌────────────────────────────┐
//   │ KIND_SHM: the key's 4 bytes      │ ──────► │ refs = mappings (handles)  │
//   │ KIND_POSIX_SHM: '/name'          │         │   + 1 while it persists    │
//   │ KIND_SHM_FILE: the path          │         │ +112 u32 segment record ───┼──► segment record
//   └──────────────────────────────────┘         └────────────────────────────┘
//
// A mapping is a handle (END_SEG_RW or END_SEG_RO), so a worker that exits loses its mappings
// when its owner is reaped, and a child inherits its parent's by handle_dup. A handle counts as an
// attachment (shm_nattch, with END_SEG_ATTACHED) once its thread maps it: at once for shmat/mmap,
// when the child revives it for an inherited one (handle_dup clears the bit), so that nattch and
// the last pid change together, as when a process attaches. A segment persists (the + 1 reference) until IPC_RMID / shm_unlink / file unlink,
// and is destroyed with its last reference.
//
// Segment record (SEG_BYTES, in the heap):
//
//   +0   ┌────────────────────────┐
//        │ u32 size               │ bytes (POSIX objects and files grow with ftruncate)
//   +4   │ u32 key                │ System V key (0 for IPC_PRIVATE and once removed)
//   +8   │ u32 mode               │ permission bits
//   +12  │ u32 uid, +16 u32 gid   │ owner
//   +20  │ u32 cuid, +24 u32 cgid │ creator
//   +28  │ i32 cpid               │ creator's pid (the thread's pid as the backend reports it)
//   +32  │ i32 lpid               │ pid of the last attach/detach
//   +36  │ i32 flags              │ SEG_PERSISTS (holds the + 1 reference), SEG_REMOVED (SHM_DEST)
//   +40  │ u32 waiters head       │ futex wait queue: waiter records, FIFO
//   +44  │ u32 waiters tail       │
//   +48  │ f64 atime              │ ms since the epoch (0 = never), given by the caller: wasm has
//   +56  │ f64 dtime              │ no clock
//   +64  │ f64 ctime              │
//   +72  │ i32 nattch             │ mappings attached (END_SEG_ATTACHED handles)
//   +76  │ reserved               │
//   +80  └────────────────────────┘
//
// Waiter record (WAITER_BYTES, in the heap): one per pending `wait`, queued under the object lock
// after the caller compared the cell (see shmWaitPrepare), woken by shmNotify.
//
//   +0  ┌────────────────────────┐
//       │ u32 next               │
//   +4  │ u32 handle entry       │ the mapping it waits through (reaped with it)
//   +8  │ u32 cell index         │
//   +12 │ i32 state              │ WAITER_WAITING, WAITER_WOKEN, WAITER_CANCELLED: the cell the
//   +16 └────────────────────────┘ waiting thread sleeps on (Atomics.waitAsync)
import { alloc, free } from './alloc';
import { EACCES, EBADF, EEXIST, EIDRM, EINTR, EINVAL, ENAMETOOLONG, ENFILE, ENOENT, ENOMEM, ENOSPC, EPERM } from './errno';
import { handleCreate, handleRelease, ownHandle, handleEntry } from './handle';
import { currentOwner, kernelLock, kernelUnlock, setSecondResult } from './kernel';
import { lockAcquire, lockRelease } from './lock';
import {
  KIND_POSIX_SHM,
  KIND_SHM,
  KIND_SHM_FILE,
  NAME_MAX_BYTES,
  OBJ_KIND,
  OBJ_LOCK,
  nameHash,
  objectAt,
  objectCreate,
  objectDestroy,
  objectMax,
  objectEntry,
  objectInfo,
} from './object';
import { PERM_READ, PERM_WRITE, currentGid, currentUid, permitted } from './permission';

/** Object flag of a segment reachable by key, name or path (segments keep out of the FIFO namespace's FLAG_LINKED). */
export const FLAG_SEG_NAMED: i32 = 2;

/** A segment record in the heap (the diagram above); the compiler owns the offsets. */
@unmanaged export class SegmentRecord {
  size: u32;
  key: u32;
  mode: u32;
  uid: u32;
  gid: u32;
  cuid: u32;
  cgid: u32;
  cpid: i32;
  lpid: i32;
  flags: i32;
  waitHead: u32;
  waitTail: u32;
  atime: f64;
  dtime: f64;
  ctime: f64;
  nattch: i32;
  /** Unused: keeps the record a multiple of 16 bytes. */
  reserved: u32;
}
export const SEG_BYTES: u32 = offsetof<SegmentRecord>();
/** Read with atomics by shm_size (a POSIX object may grow while mapped). */
const SEG_SIZE: u32 = offsetof<SegmentRecord>('size');
/** The SegmentRecord at `at`. */
@inline export function segmentRecord(at: usize): SegmentRecord {
  return changetype<SegmentRecord>(at);
}

export const SEG_PERSISTS: i32 = 1;
export const SEG_REMOVED: i32 = 2;

/** A futex waiter record (the diagram above); `state` is the cell TypeScript sleeps on. */
@unmanaged export class ShmWaiter {
  next: u32;
  handle: u32;
  index: u32;
  state: i32;
}
export const WAITER_BYTES: u32 = offsetof<ShmWaiter>();
export const WAITER_STATE: u32 = offsetof<ShmWaiter>('state');
/** The ShmWaiter at `at`. */
@inline export function shmWaiter(at: usize): ShmWaiter {
  return changetype<ShmWaiter>(at);
}

export const WAITER_WAITING: i32 = 0;
export const WAITER_WOKEN: i32 = 1;
export const WAITER_CANCELLED: i32 = 2;

/** Handle ends of mappings (no ring: countEnd leaves them alone). */
export const END_SEG_RW: i32 = 16;
export const END_SEG_RO: i32 = 32;
/** Flag on a mapping's end: counted in nattch. */
export const END_SEG_ATTACHED: i32 = 64;

/** Largest segment (the emulation's shmmax: a SharedArrayBuffer per segment, kept well inside JS limits). */
export const SHM_MAX_BYTES: u32 = 1 << 30;

/** `shmget` flags (ipc.h). */
export const IPC_CREAT: u32 = 0o1000;
export const IPC_EXCL: u32 = 0o2000;

/** The record shm_stat writes (TypeScript reads it at the STAT_* offsets). */
@unmanaged export class ShmStat {
  key: u32;
  size: u32;
  nattch: i32;
  cpid: i32;
  lpid: i32;
  mode: u32;
  removed: i32;
  uid: u32;
  gid: u32;
  cuid: u32;
  cgid: u32;
  atime: f64;
  dtime: f64;
  ctime: f64;
}
export const STAT_BYTES: u32 = offsetof<ShmStat>();
export const STAT_KEY: u32 = offsetof<ShmStat>('key');
export const STAT_SIZE: u32 = offsetof<ShmStat>('size');
export const STAT_NATTCH: u32 = offsetof<ShmStat>('nattch');
export const STAT_CPID: u32 = offsetof<ShmStat>('cpid');
export const STAT_LPID: u32 = offsetof<ShmStat>('lpid');
export const STAT_MODE: u32 = offsetof<ShmStat>('mode');
export const STAT_REMOVED: u32 = offsetof<ShmStat>('removed');
export const STAT_UID: u32 = offsetof<ShmStat>('uid');
export const STAT_GID: u32 = offsetof<ShmStat>('gid');
export const STAT_CUID: u32 = offsetof<ShmStat>('cuid');
export const STAT_CGID: u32 = offsetof<ShmStat>('cgid');
export const STAT_ATIME: u32 = offsetof<ShmStat>('atime');
export const STAT_DTIME: u32 = offsetof<ShmStat>('dtime');
export const STAT_CTIME: u32 = offsetof<ShmStat>('ctime');
/** The ShmStat at `at`. */
@inline export function shmStatAt(at: usize): ShmStat {
  return changetype<ShmStat>(at);
}

/** Open flags of shmOpen. */
export const OPEN_CREATE: u32 = 1;
export const OPEN_EXCLUSIVE: u32 = 2;
export const OPEN_READ_ONLY: u32 = 4;

@inline export function isSegmentKind(kind: i32): bool {
  return kind == KIND_SHM || kind == KIND_POSIX_SHM || kind == KIND_SHM_FILE;
}

@inline function segmentOf(object: usize): usize {
  return <usize>objectInfo(object).record;
}

/** Mappings of the segment attached now (shm_nattch). */
@inline function attachments(object: usize): i32 {
  return segmentRecord(segmentOf(object)).nattch;
}

/** The end a copy of a mapping gets (handle_dup, for a child): not attached until the child maps it. */
export function segmentDupEnd(end: i32): i32 {
  return end & ~END_SEG_ATTACHED;
}

/**
 * System V ids: the object's index in the low 16 bits and 15 bits of its creation serial above
 * them, so an id whose segment is gone does not name the next object made in the same slot (the
 * kernel's own ids carry a sequence number for the same reason).
 */
@inline function sysvId(id: i32): i32 {
  return ((<i32>objectInfo(objectAt(id)).serial & 0x7fff) << 16) | (id - 1);
}

/** The object of System V id `shmid`, or 0. Kernel lock held. */
function sysvObject(shmid: i32): i32 {
  if (shmid < 0) return 0;
  const id = (shmid & 0xffff) + 1;
  if (id > objectMax()) return 0;
  const object = objectAt(id);
  if (objectEntry(object).kind != KIND_SHM) return 0;
  if ((<i32>objectInfo(object).serial & 0x7fff) != shmid >>> 16) return 0;
  return id;
}

/** The segment of `kind` named by `len` bytes at `at`, or 0. Kernel lock held. */
function segmentLookup(kind: i32, at: usize, len: u32): i32 {
  const h = nameHash(at, len);
  const max = objectMax();
  for (let id = 1; id <= max; id++) {
    const entry = objectAt(id);
    if (objectEntry(entry).kind != kind || (objectEntry(entry).flags & FLAG_SEG_NAMED) == 0) continue;
    if (objectEntry(entry).nameHash != h || objectEntry(entry).nameLen != len) continue;
    if (memory.compare(<usize>objectEntry(entry).namePtr, at, len) == 0) return id;
  }
  return 0;
}

/** A new persisting segment of `kind` with `size` bytes, named by `len` bytes at `at` (len 0: unnamed): its id or -errno. Kernel lock held. */
function segmentCreate(kind: i32, at: usize, len: u32, size: u32, mode: u32, now: f64, pid: i32): i32 {
  const id = objectCreate(kind, 1);
  if (id == 0) return -ENOSPC;
  const object = objectAt(id);
  const record = alloc(SEG_BYTES);
  const name: usize = len == 0 ? 1 : alloc(len);
  if (record == 0 || name == 0) {
    free(record, SEG_BYTES);
    if (len != 0) free(name, len);
    objectDestroy(id);
    return -ENOMEM;
  }
  memory.fill(record, 0, SEG_BYTES);
  segmentRecord(record).size = size;
  segmentRecord(record).mode = mode & 0o777;
  segmentRecord(record).uid = currentUid();
  segmentRecord(record).gid = currentGid();
  segmentRecord(record).cuid = currentUid();
  segmentRecord(record).cgid = currentGid();
  segmentRecord(record).cpid = pid;
  segmentRecord(record).flags = SEG_PERSISTS;
  segmentRecord(record).ctime = now;
  objectInfo(object).record = <u32>record;
  if (len != 0) {
    memory.copy(name, at, len);
    objectEntry(object).namePtr = <u32>name;
    objectEntry(object).nameLen = len;
    objectEntry(object).nameHash = nameHash(at, len);
    objectEntry(object).flags = FLAG_SEG_NAMED;
  }
  return id;
}

/** May the current owner access the segment for `want`? Object or kernel lock held. */
function segmentPermitted(record: usize, want: u32): bool {
  return permitted(
    segmentRecord(record).uid,
    segmentRecord(record).gid,
    segmentRecord(record).cuid,
    segmentRecord(record).cgid,
    segmentRecord(record).mode,
    want,
  );
}

/** Drops the name and the persisting reference (IPC_RMID, shm_unlink): destroyed now if nothing maps it. Kernel and object locks held; the object lock is released here. */
function segmentUnlinkLocked(id: i32): void {
  const object = objectAt(id);
  const record = segmentOf(object);
  if ((objectEntry(object).flags & FLAG_SEG_NAMED) != 0) {
    free(<usize>objectEntry(object).namePtr, objectEntry(object).nameLen);
    objectEntry(object).namePtr = 0;
    objectEntry(object).nameLen = 0;
    objectEntry(object).flags = 0;
  }
  segmentRecord(record).key = 0;
  segmentRecord(record).flags = SEG_REMOVED;
  const refs = objectEntry(object).refs - 1;
  objectEntry(object).refs = refs;
  if (refs == 0) {
    free(record, SEG_BYTES);
    objectInfo(object).record = 0;
    objectDestroy(id);
  }
  lockRelease(object + OBJ_LOCK);
}

/** A new mapping handle of the current owner on segment `id` (permission checked if `check`): the handle or -errno. Kernel lock held. */
function mapLocked(id: i32, readOnly: bool, check: bool, now: f64, pid: i32): i32 {
  const object = objectAt(id);
  if (!lockAcquire(object + OBJ_LOCK, currentOwner)) return -EINTR;
  const record = segmentOf(object);
  let result: i32 = 0;
  if (check && !segmentPermitted(record, readOnly ? PERM_READ : PERM_READ | PERM_WRITE)) result = -EACCES;
  else {
    result = handleCreate(currentOwner, id, (readOnly ? END_SEG_RO : END_SEG_RW) | END_SEG_ATTACHED);
    if (result == 0) result = -ENFILE;
    else {
      objectEntry(object).refs = objectEntry(object).refs + 1;
      segmentRecord(record).nattch = segmentRecord(record).nattch + 1;
      segmentRecord(record).lpid = pid;
      segmentRecord(record).atime = now;
    }
  }
  lockRelease(object + OBJ_LOCK);
  return result;
}

/**
 * `shmget(key, size, flags)`: the System V id, or -ENOENT / -EEXIST / -EACCES / -EINVAL (size 0,
 * above SHM_MAX_BYTES, or larger than the existing segment) / -ENOSPC / -ENOMEM / -EINTR.
 * `key` 0 is IPC_PRIVATE; the key is stored as the name's 4 bytes at `scratch`.
 */
export function shmGet(key: i32, size: u32, flags: u32, scratch: usize, now: f64, pid: i32): i32 {
  if (!kernelLock()) return -EINTR;
  store<i32>(scratch, key);
  let result: i32 = 0;
  const found = key == 0 ? 0 : segmentLookup(KIND_SHM, scratch, 4);
  if (found == 0) {
    if (key != 0 && (flags & IPC_CREAT) == 0) result = -ENOENT;
    else if (size == 0 || size > SHM_MAX_BYTES) result = -EINVAL;
    else {
      result = segmentCreate(KIND_SHM, scratch, key == 0 ? 0 : 4, size, flags, now, pid);
      if (result > 0) {
        segmentRecord(segmentOf(objectAt(result))).key = <u32>key;
        result = sysvId(result);
      }
    }
  } else if ((flags & IPC_CREAT) != 0 && (flags & IPC_EXCL) != 0) {
    result = -EEXIST;
  } else {
    const record = segmentOf(objectAt(found));
    // ipcperms(): the bits asked for in the flags, in every class.
    const asked = ((flags >> 6) | (flags >> 3) | flags) & 7;
    if (!segmentPermitted(record, asked)) result = -EACCES;
    else if (size > segmentRecord(record).size) result = -EINVAL;
    else result = sysvId(found);
  }
  kernelUnlock();
  return result;
}

/** `shmat(shmid, SHM_RDONLY?)`: a mapping handle (the size in `second_result`), or -EINVAL / -EACCES / -ENFILE / -EINTR. */
export function shmAttach(shmid: i32, readOnly: bool, now: f64, pid: i32): i32 {
  if (!kernelLock()) return -EINTR;
  const id = sysvObject(shmid);
  let result: i32 = -EINVAL;
  if (id != 0) {
    result = mapLocked(id, readOnly, true, now, pid);
    if (result > 0) setSecondResult(<i32>segmentRecord(segmentOf(objectAt(id))).size);
  }
  kernelUnlock();
  return result;
}

/** `shmctl(IPC_STAT)` into STAT_BYTES at `dst`: 0, or -EINVAL / -EACCES / -EINTR. */
export function shmStat(shmid: i32, dst: usize): i32 {
  if (!kernelLock()) return -EINTR;
  const id = sysvObject(shmid);
  let result: i32 = -EINVAL;
  if (id != 0) {
    const object = objectAt(id);
    const record = segmentOf(object);
    if (!segmentPermitted(record, PERM_READ)) result = -EACCES;
    else {
      shmStatAt(dst).key = segmentRecord(record).key;
      shmStatAt(dst).size = segmentRecord(record).size;
      shmStatAt(dst).nattch = attachments(object);
      shmStatAt(dst).cpid = segmentRecord(record).cpid;
      shmStatAt(dst).lpid = segmentRecord(record).lpid;
      shmStatAt(dst).mode = segmentRecord(record).mode;
      shmStatAt(dst).removed = (segmentRecord(record).flags & SEG_REMOVED) != 0 ? 1 : 0;
      shmStatAt(dst).uid = segmentRecord(record).uid;
      shmStatAt(dst).gid = segmentRecord(record).gid;
      shmStatAt(dst).cuid = segmentRecord(record).cuid;
      shmStatAt(dst).cgid = segmentRecord(record).cgid;
      shmStatAt(dst).atime = segmentRecord(record).atime;
      shmStatAt(dst).dtime = segmentRecord(record).dtime;
      shmStatAt(dst).ctime = segmentRecord(record).ctime;
      result = 0;
    }
  }
  kernelUnlock();
  return result;
}

/**
 * `shmctl(IPC_RMID)`: the key is free at once; the segment goes with its last mapping (until then
 * it can still be attached by id, as Linux allows). 0, or -EINVAL / -EPERM (neither owner, creator
 * nor uid 0) / -EINTR. A second remove of a segment still mapped does nothing.
 */
export function shmRemove(shmid: i32, now: f64): i32 {
  if (!kernelLock()) return -EINTR;
  const id = sysvObject(shmid);
  let result: i32 = -EINVAL;
  if (id != 0) {
    const object = objectAt(id);
    if (!lockAcquire(object + OBJ_LOCK, currentOwner)) result = -EINTR;
    else {
      const record = segmentOf(object);
      const me = currentUid();
      if (me != 0 && me != segmentRecord(record).uid && me != segmentRecord(record).cuid) {
        result = -EPERM;
        lockRelease(object + OBJ_LOCK);
      } else if ((segmentRecord(record).flags & SEG_PERSISTS) == 0) {
        result = 0;
        lockRelease(object + OBJ_LOCK);
      } else {
        segmentRecord(record).ctime = now;
        segmentUnlinkLocked(id);
        result = 0;
      }
    }
  }
  kernelUnlock();
  return result;
}

/**
 * `shm_open` + `ftruncate` + `mmap` of the POSIX object (KIND_POSIX_SHM) or emulated file
 * (KIND_SHM_FILE) named by `len` bytes at `at`: a mapping handle, with the mapped size in
 * `second_result`. `size` < 0: the object's size. -ENOENT / -EEXIST / -EACCES / -EINVAL (a size of
 * 0, or larger than the object unless created or opened read-write with OPEN_CREATE, which grows
 * it) / -ENOMEM (above SHM_MAX_BYTES) / -ENOSPC / -ENFILE / -ENAMETOOLONG / -EINTR.
 */
export function shmOpen(kind: i32, at: usize, len: u32, flags: u32, mode: u32, size: i32, now: f64, pid: i32): i32 {
  if (kind != KIND_POSIX_SHM && kind != KIND_SHM_FILE) return -EINVAL;
  if (len == 0) return -ENOENT;
  if (len > NAME_MAX_BYTES) return -ENAMETOOLONG;
  const create = (flags & OPEN_CREATE) != 0;
  const readOnly = (flags & OPEN_READ_ONLY) != 0;
  if (size == 0) return -EINVAL;
  if (size > 0 && <u32>size > SHM_MAX_BYTES) return -ENOMEM;
  if (!kernelLock()) return -EINTR;
  let result: i32 = 0;
  let created = false;
  let id = segmentLookup(kind, at, len);
  if (id != 0 && create && (flags & OPEN_EXCLUSIVE) != 0) result = -EEXIST;
  else if (id == 0 && !create) result = -ENOENT;
  else if (id == 0) {
    // A new object is made at the size asked for (ftruncate before mmap): never empty, so a
    // failed mapping leaves nothing behind.
    if (size < 0) result = -EINVAL;
    else {
      id = segmentCreate(kind, at, len, <u32>size, mode, now, pid);
      if (id < 0) result = id;
      else created = true;
    }
  }
  if (result == 0) {
    const object = objectAt(id);
    const record = segmentOf(object);
    const current = segmentRecord(record).size;
    const wanted: u32 = size < 0 ? current : <u32>size;
    // The creator maps what it just made whatever the mode (open(2) with O_CREAT does not check it).
    if (!created && !segmentPermitted(record, readOnly ? PERM_READ : PERM_READ | PERM_WRITE)) result = -EACCES;
    else if (wanted == 0) result = -EINVAL;
    else if (wanted > current && (readOnly || !create)) result = -EINVAL;
    else {
      if (wanted > current) {
        segmentRecord(record).size = wanted;
        segmentRecord(record).ctime = now;
      }
      result = mapLocked(id, readOnly, !created, now, pid);
      if (result > 0) setSecondResult(<i32>wanted);
    }
  }
  kernelUnlock();
  return result;
}

/** `shm_unlink` / `unlink` of the object or emulated file: 0, or -ENOENT / -EACCES (not its owner) / -EINTR. Mappings stay valid. */
export function shmUnlink(kind: i32, at: usize, len: u32): i32 {
  if (kind != KIND_POSIX_SHM && kind != KIND_SHM_FILE) return -EINVAL;
  if (len == 0) return -ENOENT;
  if (len > NAME_MAX_BYTES) return -ENAMETOOLONG;
  if (!kernelLock()) return -EINTR;
  const id = segmentLookup(kind, at, len);
  let result: i32 = -ENOENT;
  if (id != 0) {
    const object = objectAt(id);
    if (!lockAcquire(object + OBJ_LOCK, currentOwner)) result = -EINTR;
    else {
      const record = segmentOf(object);
      const me = currentUid();
      // /dev/shm is sticky: only the object's owner (or root) removes its name.
      if (me != 0 && me != segmentRecord(record).uid) {
        result = -EACCES;
        lockRelease(object + OBJ_LOCK);
      } else {
        segmentUnlinkLocked(id);
        result = 0;
      }
    }
  }
  kernelUnlock();
  return result;
}

/** The mapping's segment record, or 0 (not a mapping of the current owner). */
function mappingRecord(handle: i32): usize {
  const entry = ownHandle(handle);
  if (entry == 0) return 0;
  const end = handleEntry(entry).end & ~END_SEG_ATTACHED;
  if (end != END_SEG_RW && end != END_SEG_RO) return 0;
  return segmentOf(objectAt(handleEntry(entry).object));
}

/** The segment's current size in bytes (a POSIX object may have grown since it was mapped), or -EBADF. */
export function shmSize(handle: i32): i32 {
  const record = mappingRecord(handle);
  return record == 0 ? -EBADF : <i32>atomic.load<u32>(record + SEG_SIZE);
}

/** The System V id of a mapping's segment, or -EBADF / -EINVAL (not System V). */
export function shmIdOf(handle: i32): i32 {
  const entry = ownHandle(handle);
  if (entry == 0 || mappingRecord(handle) == 0) return -EBADF;
  const id = handleEntry(entry).object;
  return objectEntry(objectAt(id)).kind == KIND_SHM ? sysvId(id) : -EINVAL;
}

/** Attaches an inherited mapping (a worker revived it) for `pid`: 0 or -EBADF / -EINTR. */
export function shmInherited(handle: i32, now: f64, pid: i32): i32 {
  const entry = ownHandle(handle);
  if (entry == 0 || mappingRecord(handle) == 0) return -EBADF;
  const object = objectAt(handleEntry(entry).object);
  if (!lockAcquire(object + OBJ_LOCK, currentOwner)) return -EINTR;
  const end = handleEntry(entry).end;
  if ((end & END_SEG_ATTACHED) == 0) {
    handleEntry(entry).end = end | END_SEG_ATTACHED;
    segmentRecord(segmentOf(object)).nattch = segmentRecord(segmentOf(object)).nattch + 1;
  }
  segmentRecord(segmentOf(object)).lpid = pid;
  segmentRecord(segmentOf(object)).atime = now;
  lockRelease(object + OBJ_LOCK);
  return 0;
}

/** `shmdt` / `munmap`: records the detach, then closes the handle (the segment may go with it). 0 or -EBADF / -EINTR. */
export function shmDetach(handle: i32, now: f64, pid: i32): i32 {
  const entry = ownHandle(handle);
  if (entry == 0 || mappingRecord(handle) == 0) return -EBADF;
  if (!kernelLock()) return -EINTR;
  const object = objectAt(handleEntry(entry).object);
  const record = segmentOf(object);
  segmentRecord(record).lpid = pid;
  segmentRecord(record).dtime = now;
  const ok = handleRelease(entry);
  kernelUnlock();
  return ok ? 0 : -EINTR;
}

/**
 * Called by handleRelease (kernel and object locks held) for a mapping about to close, whoever
 * owns it: its queued waiters leave the queue (a reaped worker's waits must not absorb wakes),
 * and the segment record goes with the last reference.
 */
export function segmentRelease(object: usize, entry: usize): void {
  const record = segmentOf(object);
  if (record == 0) return;
  if ((handleEntry(entry).end & END_SEG_ATTACHED) != 0) segmentRecord(record).nattch = segmentRecord(record).nattch - 1;
  let previous: usize = 0;
  let waiter = <usize>segmentRecord(record).waitHead;
  while (waiter != 0) {
    const next = <usize>shmWaiter(waiter).next;
    if (<usize>shmWaiter(waiter).handle == entry) {
      unlinkWaiter(record, previous, waiter, next);
      free(waiter, WAITER_BYTES);
    } else previous = waiter;
    waiter = next;
  }
  if (objectEntry(object).refs == 1) {
    free(record, SEG_BYTES);
    objectInfo(object).record = 0;
  }
}

function unlinkWaiter(record: usize, previous: usize, waiter: usize, next: usize): void {
  if (previous == 0) segmentRecord(record).waitHead = <u32>next;
  else shmWaiter(previous).next = <u32>next;
  if (<usize>segmentRecord(record).waitTail == waiter) segmentRecord(record).waitTail = <u32>previous;
}

/**
 * First step of a futex wait on cell `index`: a fresh waiter record, returned WITH THE SEGMENT'S
 * OBJECT LOCK HELD. The caller then compares the cell (it lives in a SharedArrayBuffer that this
 * module cannot see) and calls shmWaitCommit or shmWaitAbandon at once. Holding the lock across the
 * comparison is what makes the wait atomic: a notifier needs the same lock, so it runs either
 * before the comparison (which then sees the new value) or after the waiter is queued.
 * -EBADF / -ENOMEM / -EINTR.
 */
export function shmWaitPrepare(handle: i32, index: u32): i32 {
  const entry = ownHandle(handle);
  if (entry == 0 || mappingRecord(handle) == 0) return -EBADF;
  const object = objectAt(handleEntry(entry).object);
  // Kernel lock (allocator) before the object lock, never the other way round.
  if (!kernelLock()) return -EINTR;
  const waiter = alloc(WAITER_BYTES);
  if (waiter == 0) {
    kernelUnlock();
    return -ENOMEM;
  }
  if (!lockAcquire(object + OBJ_LOCK, currentOwner)) {
    free(waiter, WAITER_BYTES);
    kernelUnlock();
    return -EINTR;
  }
  kernelUnlock();
  shmWaiter(waiter).next = 0;
  shmWaiter(waiter).handle = <u32>entry;
  shmWaiter(waiter).index = index;
  atomic.store<i32>(waiter + WAITER_STATE, WAITER_WAITING);
  return <i32>waiter;
}

/** Second step when the cell held the value: queues the waiter (FIFO) and releases the object lock. */
export function shmWaitCommit(handle: i32, waiter: usize): i32 {
  const entry = ownHandle(handle);
  if (entry == 0) return -EBADF;
  const object = objectAt(handleEntry(entry).object);
  const record = segmentOf(object);
  const tail = <usize>segmentRecord(record).waitTail;
  if (tail == 0) segmentRecord(record).waitHead = <u32>waiter;
  else shmWaiter(tail).next = <u32>waiter;
  segmentRecord(record).waitTail = <u32>waiter;
  lockRelease(object + OBJ_LOCK);
  return 0;
}

/** Second step when the cell did not hold the value: releases the object lock; the caller then frees the waiter with shmWaitFree. */
export function shmWaitAbandon(handle: i32): i32 {
  const entry = ownHandle(handle);
  if (entry == 0) return -EBADF;
  lockRelease(objectAt(handleEntry(entry).object) + OBJ_LOCK);
  return 0;
}

/**
 * Takes a queued waiter out (timeout, abort, close): its state before, WAITER_WAITING (it left
 * the queue unwoken) or WAITER_WOKEN (a notify got there first and counted it); -EINTR / -EBADF.
 * Either way it is WAITER_CANCELLED afterwards, and the caller frees it with shmWaitFree.
 */
export function shmWaitCancel(handle: i32, waiter: usize): i32 {
  const entry = ownHandle(handle);
  if (entry == 0) return -EBADF;
  const object = objectAt(handleEntry(entry).object);
  if (!lockAcquire(object + OBJ_LOCK, currentOwner)) return -EINTR;
  const state = atomic.load<i32>(waiter + WAITER_STATE);
  if (state == WAITER_WAITING) {
    const record = segmentOf(object);
    let previous: usize = 0;
    for (let at = <usize>segmentRecord(record).waitHead; at != 0; at = <usize>shmWaiter(at).next) {
      if (at == waiter) {
        unlinkWaiter(record, previous, waiter, <usize>shmWaiter(waiter).next);
        break;
      }
      previous = at;
    }
  }
  atomic.store<i32>(waiter + WAITER_STATE, WAITER_CANCELLED);
  lockRelease(object + OBJ_LOCK);
  return state;
}

/** Frees a waiter that was woken or cancelled. Takes the object lock too, so a notifier still inside its section is done with the record. 0 / -EBADF / -EINTR. */
export function shmWaitFree(handle: i32, waiter: usize): i32 {
  const entry = ownHandle(handle);
  if (entry == 0) return -EBADF;
  const object = objectAt(handleEntry(entry).object);
  if (!kernelLock()) return -EINTR;
  if (!lockAcquire(object + OBJ_LOCK, currentOwner)) {
    kernelUnlock();
    return -EINTR;
  }
  free(waiter, WAITER_BYTES);
  lockRelease(object + OBJ_LOCK);
  kernelUnlock();
  return 0;
}

/** `FUTEX_WAKE`: wakes up to `count` waiters of cell `index`, oldest first; how many it woke, or -EBADF / -EINTR. */
export function shmNotify(handle: i32, index: u32, count: u32): i32 {
  const entry = ownHandle(handle);
  if (entry == 0 || mappingRecord(handle) == 0) return -EBADF;
  const object = objectAt(handleEntry(entry).object);
  if (!lockAcquire(object + OBJ_LOCK, currentOwner)) return -EINTR;
  const record = segmentOf(object);
  let woken: u32 = 0;
  let previous: usize = 0;
  let waiter = <usize>segmentRecord(record).waitHead;
  while (waiter != 0 && woken < count) {
    const next = <usize>shmWaiter(waiter).next;
    if (shmWaiter(waiter).index == index) {
      unlinkWaiter(record, previous, waiter, next);
      // Published before the notify; the waiter frees the record only after taking this lock.
      atomic.store<i32>(waiter + WAITER_STATE, WAITER_WOKEN);
      atomic.notify(waiter + WAITER_STATE, 1);
      woken++;
    } else previous = waiter;
    waiter = next;
  }
  lockRelease(object + OBJ_LOCK);
  return <i32>woken;
}

/** The next live System V segment or POSIX object after object `after` (emulated files are not IPC objects), or 0: for leak reports. */
export function shmNext(after: i32): i32 {
  const max = objectMax();
  for (let id = after + 1; id <= max; id++) {
    const kind = atomic.load<i32>(objectAt(id) + OBJ_KIND);
    if (kind == KIND_SHM || kind == KIND_POSIX_SHM) return id;
  }
  return 0;
}

/**
 * Describes object `id` for a leak report under the kernel lock: for a System V segment its id,
 * with its key in `second_result`, and -1 as length; for a POSIX object its name copied to `dst`
 * (at most `max` bytes) and the length (0 if it was unlinked); -ENOENT if it is not a segment.
 */
export function shmDescribe(id: i32, dst: usize, max: u32): i32 {
  if (id < 1 || id > objectMax()) return -ENOENT;
  if (!kernelLock()) return -EINTR;
  const object = objectAt(id);
  const kind = objectEntry(object).kind;
  let result: i32 = -ENOENT;
  if (kind == KIND_SHM && segmentOf(object) != 0) {
    setSecondResult(<i32>segmentRecord(segmentOf(object)).key);
    result = sysvId(id);
  } else if (kind == KIND_POSIX_SHM) {
    const named = (objectEntry(object).flags & FLAG_SEG_NAMED) != 0;
    const len = named ? min<u32>(objectEntry(object).nameLen, max) : 0;
    memory.copy(dst, <usize>objectEntry(object).namePtr, len);
    setSecondResult(-1);
    result = <i32>len;
  }
  kernelUnlock();
  return result;
}

/** The serial of the segment a mapping handle is on (it names the segment's memory), or -EBADF. */
export function shmSerial(handle: i32): i32 {
  const entry = ownHandle(handle);
  if (entry == 0 || mappingRecord(handle) == 0) return -EBADF;
  return <i32>objectInfo(objectAt(handleEntry(entry).object)).serial;
}

/** The current size of the segment of object `id` if its serial is `serial` (its memory is still wanted), else -EIDRM. */
export function shmLiveSize(id: i32, serial: u32): i32 {
  if (id < 1 || id > objectMax()) return -EIDRM;
  if (!kernelLock()) return -EINTR;
  const object = objectAt(id);
  let result: i32 = -EIDRM;
  if (isSegmentKind(objectEntry(object).kind) && objectInfo(object).serial == serial && segmentOf(object) != 0) {
    result = <i32>segmentRecord(segmentOf(object)).size;
  }
  kernelUnlock();
  return result;
}
