// POSIX message queues (mq_open, mq_send, mq_receive, mq_getattr, mq_unlink): named queues of
// whole messages kept highest priority first, first in first out within one priority, with the
// limits of Linux's mqueue file system.
//
// A queue is an object entry of KIND_PMQ, linked in the namespace under its name (with the leading
// '/'); its handles are entries of the handle table with end END_MQ_READ and/or END_MQ_WRITE, so an
// emulated mqd_t is closed, inherited and reaped like any descriptor. refs = handles + 1 while the
// name is linked: mq_unlink drops the name, the last close frees the queue and its messages.
//
// Queue record, inside the object entry (object.ts; OBJ_MODE holds the permission bits):
//
//   +32 ┌──────────────────────┐
//       │ u32 maxmsg           │ mq_maxmsg
//   +36 │ u32 msgsize          │ mq_msgsize
//   +40 │ u32 curmsgs          │ mq_curmsgs (read without the lock by mq_getattr: one aligned word)
//   +44 │ u32 uid              │ owner, the creating user: charged for the queue (RLIMIT_MSGQUEUE)
//   +48 │ u32 gid              │
//   +52 │ u32 head             │ first message block: the oldest of the highest priority
//   +56 │ u32 tail             │ last message block: the newest of the lowest priority
//   +60 │ u32 charged bytes    │ what the queue counts against its owner's RLIMIT_MSGQUEUE
//   +64 │ i32 notify owner     │ mq_notify: the registered owner (thread = process here), 0 = none
//   +68 │ u32 notify serial    │ number of the latest registration (1, 2, ...)
//   +72 │ u32 notified serial  │ the registration that fired last
//   +76 │ reserved             │
//   +96 └──────────────────────┘
//
// Message block (heap, PMQ_HEADER_BYTES + length, freed with the same size):
//
//   +0  ┌──────────────────────┐
//       │ u32 next             │ next message in receive order (0 = last)
//   +4  │ u32 length           │
//   +8  │ u32 priority         │ 0 .. MQ_PRIO_MAX - 1
//   +12 │ reserved             │
//   +16 │ payload ...          │
//       └──────────────────────┘
//
// Receiving hands the block itself to the receiver instead of copying it through the 64 KiB scratch
// buffer (a message may be up to 16 MiB): the block is taken off the queue and becomes the owner's
// held block (owner.ts) until `pmq_release` frees it once TypeScript has copied it out; if the thread
// dies in between, reaping its owner frees it.
//
// Locking: the kernel lock (every operation allocates or frees blocks). State changes bump the
// object's wait cell and notify after unlocking; TypeScript waits on it and calls again.
import { alloc, free } from './alloc';
import { EACCES, EAGAIN, EBADF, EBUSY, EEXIST, EINTR, EINVAL, EMFILE, EMSGSIZE, ENAMETOOLONG, ENFILE, ENOENT, ENOMEM, ENOSPC, EPERM } from './errno';
import { handleCreate, ownHandle, handleEntry } from './handle';
import { currentOwner, kernelLock, kernelUnlock } from './kernel';
import {
  ObjectEntry,
  END_MQ_READ,
  END_MQ_WRITE,
  FLAG_LINKED,
  KIND_PMQ,
  objectAt,
  objectChanged,
  objectCreate,
  objectDestroy,
  objectLookup,
  objectMax,
  objectNotify,
  objectSetName,
  objectEntry,
  objectInfo,
  OBJ_RING0,
  KIND_AREA_BYTES,
} from './object';
import { ownerAt, ownerDropHeld, ownerHold, ownerTakeHeld, ownerEntry } from './owner';
import { PERM_READ, PERM_WRITE, currentGid, currentUid, permitted } from './permission';

/** The queue record in its object's kind area (the diagram above); the compiler owns the offsets. */
@unmanaged export class PmqEntry extends ObjectEntry {
  maxmsg: u32;
  msgsize: u32;
  curmsgs: u32;
  uid: u32;
  gid: u32;
  head: u32;
  tail: u32;
  charged: u32;
  notifyOwner: i32;
  notifySerial: u32;
  notified: u32;
}
/** Where the record ends in the entry: within the kind area (test/kernel.test.ts checks). */
export const PMQ_RECORD_END: u32 = offsetof<PmqEntry>();
export const PMQ_CURMSGS: u32 = offsetof<PmqEntry>('curmsgs');
/** The PmqEntry at `at`. */
@inline export function pmqEntry(at: usize): PmqEntry {
  return changetype<PmqEntry>(at);
}

