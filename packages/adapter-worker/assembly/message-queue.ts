// System V message queues (msgget, msgsnd, msgrcv, msgctl): typed messages in a linked list in
// the heap, limits and accounting as Linux has them (msgmax, msgmnb, msgmni; msg_cbytes and
// msg_qnum against msg_qbytes), permissions checked against the current owner's identity.
//
// A queue is an object entry of KIND_MSG whose ring area holds the queue record below. It has no
// handles: processes name it by its id (msqid). A keyed queue is linked in the namespace under its
// key's four bytes (little-endian) as the name; an IPC_PRIVATE queue is never linked. The queue
// lives until IPC_RMID, whatever happens to the threads that used it.
//
// msqid, as the kernel builds ipc ids (sequence << shift | slot), so a stale id never reaches a
// queue made later in the same slot:
//
//   31 30             16 15                0
//   ┌──┬────────────────┬──────────────────┐
//   │ 0│ serial & 0x7fff│ object id - 1    │
//   └──┴────────────────┴──────────────────┘
//
// Queue record, inside the object entry (object.ts; OBJ_MODE and OBJ_SERIAL as for every object):
//
//   +32 ┌──────────────────────┐
//       │ i32 key              │ IPC_PRIVATE (0) or the key
//   +36 │ u32 uid              │ owner (msg_perm.uid), changed by IPC_SET
//   +40 │ u32 gid              │
//   +44 │ u32 cuid             │ creator
//   +48 │ u32 cgid             │
//   +52 │ u32 qbytes           │ msg_qbytes: most payload bytes (and messages) held at once
//   +56 │ u32 qnum             │ msg_qnum: messages held
//   +60 │ u32 cbytes           │ msg_cbytes: payload bytes held
//   +64 │ u32 lspid            │ pid of the last msgsnd (the owner's emulated pid)
//   +68 │ u32 lrpid            │ pid of the last msgrcv
//   +72 │ u32 stime            │ seconds of the last msgsnd (the caller passes the time: wasm has no clock)
//   +76 │ u32 rtime            │ seconds of the last msgrcv
//   +80 │ u32 ctime            │ seconds of creation or the last IPC_SET
//   +84 │ u32 head             │ first message block (0 = empty)
//   +88 │ u32 tail             │ last message block
//   +92 │ reserved             │
//   +96 └──────────────────────┘   (+104: mode = msg_perm.mode, the permission bits)
//
// Message block (heap, MSG_HEADER_BYTES + length, freed with the same size):
//
//   +0  ┌──────────────────────┐
//       │ u32 next             │ next message in queue order (0 = last)
//   +4  │ u32 length           │ payload bytes
//   +8  │ i64 type             │ mtype >= 1
//   +16 │ payload ...          │
//       └──────────────────────┘
//
// Locking: every operation allocates or frees heap blocks or scans the table, so queues are guarded
// by the kernel lock alone (no object lock). Every state change bumps the object's wait cell under
// it and notifies after unlocking; TypeScript waits on that cell (msg_wait_cell) and calls again.
// Removing a queue frees its slot: a waiter calling again gets EINVAL, which it reports as EIDRM
// (it saw the queue alive before it slept, as a kernel waiter would have).
import { alloc, free } from './alloc';
import { E2BIG, EACCES, EAGAIN, EEXIST, EINTR, EINVAL, ENOENT, ENOMEM, ENOMSG, ENOSPC, EPERM } from './errno';
import { currentOwner, kernelLock, kernelUnlock } from './kernel';
import {
  FLAG_LINKED,
  KIND_MSG,
  OBJ_PARKED,
  OBJ_SEQ,
  nameHash,
  objectAt,
  objectChanged,
  objectCreate,
  objectDestroy,
  objectLookup,
  objectMax,
  objectNotify,
  objectEntry,
  objectInfo,
  ObjectEntry,
  OBJ_RING0,
  KIND_AREA_BYTES,
} from './object';
import { ownerAt, currentPid, ownerEntry } from './owner';
import { PERM_READ, PERM_WRITE, currentGid, currentUid, permitted } from './permission';

/** The queue record in its object's kind area (the diagram above); the compiler owns the offsets. */
@unmanaged export class MsgQueueEntry extends ObjectEntry {
  key: i32;
  uid: u32;
  gid: u32;
  cuid: u32;
  cgid: u32;
  qbytes: u32;
  qnum: u32;
  cbytes: u32;
  lspid: u32;
  lrpid: u32;
  stime: u32;
  rtime: u32;
  ctime: u32;
  head: u32;
  tail: u32;
}
/** Where the record ends in the entry: within the kind area (test/kernel.test.ts checks). */
export const MSQ_RECORD_END: u32 = offsetof<MsgQueueEntry>();
/** The MsgQueueEntry at `at`. */
@inline export function msgQueue(at: usize): MsgQueueEntry {
  return changetype<MsgQueueEntry>(at);
}

