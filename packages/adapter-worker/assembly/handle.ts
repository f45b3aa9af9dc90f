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
import { EBADF, EINTR, EINVAL, ENFILE } from './errno';
import { HDR_LOCK, currentOwner, hdr, kernelHeader, kernelLock, kernelUnlock } from './kernel';
import { lockAcquire, lockBreak, lockRelease } from './lock';
import { kindDupEnd, kindHandleClosing, kindHandleCounted, kindHandleGone, kindOwnerDying, kindSelfReleasing } from './kind-hooks';
import { OBJ_LOCK, countEnd, objectAt, objectCell, objectChanged, objectDestroy, objectEntry, objectMax, objectNotify } from './object';
import { ownerDeepestDescendant, ownerDescends, ownerFree, ownerValid } from './owner';

/** A handle entry (the diagram above); the compiler owns the offsets. */
@unmanaged export class HandleEntry {
  owner: i32;
  object: i32;
  end: i32;
  /** Unused: keeps entries 16 bytes apart, aligned. */
  reserved: i32;
}

export const HANDLE_BYTES: u32 = offsetof<HandleEntry>();
/** Socket.ts counts handles in flight with atomics on this field. */
export const HANDLE_OWNER: u32 = offsetof<HandleEntry>('owner');

/** The entry at `at` as a record. */
@inline export function handleEntry(at: usize): HandleEntry {
  return changetype<HandleEntry>(at);
}

@inline export function handleAt(handle: i32): usize {
  return <usize>kernelHeader().handles + <usize>(handle - 1) * HANDLE_BYTES;
}

/** The entry of `handle` if the current owner holds it, else 0 (the caller answers EBADF). */
export function ownHandle(handle: i32): usize {
  if (handle < 1 || <u32>handle > kernelHeader().handlesMax) return 0;
  const entry = handleAt(handle);
  return handleEntry(entry).owner == currentOwner && currentOwner != 0 ? entry : 0;
}

/** A new handle for `owner` on `end` of object `id` (counts not touched): its number, or 0 if the table is full. Kernel lock held. */
export function handleCreate(owner: i32, id: i32, end: i32): i32 {
  const max = <i32>kernelHeader().handlesMax;
  let i = <i32>kernelHeader().handleHint;
  for (let tries = 0; tries < max; tries++, i++) {
    if (i >= max) i = 0;
    const entry = handleAt(i + 1);
    if (handleEntry(entry).owner != 0) continue;
    handleEntry(entry).object = id;
    handleEntry(entry).end = end;
    handleEntry(entry).owner = owner;
    kernelHeader().handleHint = <u32>(i + 1);
    return i + 1;
  }
  return 0;
}

/**
 * Closes the handle at `entry` whoever owns it: its end stops counting, the object loses a
 * reference and is destroyed with the last one (what a kind does besides: kinds.ts). Kernel lock
 * held. False if the object's lock could not be taken.
 */
