// System V semaphore sets (semget, semop/semtimedop, semctl), as ipc/sem.c in Linux does them.
//
//   namespace ──key (4 bytes)──► object (KIND_SEM_SET; FLAG_LINKED unless IPC_PRIVATE)
//                                  ├─ semaphores: heap array of nsems SEM records
//                                  ├─ queue: waiter records in arrival order (doubly linked)
//                                  └─ undo list: one undo record per owner that used SEM_UNDO
//
// Ids: `(serial & 0x7fff) << 16 | (slot - 1)`, like Linux's `seq * SEQ_MULTIPLIER + index`: an id
// names one slot AND one creation, so the id of a removed set never reaches a later set that
// reuses the slot (EINVAL, as for any unknown id).
//
// The set lives in its object entry's kind area (where streams keep their rings). The two words
// that are ring data pointers (+32, +64) stay 0, so objectDestroy frees nothing of ours:
//
//   +32  ┌────────────────────────┐
//        │ u32 0                  │ (ring 0's data pointer)
//   +36  │ u32 sems ptr           │ heap: nsems × SEM_BYTES
//   +40  │ u32 nsems              │ 0 until the set is complete (stored last)
//   +44  │ i32 key                │ 0 for IPC_PRIVATE
//   +48  │ u32 uid                │ owner (IPC_SET can change it)
//   +52  │ u32 gid                │
//   +56  │ u32 cuid               │ creator
//   +60  │ u32 cgid               │
//   +64  │ u32 0                  │ (ring 1's data pointer)
//   +68  │ u32 otime              │ seconds of the last semop, 0 = never
//   +72  │ u32 ctime              │ seconds of creation / last IPC_SET, SETVAL, SETALL
//   +76  │ u32 queue head         │ oldest waiter record
//   +80  │ u32 queue tail         │ newest waiter record
//   +84  │ u32 undo list          │ first undo record
//   ...  │                        │
//   +104 │ u32 mode (OBJ_MODE)    │ permission bits
//        └────────────────────────┘
//
// Semaphore (SEM_BYTES), nsems of them in the heap array:
//
//   +0 ┌──────────────┐
//      │ i32 value    │ 0..SEMVMX
//   +4 │ i32 pid      │ GETPID: pid of the last semop, SETVAL, SETALL or exit adjustment
//   +8 └──────────────┘
//
// Operation (SEM_OP_BYTES), as the TypeScript side writes a `struct sembuf` list to its scratch
// buffer (and as a waiter record keeps it):
//
//   +0 ┌──────────────┐
//      │ i32 index    │
//   +4 │ i32 delta    │ -SEMVMX..SEMVMX; 0 waits for zero
//   +8 │ i32 flags    │ SEM_OP_NOWAIT | SEM_OP_UNDO
//  +12 └──────────────┘
//
// Waiter record (WAITER_BYTES + nops × SEM_OP_BYTES, heap), one per semop that has to wait:
//
//   +0  ┌──────────────────┐
//       │ u32 next         │ queue links
//   +4  │ u32 prev         │
//   +8  │ i32 owner        │ who waits (for reaping and for its undo record)
//   +12 │ i32 pid          │
//   +16 │ i32 status       │ THE WAITER'S WAIT CELL: 0 waiting, 1 done, -errno (EIDRM, ERANGE, ...)
//   +20 │ i32 nops         │
//   +24 │ i32 block index  │ the semaphore whose operation blocks it (GETNCNT / GETZCNT)
//   +28 │ i32 block zero   │ 1: it waits for zero there, 0: for an increase
//   +32 │ i32 slot         │ the set's object slot
//   +36 │ i32 bits         │ W_UNDO: has SEM_UNDO operations; W_ALTERS: has nonzero deltas
//   +40 │ operations ...   │
//       └──────────────────┘
//
// Undo record (UNDO_BYTES + nsems × 4, heap), one per (owner, set), as Linux's sem_undo:
//
//   +0  ┌──────────────────┐
//       │ u32 next         │
//   +4  │ i32 owner        │
//   +8  │ u32 nsems        │
//   +12 │ reserved         │
//   +16 │ i32 adj[nsems]   │ what exit adds back: minus the sum of its SEM_UNDO deltas
//       └──────────────────┘
//
// Waiting is Linux's: a semop that cannot complete queues a waiter record with its operations;
// every change of values (semop, SETVAL, SETALL, an exit's adjustments) runs updateQueue, which
// completes queued calls that can now proceed, oldest first, applying their operations under the
// set's lock for the waiter, then stores its status and notifies its cell. So a call is
// all-or-nothing, a unit goes to exactly one waiter, and cancelling (sem_wait_cancel) either
// finds the call still queued (nothing applied) or reports that it completed.
//
// Locks: the set's object lock guards all of the above; the kernel lock is taken first (lock
// order) only by calls that allocate or free (creating, queueing, undo records, remove, wait end).
import { alloc, free } from './alloc';
import { E2BIG, EACCES, EAGAIN, EEXIST, EFBIG, EIDRM, EINTR, EINVAL, ENOENT, ENOMEM, ENOSPC, EPERM, ERANGE } from './errno';
import { currentOwner, kernelLock, kernelUnlock } from './kernel';
import { lockAcquire, lockRelease } from './lock';
import {
  FLAG_LINKED,
  KIND_SEM_SET,
  ObjectEntry,
  OBJ_KIND,
  OBJ_LOCK,
  nameHash,
  objectAt,
  objectCreate,
  objectDestroy,
  objectLookup,
  objectMax,
  objectChanged,
  objectNotify,
  OBJ_PARKED,
  OBJ_SEQ,
  objectEntry,
  objectInfo,
} from './object';
import { ownerAt, ownerPid, ownerEntry } from './owner';
import { PERM_READ, PERM_WRITE, currentUid, currentGid, permitted } from './permission';