/** A message block in the heap (the diagram above), its payload after it. */
@unmanaged export class MsgBlock {
  next: u32;
  length: u32;
  type: i64;
}
export const MSG_HEADER_BYTES: u32 = offsetof<MsgBlock>();
/** The MsgBlock at `at`. */
@inline export function msgBlock(at: usize): MsgBlock {
  return changetype<MsgBlock>(at);
}

/** What msg_receive writes at its destination: the message's type, then its payload bytes. */
@unmanaged export class ReceivedMessage {
  type: f64;
  /** The first payload byte. */
  payload: u8;
}
export const MSG_RECEIVED_TYPE: u32 = offsetof<ReceivedMessage>('type');
export const MSG_RECEIVED_PAYLOAD: u32 = offsetof<ReceivedMessage>('payload');

/** Largest message (Linux msgmax default). */
export const MSGMAX: u32 = 8192;
/** A new queue's msg_qbytes, and the most an unprivileged IPC_SET may ask (Linux msgmnb default). */
export const MSGMNB: u32 = 16384;
/** Most queues in the system (Linux msgmni default); the object table may run out first (ENOSPC either way). */
export const MSGMNI: i32 = 32000;

/** msgrcv flags as msg_receive takes them. */
export const MSG_RECEIVE_EXCEPT: i32 = 1;
export const MSG_RECEIVE_NOERROR: i32 = 2;

/** "Leave unchanged" for msg_set's fields ((uid_t) -1). */
export const MSG_KEEP: u32 = 0xffffffff;

/** The stat record msg_stat writes, one 32-bit word per field (TypeScript reads it at the generated MSG_STAT_* offsets). */
@unmanaged export class MsgStat {
  key: i32;
  uid: u32;
  gid: u32;
  cuid: u32;
  cgid: u32;
  mode: u32;
  qbytes: u32;
  qnum: u32;
  cbytes: u32;
  lspid: u32;
  lrpid: u32;
  stime: u32;
  rtime: u32;
  ctime: u32;
}
export const MSG_STAT_BYTES: u32 = offsetof<MsgStat>();
export const MSG_STAT_KEY: u32 = offsetof<MsgStat>('key');
export const MSG_STAT_UID: u32 = offsetof<MsgStat>('uid');
export const MSG_STAT_GID: u32 = offsetof<MsgStat>('gid');
export const MSG_STAT_CUID: u32 = offsetof<MsgStat>('cuid');
export const MSG_STAT_CGID: u32 = offsetof<MsgStat>('cgid');
export const MSG_STAT_MODE: u32 = offsetof<MsgStat>('mode');
export const MSG_STAT_QBYTES: u32 = offsetof<MsgStat>('qbytes');
export const MSG_STAT_QNUM: u32 = offsetof<MsgStat>('qnum');
export const MSG_STAT_CBYTES: u32 = offsetof<MsgStat>('cbytes');
export const MSG_STAT_LSPID: u32 = offsetof<MsgStat>('lspid');
export const MSG_STAT_LRPID: u32 = offsetof<MsgStat>('lrpid');
export const MSG_STAT_STIME: u32 = offsetof<MsgStat>('stime');
export const MSG_STAT_RTIME: u32 = offsetof<MsgStat>('rtime');
export const MSG_STAT_CTIME: u32 = offsetof<MsgStat>('ctime');
/** The MsgStat at `at`. */
@inline export function msgStatAt(at: usize): MsgStat {
  return changetype<MsgStat>(at);
}

@inline function msqidOf(id: i32): i32 {
  return <i32>((objectInfo(objectAt(id)).serial & 0x7fff) << 16) | (id - 1);
}

/** The entry of the live queue `msqid`, or 0 (the kernel's EINVAL). Kernel lock held. */
function queueAt(msqid: i32): usize {
  if (msqid < 0) return 0;
  const id = (msqid & 0xffff) + 1;
  if (id > objectMax()) return 0;
  const entry = objectAt(id);
  if (objectEntry(entry).kind != KIND_MSG) return 0;
  if ((objectInfo(entry).serial & 0x7fff) != <u32>(msqid >>> 16)) return 0;
  return entry;
}