/** pmq_notify_state answers. */
export const PMQ_NOTIFY_PENDING: i32 = 0;
export const PMQ_NOTIFY_FIRED: i32 = 1;
export const PMQ_NOTIFY_REMOVED: i32 = 2;

/** A message block in the heap (the diagram above), its payload after it. */
@unmanaged export class PmqBlock {
  next: u32;
  length: u32;
  priority: u32;
  reserved0: u32;
}
export const PMQ_HEADER_BYTES: u32 = offsetof<PmqBlock>();

/** What pmq_receive writes at `info`: where the held message's payload is, and its priority. */
@unmanaged export class PmqReceived {
  at: u32;
  priority: u32;
}
export const PMQ_RECEIVED_AT: u32 = offsetof<PmqReceived>('at');
export const PMQ_RECEIVED_PRIORITY: u32 = offsetof<PmqReceived>('priority');
/** The PmqBlock at `at`. */
@inline export function pmqBlock(at: usize): PmqBlock {
  return changetype<PmqBlock>(at);
}

/** Linux's defaults and limits (/proc/sys/fs/mqueue and include/linux/ipc_namespace.h). */
export const PMQ_MSG_DEFAULT: u32 = 10;
export const PMQ_MSGSIZE_DEFAULT: u32 = 8192;
/** msg_max / msgsize_max: the most an unprivileged creator may ask (EINVAL beyond). */
export const PMQ_MSG_MAX: u32 = 10;
export const PMQ_MSGSIZE_MAX: u32 = 8192;
/** HARD_MSGMAX / HARD_MSGSIZEMAX: the most even root (CAP_SYS_RESOURCE) may ask. */
export const PMQ_HARD_MSGMAX: u32 = 65536;
export const PMQ_HARD_MSGSIZEMAX: u32 = 16 * 1024 * 1024;
/** queues_max: queues in the system beyond which an unprivileged creator gets ENOSPC. */
export const PMQ_QUEUES_MAX: i32 = 256;
/** RLIMIT_MSGQUEUE's default: bytes of queues one user may own (EMFILE beyond), root included. */
export const PMQ_RLIMIT_BYTES: u64 = 819200;
/** What the kernel charges per message slot beside its payload: sizeof(struct msg_msg) + sizeof(struct posix_msg_tree_node) on 64-bit. */
export const PMQ_SLOT_OVERHEAD: u64 = 96;
export const MQ_PRIO_MAX: u32 = 32768;
/** NAME_MAX: bytes of a name after its '/'. */
export const PMQ_NAME_MAX: u32 = 255;

/** Access codes of pmq_open, as O_RDONLY / O_WRONLY / O_RDWR. */
export const PMQ_ACCESS_READ: i32 = 0;
export const PMQ_ACCESS_WRITE: i32 = 1;
export const PMQ_ACCESS_READWRITE: i32 = 2;

/** pmq_attr fields. */
export const PMQ_ATTR_MAXMSG: i32 = 0;
export const PMQ_ATTR_MSGSIZE: i32 = 1;
export const PMQ_ATTR_CURMSGS: i32 = 2;

function endFor(access: i32): i32 {
  if (access == PMQ_ACCESS_READ) return END_MQ_READ;
  if (access == PMQ_ACCESS_WRITE) return END_MQ_WRITE;
  return END_MQ_READ | END_MQ_WRITE;
}

/** What mqueue_get_inode charges a queue of these sizes against RLIMIT_MSGQUEUE. */
function chargeFor(maxmsg: u32, msgsize: u32): u64 {
  const tree = <u64>min<u32>(maxmsg, MQ_PRIO_MAX);
  return <u64>maxmsg * <u64>msgsize + <u64>maxmsg * 48 + tree * 48;
}

/** Bytes charged to `uid` by its live queues, and how many queues there are, in `queueTotal`. Kernel lock held. */
let queueTotal: i32 = 0;
function chargedTo(uid: u32): u64 {
  const max = objectMax();
  let total: u64 = 0;
  queueTotal = 0;
  for (let id = 1; id <= max; id++) {
    const entry = objectAt(id);
    if (objectEntry(entry).kind != KIND_PMQ) continue;
    queueTotal++;
    if (pmqEntry(entry).uid == uid) total += <u64>pmqEntry(entry).charged;
  }
  return total;
}