/** The largest semaphore value. */
export const SEMVMX: i32 = 32767;
/** The largest adjustment an undo record keeps. */
export const SEMAEM: i32 = 32767;
/** Operations in one semop call at most. */
export const SEMOPM: i32 = 500;
/** Semaphores in one set at most. */
export const SEMMSL: i32 = 32000;

/** The set record in its object's kind area (the diagram above; its first word is ring 0's data pointer, which stays 0). */
@unmanaged export class SemSetEntry extends ObjectEntry {
  /** Ring 0's data pointer in a stream: stays 0, so objectDestroy frees nothing of the set's. */
  ring0Data: u32;
  sems: u32;
  nsems: u32;
  key: i32;
  uid: u32;
  gid: u32;
  cuid: u32;
  cgid: u32;
  /** Ring 1's data pointer in a stream: stays 0 as well. */
  ring1Data: u32;
  otime: u32;
  ctime: u32;
  queueHead: u32;
  queueTail: u32;
  undo: u32;
}
/** Where the record ends in the entry: within the kind area (test/kernel.test.ts checks). */
export const SET_RECORD_END: u32 = offsetof<SemSetEntry>();
export const SET_NSEMS: u32 = offsetof<SemSetEntry>('nsems');
export const SET_KEY: u32 = offsetof<SemSetEntry>('key');
export const SET_UNDO: u32 = offsetof<SemSetEntry>('undo');
/** The SemSetEntry at `at`. */
@inline export function semSet(at: usize): SemSetEntry {
  return changetype<SemSetEntry>(at);
}

/** One semaphore of a set's heap array. */
@unmanaged export class Semaphore {
  value: i32;
  pid: i32;
}
export const SEM_BYTES: u32 = offsetof<Semaphore>();
/** The Semaphore at `at`. */
@inline export function semRecord(at: usize): Semaphore {
  return changetype<Semaphore>(at);
}

/** One operation (struct sembuf) as TypeScript writes it and a waiter record keeps it. */
@unmanaged export class SemOp {
  index: i32;
  delta: i32;
  flags: i32;
}
export const SEM_OP_BYTES: u32 = offsetof<SemOp>();
/** The SemOp at `at`. */
@inline export function semOpAt(at: usize): SemOp {
  return changetype<SemOp>(at);
}

export const SEM_OP_NOWAIT: i32 = 1;
export const SEM_OP_UNDO: i32 = 2;

/** A waiter record (the diagram above); its operations follow it. */
@unmanaged export class SemWaiter {
  next: u32;
  prev: u32;
  owner: i32;
  pid: i32;
  status: i32;
  nops: i32;
  blockIndex: i32;
  blockZero: i32;
  slot: i32;
  bits: i32;
}
export const WAITER_BYTES: u32 = offsetof<SemWaiter>();
export const W_STATUS: u32 = offsetof<SemWaiter>('status');
/** The SemWaiter at `at`. */
@inline export function semWaiter(at: usize): SemWaiter {
  return changetype<SemWaiter>(at);
}

export const W_UNDO: i32 = 1;
export const W_ALTERS: i32 = 2;
/** Waiter status values besides -errno. */
export const WAITING: i32 = 0;
export const DONE: i32 = 1;
/** What sem_wait_cancel returns when it took the call off the queue (nothing applied). */
export const CANCELLED: i32 = 1;
/** What sem_wait_end returns while the call is still queued (a spurious wakeup). */
export const STILL_WAITING: i32 = 1;

/** An undo record (the diagram above); `adj` is the first of nsems adjustments. */
@unmanaged export class UndoRecord {
  next: u32;
  owner: i32;
  nsems: u32;
  /** Unused: the adjustments start 16 bytes in. */
  reserved: u32;
  adj: i32;
}
export const U_NEXT: u32 = offsetof<UndoRecord>('next');
export const U_ADJ: u32 = offsetof<UndoRecord>('adj');
/** An undo record's size before its adjustments. */
export const UNDO_BYTES: u32 = U_ADJ;
/** The UndoRecord at `at`. */
@inline export function undoRecord(at: usize): UndoRecord {
  return changetype<UndoRecord>(at);
}

/** `sem_ctl_get` selectors. */
export const GET_VALUE: i32 = 0;
export const GET_NCNT: i32 = 1;
export const GET_ZCNT: i32 = 2;
export const GET_PID: i32 = 3;