/** ipcperms(): may the current owner do `want` (PERM_READ / PERM_WRITE bits) on the queue at `entry`? */
function allowed(entry: usize, want: u32): bool {
  return permitted(
    msgQueue(entry).uid,
    msgQueue(entry).gid,
    msgQueue(entry).cuid,
    msgQueue(entry).cgid,
    objectInfo(entry).mode,
    want,
  );
}

/** Owner, creator or root: who may IPC_SET and IPC_RMID. */
function mayControl(entry: usize): bool {
  const me = currentUid();
  return me == 0 || me == msgQueue(entry).uid || me == msgQueue(entry).cuid;
}

/** The key's four bytes in the current owner's scratch buffer (the namespace compares names in memory). */
function keyName(key: i32): usize {
  const at = <usize>ownerEntry(ownerAt(currentOwner)).scratch;
  store<i32>(at, key);
  return at;
}

/** Live queues in the table (for msgmni). Kernel lock held. */
function queueCount(): i32 {
  const max = objectMax();
  let count = 0;
  for (let id = 1; id <= max; id++) if (objectEntry(objectAt(id)).kind == KIND_MSG) count++;
  return count;
}

/** newque(): a new queue of `key` with permission bits `mode`: its msqid, or -ENOSPC / -ENOMEM. Kernel lock held. */
function queueCreate(key: i32, mode: u32, now: u32): i32 {
  if (queueCount() >= MSGMNI) return -ENOSPC;
  const id = objectCreate(KIND_MSG, 1);
  if (id == 0) return -ENOSPC;
  const entry = objectAt(id);
  if (key != 0) {
    const name = alloc(4);
    if (name == 0) {
      objectDestroy(id);
      return -ENOMEM;
    }
    store<i32>(name, key);
    objectEntry(entry).namePtr = <u32>name;
    objectEntry(entry).nameLen = 4;
    objectEntry(entry).nameHash = nameHash(name, 4);
    objectEntry(entry).flags = FLAG_LINKED;
  }
  msgQueue(entry).key = key;
  const uid = currentUid();
  const gid = currentGid();
  msgQueue(entry).uid = uid;
  msgQueue(entry).gid = gid;
  msgQueue(entry).cuid = uid;
  msgQueue(entry).cgid = gid;
  objectInfo(entry).mode = mode & 0o777;
  msgQueue(entry).qbytes = MSGMNB;
  msgQueue(entry).ctime = now;
  return msqidOf(id);
}

/**
 * `msgget(key, [IPC_CREAT [| IPC_EXCL]] | mode)`: the msqid, or -ENOENT / -EEXIST / -EACCES (the
 * mode bits asked for are not granted, as ipcperms() checks them) / -ENOSPC / -ENOMEM / -EINTR.
 */
export function msgGet(key: i32, create: bool, exclusive: bool, mode: u32, now: u32): i32 {
  if (!kernelLock()) return -EINTR;
  let result: i32;
  if (key == 0) result = queueCreate(key, mode, now);
  else {
    const id = objectLookup(KIND_MSG, keyName(key), 4);
    if (id == 0) result = create ? queueCreate(key, mode, now) : -ENOENT;
    else if (create && exclusive) result = -EEXIST;
    else {
      const requested = ((mode >> 6) | (mode >> 3) | mode) & 7;
      result = allowed(objectAt(id), requested) ? msqidOf(id) : -EACCES;
    }
  }
  kernelUnlock();
  return result;
}

/**
 * `msgsnd(IPC_NOWAIT)`: appends `len` bytes at `src` as a message of `type`: 0, or -EAGAIN (it
 * does not fit: cbytes + len > qbytes or qnum + 1 > qbytes; the caller may wait and call again),
 * -EINVAL (len > MSGMAX, no such queue), -EACCES, -ENOMEM, -EINTR.
 */