/** mqueue_create_attr(): a new linked queue named by `len` bytes at `name`: its object id, or -errno. Kernel lock held. */
function queueCreate(name: usize, len: u32, mode: u32, maxmsg: i32, msgsize: i32): i32 {
  const root = currentUid() == 0;
  let count: u32 = PMQ_MSG_DEFAULT;
  let size: u32 = PMQ_MSGSIZE_DEFAULT;
  if (maxmsg >= 0 || msgsize >= 0) {
    // mq_attr_ok(): both fields are given (the caller fills in a default for one left out).
    if (maxmsg >= 0) count = <u32>maxmsg;
    if (msgsize >= 0) size = <u32>msgsize;
    if (count == 0 || size == 0) return -EINVAL;
    if (root ? count > PMQ_HARD_MSGMAX || size > PMQ_HARD_MSGSIZEMAX : count > PMQ_MSG_MAX || size > PMQ_MSGSIZE_MAX) return -EINVAL;
  }
  const uid = currentUid();
  const charged = chargedTo(uid);
  if (queueTotal >= PMQ_QUEUES_MAX && !root) return -ENOSPC;
  const charge = chargeFor(count, size);
  if (charged + charge > PMQ_RLIMIT_BYTES) return -EMFILE;
  const id = objectCreate(KIND_PMQ, 1);
  if (id == 0) return -ENOSPC;
  if (!objectSetName(id, name, len, false)) {
    objectDestroy(id);
    return -ENOMEM;
  }
  const entry = objectAt(id);
  objectInfo(entry).mode = mode & 0o777;
  pmqEntry(entry).maxmsg = count;
  pmqEntry(entry).msgsize = size;
  pmqEntry(entry).uid = uid;
  pmqEntry(entry).gid = currentGid();
  pmqEntry(entry).charged = <u32>charge;
  objectEntry(entry).flags = FLAG_LINKED;
  return id;
}

/** Drops the name of the queue `id` (and the queue with it when no handle is left). Kernel lock held. */
function queueUnlink(id: i32): void {
  const entry = objectAt(id);
  objectEntry(entry).flags = 0;
  free(<usize>objectEntry(entry).namePtr, objectEntry(entry).nameLen);
  objectEntry(entry).namePtr = 0;
  objectEntry(entry).nameLen = 0;
  const refs = objectEntry(entry).refs - 1;
  objectEntry(entry).refs = refs;
  if (refs == 0) objectDestroy(id);
}

/**
 * `mq_open(name, access [| O_CREAT [| O_EXCL]], mode, attr)`, `len` bytes at `name` with the
 * leading '/'; `maxmsg`/`msgsize` -1 for the defaults (no attr). The handle, or -ENAMETOOLONG /
 * -ENOENT / -EEXIST / -EACCES / -EINVAL / -ENOSPC / -EMFILE / -ENOMEM / -ENFILE / -EINTR.
 */
export function pmqOpen(name: usize, len: u32, access: i32, create: bool, exclusive: bool, mode: u32, maxmsg: i32, msgsize: i32): i32 {
  if (len < 2) return -ENOENT;
  if (len - 1 > PMQ_NAME_MAX) return -ENAMETOOLONG;
  if (access < PMQ_ACCESS_READ || access > PMQ_ACCESS_READWRITE) return -EINVAL;
  if (!kernelLock()) return -EINTR;
  let id = objectLookup(KIND_PMQ, name, len);
  let made = false;
  let result: i32 = 0;
  if (id == 0) {
    if (!create) result = -ENOENT;
    else {
      result = queueCreate(name, len, mode, maxmsg, msgsize);
      if (result > 0) {
        id = result;
        made = true;
      }
    }
  } else if (create && exclusive) result = -EEXIST;
  else {
    const entry = objectAt(id);
    const want = access == PMQ_ACCESS_READ ? PERM_READ : access == PMQ_ACCESS_WRITE ? PERM_WRITE : PERM_READ | PERM_WRITE;
    // The creator of a file is its owner and group: the same ids serve as creator ids here.
    const uid = pmqEntry(entry).uid;
    const gid = pmqEntry(entry).gid;
    if (!permitted(uid, gid, uid, gid, objectInfo(entry).mode, want)) result = -EACCES;
  }
  if (id > 0 && result >= 0) {
    const handle = handleCreate(currentOwner, id, endFor(access));
    if (handle == 0) {
      result = -ENFILE;
      if (made) queueUnlink(id);
    } else {
      const entry = objectAt(id);
      objectEntry(entry).refs = objectEntry(entry).refs + 1;
      result = handle;
    }
  }
  kernelUnlock();
  return result;
}