/** IPC_STAT record written by `sem_stat` (u32 each): key, nsems, mode, uid, gid, cuid, cgid, otime, ctime. */
@unmanaged export class SemStat {
  key: i32;
  nsems: u32;
  mode: u32;
  uid: u32;
  gid: u32;
  cuid: u32;
  cgid: u32;
  otime: u32;
  ctime: u32;
}
export const SEM_STAT_BYTES: u32 = offsetof<SemStat>();
export const SEM_STAT_KEY: u32 = offsetof<SemStat>('key');
export const SEM_STAT_NSEMS: u32 = offsetof<SemStat>('nsems');
export const SEM_STAT_MODE: u32 = offsetof<SemStat>('mode');
export const SEM_STAT_UID: u32 = offsetof<SemStat>('uid');
export const SEM_STAT_GID: u32 = offsetof<SemStat>('gid');
export const SEM_STAT_CUID: u32 = offsetof<SemStat>('cuid');
export const SEM_STAT_CGID: u32 = offsetof<SemStat>('cgid');
export const SEM_STAT_OTIME: u32 = offsetof<SemStat>('otime');
export const SEM_STAT_CTIME: u32 = offsetof<SemStat>('ctime');

/** What sem_list writes for the set it found. */
@unmanaged export class SemListEntry {
  id: i32;
  key: i32;
}
export const SEM_LIST_ID: u32 = offsetof<SemListEntry>('id');
export const SEM_LIST_KEY: u32 = offsetof<SemListEntry>('key');
/** `sem_set_attributes`: this value for mode, uid or gid keeps the current one. */
export const KEEP: u32 = 0xffffffff;

// Internal results (never returned to TypeScript).
const BLOCKED: i32 = 0x10000;
const NEED_KERNEL: i32 = -0x10000;
const BUSY: usize = 1;

// What the last tryApply that blocked was waiting for (per instance, i.e. per thread).
let blockedIndex: i32 = 0;
let blockedZero: i32 = 0;

@inline function slotOf(id: i32): i32 {
  return (id & 0xffff) + 1;
}

@inline function idOf(slot: i32): i32 {
  return <i32>((objectInfo(objectAt(slot)).serial & 0x7fff) << 16) | (slot - 1);
}

@inline function semAt(set: usize, index: i32): usize {
  return <usize>semSet(set).sems + <usize>index * SEM_BYTES;
}

/** The set named by `id`, locked; 0 for no such set, BUSY when its lock stayed taken. */
function lockSet(id: i32): usize {
  if (id < 0) return 0;
  const slot = slotOf(id);
  if (slot > objectMax()) return 0;
  const set = objectAt(slot);
  if (!lockAcquire(set + OBJ_LOCK, currentOwner)) return BUSY;
  if (
    objectEntry(set).kind != KIND_SEM_SET ||
    (objectInfo(set).serial & 0x7fff) != (<u32>id >>> 16) ||
    atomic.load<u32>(set + SET_NSEMS) == 0
  ) {
    lockRelease(set + OBJ_LOCK);
    return 0;
  }
  return set;
}

@inline function lockFailure(set: usize): i32 {
  return set == BUSY ? -EINTR : -EINVAL;
}

function setPermitted(set: usize, want: u32): bool {
  return permitted(
    semSet(set).uid,
    semSet(set).gid,
    semSet(set).cuid,
    semSet(set).cgid,
    objectInfo(set).mode,
    want,
  );
}

/** IPC_SET / IPC_RMID: the owner, the creator or root. */
function isSetOwner(set: usize): bool {
  const me = currentUid();
  return me == 0 || me == semSet(set).uid || me == semSet(set).cuid;
}

function findUndo(set: usize, owner: i32): usize {
  for (let u = <usize>semSet(set).undo; u != 0; u = <usize>undoRecord(u).next) {
    if (undoRecord(u).owner == owner) return u;
  }
  return 0;
}

/** A zeroed undo record for `owner`, linked into the set: 0 when the heap is full. Kernel and set locks held. */
function createUndo(set: usize, owner: i32): usize {
  const nsems = semSet(set).nsems;
  const bytes = UNDO_BYTES + nsems * 4;
  const u = alloc(bytes);
  if (u == 0) return 0;
  memory.fill(u, 0, bytes);
  undoRecord(u).owner = owner;
  undoRecord(u).nsems = nsems;
  undoRecord(u).next = semSet(set).undo;
  semSet(set).undo = <u32>u;
  return u;
}

/**
 * Applies `nops` operations at `ops` all-or-nothing, as Linux's perform_atomic_semop_slow: each
 * operation sees the ones before it (the same semaphore may appear twice). Returns 0 (applied,
 * pids and otime set), BLOCKED (nothing applied; blockedIndex/blockedZero say why), -EAGAIN (the
 * blocking operation had IPC_NOWAIT) or -ERANGE (a value past SEMVMX, or an adjustment past
 * SEMAEM). `undo` is the caller's undo record (needed only if an operation has SEM_UNDO). Set
 * lock held.
 */