export function msgSend(msqid: i32, src: usize, len: u32, type: f64, now: u32): i32 {
  if (len > MSGMAX || msqid < 0 || type < 1) return -EINVAL;
  if (!kernelLock()) return -EINTR;
  const entry = queueAt(msqid);
  let result: i32 = 0;
  if (entry == 0) result = -EINVAL;
  else if (!allowed(entry, PERM_WRITE)) result = -EACCES;
  else {
    const qbytes = msgQueue(entry).qbytes;
    const qnum = msgQueue(entry).qnum;
    const cbytes = msgQueue(entry).cbytes;
    if (<u64>len + cbytes > <u64>qbytes || <u64>qnum + 1 > <u64>qbytes) result = -EAGAIN;
    else {
      const block = alloc(MSG_HEADER_BYTES + len);
      if (block == 0) result = -ENOMEM;
      else {
        msgBlock(block).next = 0;
        msgBlock(block).length = len;
        msgBlock(block).type = <i64>type;
        memory.copy(block + MSG_HEADER_BYTES, src, len);
        const tail = <usize>msgQueue(entry).tail;
        if (tail == 0) msgQueue(entry).head = <u32>block;
        else msgBlock(tail).next = <u32>block;
        msgQueue(entry).tail = <u32>block;
        msgQueue(entry).qnum = qnum + 1;
        msgQueue(entry).cbytes = cbytes + len;
        msgQueue(entry).lspid = currentPid();
        msgQueue(entry).stime = now;
        objectChanged(entry);
      }
    }
  }
  kernelUnlock();
  // Only a parked waiter needs the notify (a spinning one sees the bump): the count is kept as for
  // pipes (pipe.ts, publish), and the bump above comes before this load.
  if (result == 0 && atomic.load<i32>(entry + OBJ_PARKED) != 0) objectNotify(entry);
  return result;
}

/**
 * `msgrcv(IPC_NOWAIT)`: takes the message `type` selects (find_msg: 0 the first; > 0 the first of
 * that type, or with MSG_RECEIVE_EXCEPT of any other; < 0 the first of the lowest type <= -type),
 * writes a ReceivedMessage at `dst`: its type as an f64, then at most `max` payload bytes: the bytes
 * written, or -ENOMSG (none matches; the caller may wait and call again), -E2BIG (longer than `max`
 * without MSG_RECEIVE_NOERROR: the message stays), -EINVAL, -EACCES, -EINTR.
 */
export function msgReceive(msqid: i32, dst: usize, max: u32, type: f64, flags: i32, now: u32): i32 {
  if (msqid < 0) return -EINVAL;
  if (!kernelLock()) return -EINTR;
  const entry = queueAt(msqid);
  let result: i32 = 0;
  if (entry == 0) result = -EINVAL;
  else if (!allowed(entry, PERM_READ)) result = -EACCES;
  else {
    const wanted = <i64>type;
    const except = (flags & MSG_RECEIVE_EXCEPT) != 0;
    let limit: i64 = -wanted;
    let found: usize = 0;
    let foundPrev: usize = 0;
    let prev: usize = 0;
    for (let m = <usize>msgQueue(entry).head; m != 0; m = <usize>msgBlock(m).next) {
      const mtype = msgBlock(m).type;
      if (wanted == 0 || (wanted > 0 && (except ? mtype != wanted : mtype == wanted))) {
        found = m;
        foundPrev = prev;
        break;
      }
      if (wanted < 0 && mtype <= limit) {
        // A lower type than any seen so far: remember it, and look only for lower ones after it.
        found = m;
        foundPrev = prev;
        if (mtype == 1) break;
        limit = mtype - 1;
      }
      prev = m;
    }
    if (found == 0) result = -ENOMSG;
    else {
      const len = msgBlock(found).length;
      if (len > max && (flags & MSG_RECEIVE_NOERROR) == 0) result = -E2BIG;
      else {
        const n = min<u32>(len, max);
        changetype<ReceivedMessage>(dst).type = <f64>msgBlock(found).type;
        memory.copy(dst + MSG_RECEIVED_PAYLOAD, found + MSG_HEADER_BYTES, n);
        const next = msgBlock(found).next;
        if (foundPrev == 0) msgQueue(entry).head = next;
        else msgBlock(foundPrev).next = next;
        if (<usize>msgQueue(entry).tail == found) msgQueue(entry).tail = <u32>foundPrev;
        msgQueue(entry).qnum = msgQueue(entry).qnum - 1;
        msgQueue(entry).cbytes = msgQueue(entry).cbytes - len;
        msgQueue(entry).lrpid = currentPid();
        msgQueue(entry).rtime = now;
        free(found, MSG_HEADER_BYTES + len);
        objectChanged(entry);
        result = <i32>n;
      }
    }
  }
  kernelUnlock();
  // As in msgSend: only a parked waiter needs the notify.
  if (result >= 0 && atomic.load<i32>(entry + OBJ_PARKED) != 0) objectNotify(entry);
  return result;
}