/** `mq_unlink(name)`: 0, or -ENOENT / -EPERM (the mqueue root is sticky: only the owner or root) / -ENAMETOOLONG / -EINTR. */
export function pmqUnlink(name: usize, len: u32): i32 {
  if (len < 2) return -ENOENT;
  if (len - 1 > PMQ_NAME_MAX) return -ENAMETOOLONG;
  if (!kernelLock()) return -EINTR;
  const id = objectLookup(KIND_PMQ, name, len);
  let result: i32 = 0;
  if (id == 0) result = -ENOENT;
  else {
    const me = currentUid();
    if (me != 0 && me != pmqEntry(objectAt(id)).uid) result = -EPERM;
    else queueUnlink(id);
  }
  kernelUnlock();
  return result;
}

/** The queue entry behind one of the current owner's handles if that handle has `end`, else 0 (EBADF). */
function queueOf(handle: i32, end: i32): usize {
  const entry = ownHandle(handle);
  if (entry == 0 || (handleEntry(entry).end & end) == 0) return 0;
  const object = objectAt(handleEntry(entry).object);
  return objectEntry(object).kind == KIND_PMQ ? object : 0;
}

/**
 * `mq_send(O_NONBLOCK)`: 0, or -EAGAIN (full: the caller may wait and call again), -EBADF (not
 * opened for writing), -EMSGSIZE (longer than msgsize), -EINVAL (priority), -ENOMEM, -EINTR.
 */
export function pmqSend(handle: i32, src: usize, len: u32, priority: u32): i32 {
  if (priority >= MQ_PRIO_MAX) return -EINVAL;
  const entry = queueOf(handle, END_MQ_WRITE);
  if (entry == 0) return -EBADF;
  if (len > pmqEntry(entry).msgsize) return -EMSGSIZE;
  if (!kernelLock()) return -EINTR;
  let result: i32 = 0;
  const count = pmqEntry(entry).curmsgs;
  if (count >= pmqEntry(entry).maxmsg) result = -EAGAIN;
  else {
    const block = alloc(PMQ_HEADER_BYTES + len);
    if (block == 0) result = -ENOMEM;
    else {
      pmqBlock(block).length = len;
      pmqBlock(block).priority = priority;
      memory.copy(block + PMQ_HEADER_BYTES, src, len);
      insert(entry, block);
    }
  }
  kernelUnlock();
  if (result == 0) objectNotify(entry);
  return result;
}

/** Links `block` (length and priority set) into the queue at `entry` in receive order, counts it and bumps the wait cell. Kernel lock held. */
function insert(entry: usize, block: usize): void {
  const priority = pmqBlock(block).priority;
  pmqBlock(block).next = 0;
  const head = <usize>pmqEntry(entry).head;
  const tail = <usize>pmqEntry(entry).tail;
  if (head == 0) {
    pmqEntry(entry).head = <u32>block;
    pmqEntry(entry).tail = <u32>block;
  } else if (pmqBlock(tail).priority >= priority) {
    // The common case (one priority, or a lower one): behind the last message.
    pmqBlock(tail).next = <u32>block;
    pmqEntry(entry).tail = <u32>block;
  } else if (pmqBlock(head).priority < priority) {
    pmqBlock(block).next = <u32>head;
    pmqEntry(entry).head = <u32>block;
  } else {
    // Behind the last message of a priority >= this one (the tail's is lower: the walk stops before it).
    let before = head;
    while (pmqBlock(<usize>pmqBlock(before).next).priority >= priority) before = <usize>pmqBlock(before).next;
    pmqBlock(block).next = pmqBlock(before).next;
    pmqBlock(before).next = <u32>block;
  }
  atomic.store<u32>(entry + PMQ_CURMSGS, pmqEntry(entry).curmsgs + 1);
  notifyOnArrival(entry);
  objectChanged(entry);
}