function tryApply(set: usize, ops: usize, nops: i32, undo: usize, pid: i32, now: u32): i32 {
  let failure: i32 = 0;
  let applied: i32 = 0;
  for (; applied < nops; applied++) {
    const op = ops + <usize>applied * SEM_OP_BYTES;
    const index = semOpAt(op).index;
    const delta = semOpAt(op).delta;
    const flags = semOpAt(op).flags;
    const sem = semAt(set, index);
    const value = semRecord(sem).value;
    const result = value + delta;
    if ((delta == 0 && value != 0) || result < 0) {
      blockedIndex = index;
      blockedZero = delta == 0 ? 1 : 0;
      failure = (flags & SEM_OP_NOWAIT) != 0 ? -EAGAIN : BLOCKED;
      break;
    }
    if (result > SEMVMX) {
      failure = -ERANGE;
      break;
    }
    if ((flags & SEM_OP_UNDO) != 0 && undo != 0) {
      const adj = undo + U_ADJ + (<usize>index << 2);
      const next = load<i32>(adj) - delta;
      if (next < -SEMAEM - 1 || next > SEMAEM) {
        failure = -ERANGE;
        break;
      }
      store<i32>(adj, next);
    }
    semRecord(sem).value = result;
  }
  if (failure != 0) {
    // Undo what this call applied so far, newest first.
    for (let i = applied - 1; i >= 0; i--) {
      const op = ops + <usize>i * SEM_OP_BYTES;
      const index = semOpAt(op).index;
      const delta = semOpAt(op).delta;
      const sem = semAt(set, index);
      semRecord(sem).value = semRecord(sem).value - delta;
      if ((semOpAt(op).flags & SEM_OP_UNDO) != 0 && undo != 0) {
        const adj = undo + U_ADJ + (<usize>index << 2);
        store<i32>(adj, load<i32>(adj) + delta);
      }
    }
    return failure;
  }
  for (let i = 0; i < nops; i++) {
    semRecord(semAt(set, semOpAt(ops + <usize>i * SEM_OP_BYTES).index)).pid = pid;
  }
  semSet(set).otime = now;
  return 0;
}

function unlinkWaiter(set: usize, w: usize): void {
  const next = semWaiter(w).next;
  const prev = semWaiter(w).prev;
  if (prev == 0) semSet(set).queueHead = next;
  else semWaiter(<usize>prev).next = next;
  if (next == 0) semSet(set).queueTail = prev;
  else semWaiter(<usize>next).prev = prev;
  semWaiter(w).next = 0;
  semWaiter(w).prev = 0;
}

/** Ends a queued call with `status` (DONE or -errno) and wakes its thread. Set lock held. */
function completeWaiter(set: usize, w: usize, status: i32): void {
  unlinkWaiter(set, w);
  // The store publishes the values the call applied; after it the record is its thread's to free.
  atomic.store<i32>(w + W_STATUS, status);
  atomic.notify(w + W_STATUS, 1);
}

/**
 * Completes every queued call that can proceed now, oldest first; after one that changed values,
 * starts again from the oldest (Linux's update_queue with its restart rule). Set lock held.
 */
function updateQueue(set: usize, now: u32): void {
  // Values changed: a caller spinning on the set's wait cell before it queues tries again, and
  // one sleeping on it (a Web Worker's hand-off, counted in OBJ_PARKED first) is woken.
  objectChanged(set);
  if (atomic.load<i32>(set + OBJ_PARKED) != 0) objectNotify(set);
  let w = <usize>semSet(set).queueHead;
  while (w != 0) {
    const next = <usize>semWaiter(w).next;
    const bits = semWaiter(w).bits;
    const undo = (bits & W_UNDO) != 0 ? findUndo(set, semWaiter(w).owner) : 0;
    const result = tryApply(set, w + WAITER_BYTES, semWaiter(w).nops, undo, semWaiter(w).pid, now);
    if (result == BLOCKED) {
      semWaiter(w).blockIndex = blockedIndex;
      semWaiter(w).blockZero = blockedZero;
      w = next;
      continue;
    }
    completeWaiter(set, w, result == 0 ? DONE : result);
    w = result == 0 && (bits & W_ALTERS) != 0 ? <usize>semSet(set).queueHead : next;
  }
}

/** Clears the adjustment of semaphore `index` (or of all when -1) in every undo record: SETVAL / SETALL. */
function clearAdjustments(set: usize, index: i32): void {
  const nsems = semSet(set).nsems;
  for (let u = <usize>semSet(set).undo; u != 0; u = <usize>undoRecord(u).next) {
    if (index < 0) memory.fill(u + U_ADJ, 0, nsems * 4);
    else store<i32>(u + U_ADJ + (<usize>index << 2), 0);
  }
}

/**
 * `semget(key, nsems, flags)`: the set's id, or -ENOENT / -EEXIST / -EINVAL (size) / -EACCES /
 * -ENOSPC (object table full) / -ENOMEM / -EINTR. `key` 0 is IPC_PRIVATE (always a new set);
 * `mode` is the permission bits of a new set and, for an existing one, the access asked for.
 */