export function handleRelease(entry: usize): bool {
  const id = handleEntry(entry).object;
  const object = objectAt(id);
  if (!lockAcquire(object + OBJ_LOCK, currentOwner)) return false;
  const kind = objectEntry(object).kind;
  kindHandleClosing(kind, object, entry);
  countEnd(object, handleEntry(entry).end, -1);
  handleEntry(entry).owner = 0;
  const refs = objectEntry(object).refs - 1;
  objectEntry(object).refs = refs;
  kindHandleCounted(kind, object);
  // Bump before unlocking, notify after: a waiter that read the old seq either sees the new one
  // or is woken by the notify.
  objectChanged(object);
  if (kindSelfReleasing(kind)) {
    lockRelease(object + OBJ_LOCK);
    kindHandleGone(kind, id);
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
  const id = handleEntry(entry).object;
  const end = handleEntry(entry).end;
  const object = objectAt(id);
  if (!lockAcquire(object + OBJ_LOCK, currentOwner)) {
    kernelUnlock();
    return -EINTR;
  }
  const copy = handleCreate(toOwner, id, kindDupEnd(objectEntry(object).kind, end));
  if (copy != 0) {
    countEnd(object, end, 1);
    objectEntry(object).refs = objectEntry(object).refs + 1;
    objectChanged(object);
  }
  lockRelease(object + OBJ_LOCK);
  kernelUnlock();
  if (copy == 0) return -ENFILE;
  objectNotify(object);
  return copy;
}

/** The object id of one of the current owner's handles, or -EBADF. */
export function handleObject(handle: i32): i32 {
  const entry = ownHandle(handle);
  return entry == 0 ? -EBADF : handleEntry(entry).object;
}

/** The end of one of the current owner's handles, or -EBADF. */
export function handleEnd(handle: i32): i32 {
  const entry = ownHandle(handle);
  return entry == 0 ? -EBADF : handleEntry(entry).end;
}

/** The address of the wait cell (seq) of the object behind one of the current owner's handles, or 0. */
export function handleWaitCell(handle: i32): u32 {
  const entry = ownHandle(handle);
  return entry == 0 ? 0 : <u32>objectCell(objectAt(handleEntry(entry).object));
}

/**
 * Reaps a dead owner (a worker that exited or was terminated) and every descendant of it (its own
 * workers, whose threads ended with its thread: see owner.ts), run by its parent: breaks the locks
 * they held, then for each, the deepest first, undoes what it left in objects (copies in flight,
 * semaphore calls and SEM_UNDO adjustments: kinds.ts), closes its handles (readers then see EOF,
 * writers EPIPE), frees its slot. The number of handles this call closed, -EINVAL (not an owner,
 * or the caller's own subtree), or -EINTR (call again: it resumes where it stopped, the owners
 * already freed stay freed).
 */
export function ownerRelease(owner: i32): i32 {
  if (!ownerValid(owner) || owner == currentOwner) return -EINVAL;
  // A dead member of the subtree may hold the kernel lock (a thread ended without being stopped
  // first): break it before taking it. Its holder is read without the lock (see ownerDescends).
  const holder = atomic.load<i32>(hdr(HDR_LOCK)) & 0xffff;
  if (holder == owner || ownerDescends(holder, owner)) lockBreak(hdr(HDR_LOCK), holder);
  if (!kernelLock()) return -EINTR;
  if (ownerDescends(currentOwner, owner)) {
    kernelUnlock();
    return -EINVAL;
  }
  // Every member's object locks before any member is reaped: all their threads are gone, and one
  // member's close may need a lock another one held (cut off inside a section without a stop).
  const objects = objectMax();
  const owners = <i32>kernelHeader().ownersMax;
  for (let member = 1; member <= owners; member++) {
    if (member != owner && !ownerDescends(member, owner)) continue;
    for (let id = 1; id <= objects; id++) lockBreak(objectAt(id) + OBJ_LOCK, member);
  }
  let closed = 0;
  for (;;) {
    // The deepest first: an owner is freed only after its descendants (owner.ts's invariant).
    const below = ownerDeepestDescendant(owner);
    const dead = below != 0 ? below : owner;
    const result = ownerReap(dead);
    if (result < 0) {
      kernelUnlock();
      return result;
    }
    closed += result;
    if (dead == owner) break;
  }
  kernelUnlock();
  return closed;
}

/** ownerRelease for one dead owner without live descendants, its locks broken: the handles it closed, or -EINTR. Kernel lock held. */
function ownerReap(owner: i32): i32 {
  // Copies it left in flight first: its handles cannot close while their ring is marked busy.
  if (!kindOwnerDying(owner)) return -EINTR;
  const handles = <i32>kernelHeader().handlesMax;
  let closed = 0;
  for (let h = 1; h <= handles; h++) {
    const entry = handleAt(h);
    if (handleEntry(entry).owner != owner) continue;
    if (!handleRelease(entry)) return -EINTR;
    closed++;
  }
  ownerFree(owner);
  return closed;
}