/**
 * First step of sending a message larger than the scratch buffer: checks it as `pmq_send` does and
 * allocates its block, which the current owner holds. The payload address (TypeScript copies the
 * message there, then calls `pmq_send_held`), or -EAGAIN / -EBADF / -EMSGSIZE / -EINVAL / -ENOMEM / -EINTR.
 */
export function pmqSendBlock(handle: i32, len: u32, priority: u32): i32 {
  if (priority >= MQ_PRIO_MAX) return -EINVAL;
  const entry = queueOf(handle, END_MQ_WRITE);
  if (entry == 0) return -EBADF;
  if (len > pmqEntry(entry).msgsize) return -EMSGSIZE;
  if (!kernelLock()) return -EINTR;
  let result: i32;
  if (pmqEntry(entry).curmsgs >= pmqEntry(entry).maxmsg) result = -EAGAIN;
  else {
    const block = alloc(PMQ_HEADER_BYTES + len);
    if (block == 0) result = -ENOMEM;
    else {
      pmqBlock(block).length = len;
      pmqBlock(block).priority = priority;
      ownerHold(currentOwner, block, PMQ_HEADER_BYTES + len);
      result = <i32>(block + PMQ_HEADER_BYTES);
    }
  }
  kernelUnlock();
  return result;
}

/** Second step: queues the block the current owner holds. 0, or -EAGAIN (filled up meanwhile: the block is freed), -EBADF, -EINVAL (no block), -EINTR. */
export function pmqSendHeld(handle: i32): i32 {
  const entry = queueOf(handle, END_MQ_WRITE);
  if (entry == 0) return -EBADF;
  if (!kernelLock()) return -EINTR;
  let result: i32 = 0;
  if (ownerEntry(ownerAt(currentOwner)).held == 0) result = -EINVAL;
  else if (pmqEntry(entry).curmsgs >= pmqEntry(entry).maxmsg) {
    ownerDropHeld(currentOwner);
    result = -EAGAIN;
  } else insert(entry, ownerTakeHeld(currentOwner));
  kernelUnlock();
  if (result == 0) objectNotify(entry);
  return result;
}

/**
 * `mq_receive(O_NONBLOCK)`: takes the first message and makes it the current owner's held block;
 * writes [u32 payload address, u32 priority] at `info`. Its length, or -EAGAIN (empty), -EBADF
 * (not opened for reading), -EINTR. Call `pmq_release` once the payload is copied out.
 */
export function pmqReceive(handle: i32, info: usize): i32 {
  const entry = queueOf(handle, END_MQ_READ);
  if (entry == 0) return -EBADF;
  if (!kernelLock()) return -EINTR;
  let result: i32;
  const block = <usize>pmqEntry(entry).head;
  if (block == 0) result = -EAGAIN;
  else {
    const next = pmqBlock(block).next;
    pmqEntry(entry).head = next;
    if (next == 0) pmqEntry(entry).tail = 0;
    atomic.store<u32>(entry + PMQ_CURMSGS, pmqEntry(entry).curmsgs - 1);
    const len = pmqBlock(block).length;
    ownerHold(currentOwner, block, PMQ_HEADER_BYTES + len);
    const received = changetype<PmqReceived>(info);
    received.at = <u32>(block + PMQ_HEADER_BYTES);
    received.priority = pmqBlock(block).priority;
    objectChanged(entry);
    result = <i32>len;
  }
  kernelUnlock();
  if (result >= 0) objectNotify(entry);
  return result;
}

/** Frees the message block the current owner holds after `pmq_receive`: 0 or -EINTR. */
export function pmqRelease(): i32 {
  if (!kernelLock()) return -EINTR;
  ownerDropHeld(currentOwner);
  kernelUnlock();
  return 0;
}

/** `mq_getattr`: one field (PMQ_ATTR_*) of the queue behind `handle`, or -EBADF / -EINVAL. Lock-free: each is one aligned word. */
export function pmqAttr(handle: i32, field: i32): i32 {
  const entry = queueOf(handle, END_MQ_READ | END_MQ_WRITE);
  if (entry == 0) return -EBADF;
  if (field == PMQ_ATTR_MAXMSG) return <i32>pmqEntry(entry).maxmsg;
  if (field == PMQ_ATTR_MSGSIZE) return <i32>pmqEntry(entry).msgsize;
  if (field == PMQ_ATTR_CURMSGS) return <i32>atomic.load<u32>(entry + PMQ_CURMSGS);
  return -EINVAL;
}