export function semGet(key: i32, nsems: i32, create: i32, exclusive: i32, mode: u32, now: u32): i32 {
  if (!kernelLock()) return -EINTR;
  // The key, as 4 bytes in this thread's scratch buffer, is the set's name in the namespace.
  const name = <usize>ownerEntry(ownerAt(currentOwner)).scratch;
  let found = 0;
  if (key != 0) {
    store<i32>(name, key);
    found = objectLookup(KIND_SEM_SET, name, 4);
  }
  let result: i32 = 0;
  if (found != 0) {
    const set = objectAt(found);
    if (create != 0 && exclusive != 0) result = -EEXIST;
    else if (!lockAcquire(set + OBJ_LOCK, currentOwner)) result = -EINTR;
    else {
      // Linux's order: sem_more_checks (size) before ipcperms (the access asked for by mode).
      const want = ((mode >> 6) | (mode >> 3) | mode) & 7;
      if (<u32>nsems > semSet(set).nsems) result = -EINVAL;
      else if (!setPermitted(set, want)) result = -EACCES;
      else result = idOf(found);
      lockRelease(set + OBJ_LOCK);
    }
  } else if (key != 0 && create == 0) result = -ENOENT;
  else if (nsems < 1 || nsems > SEMMSL) result = -EINVAL;
  else result = createSet(key, nsems, mode & 0o777, now, name);
  kernelUnlock();
  return result;
}

/** A new set (kernel lock held): its id, or -ENOSPC / -ENOMEM. */
function createSet(key: i32, nsems: i32, mode: u32, now: u32, name: usize): i32 {
  const slot = objectCreate(KIND_SEM_SET, 1);
  if (slot == 0) return -ENOSPC;
  const set = objectAt(slot);
  const semsBytes = <u32>nsems * SEM_BYTES;
  const sems = alloc(semsBytes);
  const linkName = key != 0 ? alloc(4) : 0;
  if (sems == 0 || (key != 0 && linkName == 0)) {
    free(sems, semsBytes);
    free(linkName, 4);
    objectDestroy(slot);
    return -ENOMEM;
  }
  memory.fill(sems, 0, semsBytes);
  if (key != 0) {
    memory.copy(linkName, name, 4);
    objectEntry(set).namePtr = <u32>linkName;
    objectEntry(set).nameLen = 4;
    objectEntry(set).nameHash = nameHash(name, 4);
    objectEntry(set).flags = FLAG_LINKED;
  }
  semSet(set).sems = <u32>sems;
  semSet(set).key = key;
  semSet(set).uid = currentUid();
  semSet(set).gid = currentGid();
  semSet(set).cuid = currentUid();
  semSet(set).cgid = currentGid();
  objectInfo(set).mode = mode;
  semSet(set).ctime = now;
  // Published last: lockSet refuses a set whose nsems is still 0.
  atomic.store<u32>(set + SET_NSEMS, <u32>nsems);
  return idOf(slot);
}

/**
 * `semop` / `semtimedop`: applies `nops` operations (SEM_OP_BYTES each at `ops`) all-or-nothing.
 * 0 when applied; a waiter token (> 1, the record's address: wait on its status cell, then call
 * sem_wait_end, or sem_wait_cancel) when it must wait and `wait` is set; else -EAGAIN, -E2BIG
 * (more than SEMOPM), -EFBIG (index past the set), -ERANGE, -EACCES, -EINVAL (no such set),
 * -ENOMEM, -EINTR.
 */
export function semOp(id: i32, ops: usize, nops: i32, wait: i32, now: u32): i32 {
  if (nops > SEMOPM) return -E2BIG;
  if (nops < 1) return -EINVAL;
  let maxIndex: i32 = 0;
  let bits: i32 = 0;
  for (let i = 0; i < nops; i++) {
    const op = ops + <usize>i * SEM_OP_BYTES;
    const index = semOpAt(op).index;
    if (index < 0) return -EFBIG;
    if (index > maxIndex) maxIndex = index;
    if (semOpAt(op).delta != 0) bits |= W_ALTERS;
    if ((semOpAt(op).flags & SEM_OP_UNDO) != 0) bits |= W_UNDO;
  }
  // Most calls need only the set's lock; queueing and a first SEM_UNDO allocate, which needs the kernel's.
  let result = semOpLocked(id, ops, nops, wait != 0, now, maxIndex, bits, false);
  if (result == NEED_KERNEL) {
    if (!kernelLock()) return -EINTR;
    result = semOpLocked(id, ops, nops, wait != 0, now, maxIndex, bits, true);
    kernelUnlock();
  }
  return result;
}

function semOpLocked(id: i32, ops: usize, nops: i32, wait: bool, now: u32, maxIndex: i32, bits: i32, haveKernel: bool): i32 {
  const set = lockSet(id);
  if (set <= BUSY) return lockFailure(set);
  let result: i32 = 0;
  let undo: usize = 0;
  if (!setPermitted(set, (bits & W_ALTERS) != 0 ? PERM_WRITE : PERM_READ)) result = -EACCES;
  else if (<u32>maxIndex >= semSet(set).nsems) result = -EFBIG;
  else if ((bits & W_UNDO) != 0) {
    undo = findUndo(set, currentOwner);
    if (undo == 0) {
      if (!haveKernel) result = NEED_KERNEL;
      else if ((undo = createUndo(set, currentOwner)) == 0) result = -ENOMEM;
    }
  }
  if (result == 0) {
    const pid = ownerPid(currentOwner);
    result = tryApply(set, ops, nops, undo, pid, now);
    if (result == 0) {
      if ((bits & W_ALTERS) != 0) updateQueue(set, now);
    } else if (result == BLOCKED) {
      if (!wait) result = -EAGAIN;
      else if (!haveKernel) result = NEED_KERNEL;
      else result = enqueue(set, slotOf(id), ops, nops, pid, bits);
    }
  }
  lockRelease(set + OBJ_LOCK);
  return result;
}

