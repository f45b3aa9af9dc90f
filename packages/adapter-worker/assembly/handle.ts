// The handle table: the emulated file descriptors. A handle is one owner's use of one end of an
// object; handle number = index + 1. Handles are what a thread closes, what a worker inherits
// (`handle_dup` to the child's owner) and what the parent reaps when a worker exits.
//
// Handle entry (HANDLE_BYTES):
//
//   +0  ┌──────────────────┐
//       │ i32 owner        │ 0 = free slot
//   +4  │ i32 object id    │
//   +8  │ i32 end          │ END_READ / END_WRITE (pipe, FIFO), END_A / END_B (duplex)
//   +12 │ reserved         │
//   +16 └──────────────────┘
import { EBADF, EINTR, ENFILE } from './errno';
import { HDR_HANDLES, HDR_HANDLES_MAX, HDR_HANDLE_HINT, currentOwner, hdr, kernelLock, kernelUnlock } from './kernel';
import { lockAcquire, lockRelease } from './lock';
import { socketHandleClosed } from './socket';
import { lockFileHandleClosed } from './file-lock';
import { pmqHandleClosed } from './posix-message-queue';
import {
  KIND_FIFO,
  KIND_LOCK_FILE,
  KIND_PMQ,
  KIND_SOCKET,
  OBJ_KIND,
  OBJ_LOCK,
  OBJ_REFS,
  OBJ_RING0,
  countEnd,
  objectAt,
  objectChanged,
  objectDestroy,
  objectNotify,
} from './object';
import { RING_READERS, RING_WRITERS, ringReset } from './ring';
import { isSegmentKind, segmentDupEnd, segmentRelease } from './shared-memory';

export const HANDLE_BYTES: u32 = 16;
export const HANDLE_OWNER: u32 = 0;
export const HANDLE_OBJECT: u32 = 4;
export const HANDLE_END: u32 = 8;

@inline export function handleAt(handle: i32): usize {
  return <usize>load<u32>(hdr(HDR_HANDLES)) + <usize>(handle - 1) * HANDLE_BYTES;
}

/** The entry of `handle` if the current owner holds it, else 0 (the caller answers EBADF). */
export function ownHandle(handle: i32): usize {
  if (handle < 1 || <u32>handle > load<u32>(hdr(HDR_HANDLES_MAX))) return 0;
  const entry = handleAt(handle);
  return load<i32>(entry + HANDLE_OWNER) == currentOwner && currentOwner != 0 ? entry : 0;
}

/** A new handle for `owner` on `end` of object `id` (counts not touched): its number, or 0 if the table is full. Kernel lock held. */
export function handleCreate(owner: i32, id: i32, end: i32): i32 {
  const max = <i32>load<u32>(hdr(HDR_HANDLES_MAX));
  let i = <i32>load<u32>(hdr(HDR_HANDLE_HINT));
  for (let tries = 0; tries < max; tries++, i++) {
    if (i >= max) i = 0;
    const entry = handleAt(i + 1);
    if (load<i32>(entry + HANDLE_OWNER) != 0) continue;
    store<i32>(entry + HANDLE_OBJECT, id);
    store<i32>(entry + HANDLE_END, end);
    store<i32>(entry + HANDLE_OWNER, owner);
    store<u32>(hdr(HDR_HANDLE_HINT), <u32>(i + 1));
    return i + 1;
  }
  return 0;
}

/**
 * Closes the handle at `entry` whoever owns it: its end stops counting, the object loses a
 * reference and is destroyed with the last one; a FIFO drops its buffered bytes when its last end
 * closes (as the kernel does). Kernel lock held. False if the object's lock could not be taken.
 */
export function handleRelease(entry: usize): bool {
  const id = load<i32>(entry + HANDLE_OBJECT);
  const object = objectAt(id);
  if (!lockAcquire(object + OBJ_LOCK, currentOwner)) return false;
  if (isSegmentKind(load<i32>(object + OBJ_KIND))) segmentRelease(object, entry);
  if (load<i32>(object + OBJ_KIND) == KIND_LOCK_FILE) lockFileHandleClosed(object, entry);
  if (load<i32>(object + OBJ_KIND) == KIND_PMQ) pmqHandleClosed(object, load<i32>(entry + HANDLE_OWNER));
  countEnd(object, load<i32>(entry + HANDLE_END), -1);
  store<i32>(entry + HANDLE_OWNER, 0);
  const refs = load<i32>(object + OBJ_REFS) - 1;
  store<i32>(object + OBJ_REFS, refs);
  const ring = object + OBJ_RING0;
  if (load<i32>(object + OBJ_KIND) == KIND_FIFO && load<i32>(ring + RING_READERS) == 0 && load<i32>(ring + RING_WRITERS) == 0) {
    ringReset(ring);
  }
  // Bump before unlocking, notify after: a waiter that read the old seq either sees the new one
  // or is woken by the notify.
  objectChanged(object);
  if (load<i32>(object + OBJ_KIND) == KIND_SOCKET) {
    // A socket's references also count peers and queues holding it: socket.ts decides.
    lockRelease(object + OBJ_LOCK);
    socketHandleClosed(id);
    objectNotify(object);
    return true;
  }
  if (refs == 0) objectDestroy(id);
  lockRelease(object + OBJ_LOCK);
  objectNotify(object);
  return true;
}

/** `close(handle)`: 0, -EBADF, or -EINTR (call again). */
export function handleClose(handle: i32): i32 {
  const entry = ownHandle(handle);
  if (entry == 0) return -EBADF;
  if (!kernelLock()) return -EINTR;
  const ok = handleRelease(entry);
  kernelUnlock();
  return ok ? 0 : -EINTR;
}

/** Gives `toOwner` its own handle on the same end (inheritance by a worker): the new number, or -errno. */
export function handleDup(handle: i32, toOwner: i32): i32 {
  const entry = ownHandle(handle);
  if (entry == 0) return -EBADF;
  if (!kernelLock()) return -EINTR;
  const id = load<i32>(entry + HANDLE_OBJECT);
  const end = load<i32>(entry + HANDLE_END);
  const object = objectAt(id);
  if (!lockAcquire(object + OBJ_LOCK, currentOwner)) {
    kernelUnlock();
    return -EINTR;
  }
  const copy = handleCreate(toOwner, id, isSegmentKind(load<i32>(object + OBJ_KIND)) ? segmentDupEnd(end) : end);
  if (copy != 0) {
    countEnd(object, end, 1);
    store<i32>(object + OBJ_REFS, load<i32>(object + OBJ_REFS) + 1);
    objectChanged(object);
  }
  lockRelease(object + OBJ_LOCK);
  kernelUnlock();
  if (copy == 0) return -ENFILE;
  objectNotify(object);
  return copy;
}