/** `msgctl(IPC_STAT)`: writes the stat record (MSG_STAT_*) at `dst`: 0, or -EINVAL / -EACCES / -EINTR. */
export function msgStat(msqid: i32, dst: usize): i32 {
  if (!kernelLock()) return -EINTR;
  const entry = queueAt(msqid);
  let result: i32 = 0;
  if (entry == 0) result = -EINVAL;
  else if (!allowed(entry, PERM_READ)) result = -EACCES;
  else {
    msgStatAt(dst).key = msgQueue(entry).key;
    msgStatAt(dst).uid = msgQueue(entry).uid;
    msgStatAt(dst).gid = msgQueue(entry).gid;
    msgStatAt(dst).cuid = msgQueue(entry).cuid;
    msgStatAt(dst).cgid = msgQueue(entry).cgid;
    msgStatAt(dst).mode = objectInfo(entry).mode;
    msgStatAt(dst).qbytes = msgQueue(entry).qbytes;
    msgStatAt(dst).qnum = msgQueue(entry).qnum;
    msgStatAt(dst).cbytes = msgQueue(entry).cbytes;
    msgStatAt(dst).lspid = msgQueue(entry).lspid;
    msgStatAt(dst).lrpid = msgQueue(entry).lrpid;
    msgStatAt(dst).stime = msgQueue(entry).stime;
    msgStatAt(dst).rtime = msgQueue(entry).rtime;
    msgStatAt(dst).ctime = msgQueue(entry).ctime;
  }
  kernelUnlock();
  return result;
}

/**
 * `msgctl(IPC_SET)`: changes the fields not MSG_KEEP. 0, or -EPERM (not owner, creator or root; or
 * qbytes above MSGMNB without root), -EINVAL, -EINTR. Waiters are woken: more room may fit them.
 */
export function msgSet(msqid: i32, qbytes: u32, mode: u32, uid: u32, gid: u32, now: u32): i32 {
  if (!kernelLock()) return -EINTR;
  const entry = queueAt(msqid);
  let result: i32 = 0;
  if (entry == 0) result = -EINVAL;
  else if (!mayControl(entry)) result = -EPERM;
  else if (qbytes != MSG_KEEP && qbytes > MSGMNB && currentUid() != 0) result = -EPERM;
  else {
    if (qbytes != MSG_KEEP) msgQueue(entry).qbytes = qbytes;
    if (mode != MSG_KEEP) objectInfo(entry).mode = mode & 0o777;
    if (uid != MSG_KEEP) msgQueue(entry).uid = uid;
    if (gid != MSG_KEEP) msgQueue(entry).gid = gid;
    msgQueue(entry).ctime = now;
    objectChanged(entry);
  }
  kernelUnlock();
  if (result == 0) objectNotify(entry);
  return result;
}

/** `msgctl(IPC_RMID)`: frees the queue, its messages and its key at once; waiters wake and find it gone. 0, -EINVAL, -EPERM, -EINTR. */
export function msgRemove(msqid: i32): i32 {
  if (!kernelLock()) return -EINTR;
  const entry = queueAt(msqid);
  let result: i32 = 0;
  if (entry == 0) result = -EINVAL;
  else if (!mayControl(entry)) result = -EPERM;
  else {
    // Bump first: the cell outlives the slot, and a waiter that read the old value wakes.
    objectChanged(entry);
    objectDestroy((msqid & 0xffff) + 1);
  }
  kernelUnlock();
  if (result == 0) objectNotify(entry);
  return result;
}

/** The wait cell of `msqid`'s slot (whether or not the queue is still there), or 0 for an impossible id. */
export function msgWaitCell(msqid: i32): u32 {
  if (msqid < 0) return 0;
  const id = (msqid & 0xffff) + 1;
  return id > objectMax() ? 0 : <u32>(objectAt(id) + OBJ_SEQ);
}

/** For listings: the msqid of object `id` with its key stored at `dst`, or -EINVAL if it is not a queue, -EINTR. */
export function msgDescribe(id: i32, dst: usize): i32 {
  if (id < 1 || id > objectMax()) return -EINVAL;
  if (!kernelLock()) return -EINTR;
  const entry = objectAt(id);
  let result: i32 = -EINVAL;
  if (objectEntry(entry).kind == KIND_MSG) {
    store<i32>(dst, msgQueue(entry).key);
    result = msqidOf(id);
  }
  kernelUnlock();
  return result;
}

/** Frees every message of the queue at `entry` and clears its record (objectDestroy calls this). Kernel lock held. */
export function msgFreeAll(entry: usize): void {
  let m = <usize>msgQueue(entry).head;
  while (m != 0) {
    const next = <usize>msgBlock(m).next;
    free(m, MSG_HEADER_BYTES + msgBlock(m).length);
    m = next;
  }
  memory.fill(entry + OBJ_RING0, 0, KIND_AREA_BYTES);
}