/** Queues the call (kernel and set locks held): the record's address, or -ENOMEM. */
function enqueue(set: usize, slot: i32, ops: usize, nops: i32, pid: i32, bits: i32): i32 {
  const bytes = WAITER_BYTES + <u32>nops * SEM_OP_BYTES;
  const w = alloc(bytes);
  if (w == 0) return -ENOMEM;
  semWaiter(w).next = 0;
  semWaiter(w).prev = semSet(set).queueTail;
  semWaiter(w).owner = currentOwner;
  semWaiter(w).pid = pid;
  semWaiter(w).status = WAITING;
  semWaiter(w).nops = nops;
  semWaiter(w).blockIndex = blockedIndex;
  semWaiter(w).blockZero = blockedZero;
  semWaiter(w).slot = slot;
  semWaiter(w).bits = bits;
  memory.copy(w + WAITER_BYTES, ops, <usize>nops * SEM_OP_BYTES);
  const tail = semSet(set).queueTail;
  if (tail == 0) semSet(set).queueHead = <u32>w;
  else semWaiter(<usize>tail).next = <u32>w;
  semSet(set).queueTail = <u32>w;
  return <i32>w;
}

@inline function waiterBytes(w: usize): u32 {
  return WAITER_BYTES + <u32>semWaiter(w).nops * SEM_OP_BYTES;
}

/** The waiter record `token` if it is one of the current owner's, else 0. */
function ownWaiter(token: i32): usize {
  if (token <= 1) return 0;
  const w = <usize>token;
  return semWaiter(w).owner == currentOwner && currentOwner != 0 ? w : 0;
}

/**
 * After the waiter's status cell changed: frees the record and returns the call's result (0, or
 * -EIDRM / -ERANGE / -EAGAIN / ...), STILL_WAITING if it is still queued, -EINVAL, -EINTR.
 */
export function semWaitEnd(token: i32): i32 {
  const w = ownWaiter(token);
  if (w == 0) return -EINVAL;
  const status = atomic.load<i32>(w + W_STATUS);
  if (status == WAITING) return STILL_WAITING;
  // Once the status is set the record is off every queue: only its owner touches it.
  if (!kernelLock()) return -EINTR;
  free(w, waiterBytes(w));
  kernelUnlock();
  return status == DONE ? 0 : status;
}

/**
 * Cancels a queued call (abort, timeout, close) and frees its record: CANCELLED if it was still
 * queued (nothing applied), else its result as sem_wait_end gives it (it completed first).
 */
export function semWaitCancel(token: i32): i32 {
  const w = ownWaiter(token);
  if (w == 0) return -EINVAL;
  if (!kernelLock()) return -EINTR;
  let result: i32 = 0;
  if (atomic.load<i32>(w + W_STATUS) == WAITING) {
    // Still queued, so its set exists (remove ends every queued call under the kernel lock).
    const set = objectAt(semWaiter(w).slot);
    if (!lockAcquire(set + OBJ_LOCK, currentOwner)) {
      kernelUnlock();
      return -EINTR;
    }
    const status = semWaiter(w).status;
    if (status == WAITING) {
      unlinkWaiter(set, w);
      result = CANCELLED;
    } else result = status == DONE ? 0 : status;
    lockRelease(set + OBJ_LOCK);
  } else {
    const status = atomic.load<i32>(w + W_STATUS);
    result = status == DONE ? 0 : status;
  }
  free(w, waiterBytes(w));
  kernelUnlock();
  return result;
}

/** `semctl(GETVAL | GETNCNT | GETZCNT | GETPID)`: the number, or -EACCES / -EINVAL / -EINTR. */
export function semCtlGet(id: i32, index: i32, which: i32): i32 {
  const set = lockSet(id);
  if (set <= BUSY) return lockFailure(set);
  let result: i32 = 0;
  if (!setPermitted(set, PERM_READ)) result = -EACCES;
  else if (index < 0 || <u32>index >= semSet(set).nsems) result = -EINVAL;
  else if (which == GET_VALUE) result = semRecord(semAt(set, index)).value;
  else if (which == GET_PID) result = semRecord(semAt(set, index)).pid;
  else {
    // Like Linux's count_semcnt: a queued call counts once, for the operation that blocks it.
    const zero = which == GET_ZCNT ? 1 : 0;
    for (let w = <usize>semSet(set).queueHead; w != 0; w = <usize>semWaiter(w).next) {
      if (semWaiter(w).blockIndex == index && semWaiter(w).blockZero == zero) result++;
    }
  }
  lockRelease(set + OBJ_LOCK);
  return result;
}