/** Frees every message of the queue at `entry` and clears its record (objectDestroy calls this). Kernel lock held. */
export function pmqFreeAll(entry: usize): void {
  let m = <usize>pmqEntry(entry).head;
  while (m != 0) {
    const next = <usize>pmqBlock(m).next;
    free(m, PMQ_HEADER_BYTES + pmqBlock(m).length);
    m = next;
  }
  memory.fill(entry + OBJ_RING0, 0, KIND_AREA_BYTES);
}

// ---- Notification (mq_notify) ---------------------------------------------------------------
//
// As Linux's mqueue: one registered owner per queue (EBUSY for any other registration, the
// registered owner's included); the registration fires, and is dropped, when a message enters the
// empty queue (curmsgs goes 0 -> 1; every receive here waits outside the kernel, like ipcx's
// native receives, so none is "blocked in mq_receive" to take the message instead); the owner
// unregisters, or loses it by closing any handle of the queue (mqueue_flush_file). TypeScript
// sleeps on the wait cell and asks pmq_notify_state about its registration by serial.

/** Fires the registration when `entry` just got its first message. Kernel lock held; the caller bumps the wait cell. */
function notifyOnArrival(entry: usize): void {
  if (pmqEntry(entry).curmsgs != 1 || pmqEntry(entry).notifyOwner == 0) return;
  pmqEntry(entry).notified = pmqEntry(entry).notifySerial;
  pmqEntry(entry).notifyOwner = 0;
}

/** `mq_notify(mqdes, &sev)`: the registration's serial (> 0), or -EBUSY (an owner is registered), -EBADF, -EINTR. */
export function pmqNotify(handle: i32): i32 {
  const entry = queueOf(handle, END_MQ_READ | END_MQ_WRITE);
  if (entry == 0) return -EBADF;
  if (!kernelLock()) return -EINTR;
  let result: i32;
  if (pmqEntry(entry).notifyOwner != 0) result = -EBUSY;
  else {
    const serial = pmqEntry(entry).notifySerial + 1;
    pmqEntry(entry).notifySerial = serial;
    pmqEntry(entry).notifyOwner = currentOwner;
    result = <i32>(serial & 0x7fffffff);
  }
  kernelUnlock();
  return result;
}

/** `mq_notify(mqdes, NULL)` for registration `serial`: removed if it is the current owner's and still armed. 0, -EBADF, -EINTR. */
export function pmqNotifyCancel(handle: i32, serial: u32): i32 {
  const entry = queueOf(handle, END_MQ_READ | END_MQ_WRITE);
  if (entry == 0) return -EBADF;
  if (!kernelLock()) return -EINTR;
  if (pmqEntry(entry).notifyOwner == currentOwner && (pmqEntry(entry).notifySerial & 0x7fffffff) == serial) {
    pmqEntry(entry).notifyOwner = 0;
    objectChanged(entry);
  }
  kernelUnlock();
  objectNotify(entry);
  return 0;
}

/** Registration `serial` of the queue behind `handle`: PMQ_NOTIFY_PENDING / _FIRED / _REMOVED, or -EBADF / -EINTR. */
export function pmqNotifyState(handle: i32, serial: u32): i32 {
  const entry = queueOf(handle, END_MQ_READ | END_MQ_WRITE);
  if (entry == 0) return -EBADF;
  if (!kernelLock()) return -EINTR;
  let result = PMQ_NOTIFY_REMOVED;
  if ((pmqEntry(entry).notified & 0x7fffffff) == serial) result = PMQ_NOTIFY_FIRED;
  else if (pmqEntry(entry).notifyOwner != 0 && (pmqEntry(entry).notifySerial & 0x7fffffff) == serial) result = PMQ_NOTIFY_PENDING;
  kernelUnlock();
  return result;
}

/** A handle of `owner` on the queue at `entry` closes: Linux drops that process's registration (mqueue_flush_file). Kernel lock held. */
export function pmqHandleClosed(entry: usize, owner: i32): void {
  if (pmqEntry(entry).notifyOwner == owner) pmqEntry(entry).notifyOwner = 0;
}