/** `semctl(SETVAL)`: 0, or -EACCES / -EINVAL / -ERANGE / -EINTR. Clears every undo adjustment of that semaphore. */
export function semSetValue(id: i32, index: i32, value: i32, now: u32): i32 {
  const set = lockSet(id);
  if (set <= BUSY) return lockFailure(set);
  let result: i32 = 0;
  if (!setPermitted(set, PERM_WRITE)) result = -EACCES;
  else if (index < 0 || <u32>index >= semSet(set).nsems) result = -EINVAL;
  else if (value < 0 || value > SEMVMX) result = -ERANGE;
  else {
    clearAdjustments(set, index);
    const sem = semAt(set, index);
    semRecord(sem).value = value;
    semRecord(sem).pid = ownerPid(currentOwner);
    semSet(set).ctime = now;
    updateQueue(set, now);
  }
  lockRelease(set + OBJ_LOCK);
  return result;
}

/** `semctl(GETALL)`: writes nsems u16 values at `dst`; their count, or -EACCES / -EINVAL / -EINTR. */
export function semGetAll(id: i32, dst: usize): i32 {
  const set = lockSet(id);
  if (set <= BUSY) return lockFailure(set);
  let result: i32 = 0;
  if (!setPermitted(set, PERM_READ)) result = -EACCES;
  else {
    result = <i32>semSet(set).nsems;
    for (let i = 0; i < result; i++) store<u16>(dst + (<usize>i << 1), <u16>semRecord(semAt(set, i)).value);
  }
  lockRelease(set + OBJ_LOCK);
  return result;
}

/** `semctl(SETALL)` from `count` u16 values at `src`: 0, or -EACCES / -EINVAL / -ERANGE / -EINTR. Clears every undo adjustment. */
export function semSetAll(id: i32, src: usize, count: i32, now: u32): i32 {
  const set = lockSet(id);
  if (set <= BUSY) return lockFailure(set);
  let result: i32 = 0;
  const nsems = <i32>semSet(set).nsems;
  if (!setPermitted(set, PERM_WRITE)) result = -EACCES;
  else if (count != nsems) result = -EINVAL;
  else {
    for (let i = 0; i < nsems; i++) if (<i32>load<u16>(src + (<usize>i << 1)) > SEMVMX) result = -ERANGE;
    if (result == 0) {
      clearAdjustments(set, -1);
      const pid = ownerPid(currentOwner);
      for (let i = 0; i < nsems; i++) {
        const sem = semAt(set, i);
        semRecord(sem).value = <i32>load<u16>(src + (<usize>i << 1));
        semRecord(sem).pid = pid;
      }
      semSet(set).ctime = now;
      updateQueue(set, now);
    }
  }
  lockRelease(set + OBJ_LOCK);
  return result;
}

/** `semctl(IPC_STAT)`: writes SEM_STAT_BYTES at `dst`; 0, or -EACCES / -EINVAL / -EINTR. */
export function semStat(id: i32, dst: usize): i32 {
  const set = lockSet(id);
  if (set <= BUSY) return lockFailure(set);
  let result: i32 = 0;
  if (!setPermitted(set, PERM_READ)) result = -EACCES;
  else {
    const stat = changetype<SemStat>(dst);
    const record = semSet(set);
    stat.key = record.key;
    stat.nsems = record.nsems;
    stat.mode = objectInfo(set).mode;
    stat.uid = record.uid;
    stat.gid = record.gid;
    stat.cuid = record.cuid;
    stat.cgid = record.cgid;
    stat.otime = record.otime;
    stat.ctime = record.ctime;
  }
  lockRelease(set + OBJ_LOCK);
  return result;
}

/** `semctl(IPC_SET)` (KEEP leaves a field): 0, or -EPERM (not owner, creator or root) / -EINVAL / -EINTR. */
export function semSetAttributes(id: i32, mode: u32, uid: u32, gid: u32, now: u32): i32 {
  const set = lockSet(id);
  if (set <= BUSY) return lockFailure(set);
  let result: i32 = 0;
  if (!isSetOwner(set)) result = -EPERM;
  else {
    if (mode != KEEP) objectInfo(set).mode = mode & 0o777;
    if (uid != KEEP) semSet(set).uid = uid;
    if (gid != KEEP) semSet(set).gid = gid;
    semSet(set).ctime = now;
  }
  lockRelease(set + OBJ_LOCK);
  return result;
}

/** `semctl(IPC_RMID)`: ends every queued call with EIDRM and frees the set. 0, or -EPERM / -EINVAL / -EINTR. */
export function semRemove(id: i32): i32 {
  if (!kernelLock()) return -EINTR;
  const set = lockSet(id);
  if (set <= BUSY) {
    kernelUnlock();
    return lockFailure(set);
  }
  if (!isSetOwner(set)) {
    lockRelease(set + OBJ_LOCK);
    kernelUnlock();
    return -EPERM;
  }
  let w = <usize>semSet(set).queueHead;
  while (w != 0) {
    const next = <usize>semWaiter(w).next;
    completeWaiter(set, w, -EIDRM);
    w = next;
  }
  const nsems = semSet(set).nsems;
  let u = <usize>semSet(set).undo;
  while (u != 0) {
    const next = <usize>undoRecord(u).next;
    free(u, UNDO_BYTES + nsems * 4);
    u = next;
  }
  free(<usize>semSet(set).sems, nsems * SEM_BYTES);
  atomic.store<u32>(set + SET_NSEMS, 0);
  semSet(set).sems = 0;
  semSet(set).undo = 0;
  semSet(set).queueHead = 0;
  semSet(set).queueTail = 0;
  objectChanged(set);
  objectNotify(set);
  objectDestroy(slotOf(id));
  lockRelease(set + OBJ_LOCK);
  kernelUnlock();
  return 0;
}

/**
 * The address of set `id`'s wait cell (its object's seq), bumped on every change of its values
 * and when it is removed, or 0 for an id that names no slot. No lock: a caller that spins on it
 * before it queues (src/semaphore.ts) retries its call with IPC_NOWAIT at each change.
 */
export function semWaitCell(id: i32): u32 {
  if (id < 0) return 0;
  const slot = slotOf(id);
  if (slot < 1 || slot > objectMax()) return 0;
  return <u32>(objectAt(slot) + OBJ_SEQ);
}

/**
 * The address of semaphore `index`'s value (an i32) in set `id`, or 0 for no such set or index.
 * No lock, and no permission check: a hint for a spin (src/semaphore.ts), which retries its call
 * only once the value could let it through, instead of at every change of the set's values (its
 * peer's own decrement included, which made it take the set's lock in vain on every round trip).
 * The call itself still decides, under the lock. The address stays the set's until it is removed.
 */
export function semValueAddress(id: i32, index: i32): u32 {
  if (id < 0) return 0;
  const slot = slotOf(id);
  if (slot < 1 || slot > objectMax()) return 0;
  const set = objectAt(slot);
  if (atomic.load<i32>(set + OBJ_KIND) != KIND_SEM_SET) return 0;
  if (index < 0 || <u32>index >= atomic.load<u32>(set + SET_NSEMS)) return 0;
  return <u32>semAt(set, index);
}

/**
 * The address of set `id`'s semaphore count (a u32; 0 once the set is removed, stored before
 * the removal bumps the wait cell), or 0 for an id that names no slot. No lock: it tells a spin
 * that skips tries by the value hint ({@link semValueAddress}) that the set went away.
 */
export function semSizeAddress(id: i32): u32 {
  if (id < 0) return 0;
  const slot = slotOf(id);
  if (slot < 1 || slot > objectMax()) return 0;
  return <u32>(objectAt(slot) + SET_NSEMS);
}

/**
 * For owner_release (kernel lock held): a dead owner's queued calls leave every queue, and its
 * undo records are applied (each value plus its adjustment, clamped to 0..SEMVMX, the pid set to
 * the owner's: Linux's exit_sem) and freed; calls that can then proceed complete. False if a
 * set's lock stayed taken (call again: what is done stays done).
 */
export function semReleaseOwner(owner: i32): bool {
  const slots = objectMax();
  for (let slot = 1; slot <= slots; slot++) {
    const set = objectAt(slot);
    if (atomic.load<i32>(set + OBJ_KIND) != KIND_SEM_SET) continue;
    if (!lockAcquire(set + OBJ_LOCK, currentOwner)) return false;
    const nsems = semSet(set).nsems;
    if (objectEntry(set).kind == KIND_SEM_SET && nsems != 0) {
      let w = <usize>semSet(set).queueHead;
      while (w != 0) {
        const next = <usize>semWaiter(w).next;
        if (semWaiter(w).owner == owner) {
          unlinkWaiter(set, w);
          free(w, waiterBytes(w));
        }
        w = next;
      }
      let changed = false;
      let link = set + SET_UNDO;
      let u = <usize>load<u32>(link);
      while (u != 0 && undoRecord(u).owner != owner) {
        link = u + U_NEXT;
        u = <usize>load<u32>(link);
      }
      if (u != 0) {
        const pid = ownerPid(owner);
        for (let i: u32 = 0; i < nsems; i++) {
          const adj = load<i32>(u + U_ADJ + (<usize>i << 2));
          if (adj == 0) continue;
          const sem = semAt(set, <i32>i);
          semRecord(sem).value = min<i32>(max<i32>(semRecord(sem).value + adj, 0), SEMVMX);
          semRecord(sem).pid = pid;
          changed = true;
        }
        store<u32>(link, undoRecord(u).next);
        free(u, UNDO_BYTES + nsems * 4);
      }
      // No clock here: calls completed by the adjustments get the set's latest known time.
      if (changed) updateQueue(set, max<u32>(semSet(set).otime, semSet(set).ctime));
    }
    lockRelease(set + OBJ_LOCK);
  }
  return true;
}

/**
 * For listing (diagnostics): the slot of the next live set after slot `after`, writing its id and
 * key (i32 each) at `dst`; 0 when there is none.
 */
export function semList(after: i32, dst: usize): i32 {
  const slots = objectMax();
  for (let slot = after + 1; slot <= slots; slot++) {
    const set = objectAt(slot);
    if (atomic.load<i32>(set + OBJ_KIND) != KIND_SEM_SET || atomic.load<u32>(set + SET_NSEMS) == 0) continue;
    const found = changetype<SemListEntry>(dst);
    found.id = idOf(slot);
    found.key = atomic.load<i32>(set + SET_KEY);
    return slot;
  }
  return 0;
}
