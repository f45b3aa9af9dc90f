// The owner table: one entry per thread that holds handles (the thread that made the kernel is
// owner 1; each spawned worker gets one). Owner ids are index + 1, so 0 means "nobody".
//
// Owner entry (OWNER_BYTES):
//
//   +0  ┌─────────────────────┐
//       │ i32 state           │ 0 free, OWNER_LIVE
//   +4  │ u32 scratch ptr     │ the owner's scratch buffer in the heap: read/write chunks and
//   +8  │ u32 scratch bytes   │ paths pass through it, so threads never share a buffer
//   +12 │ u32 uid             │ the emulated identity permission checks use (ipc_perm,
//   +16 │ u32 gid             │ mode bits); uid 0 passes every check, as root does
//   +20 │ u32 pid             │ the emulated process id (SO_PEERCRED, GETPID, lpid): the host's
//       │                     │ pid for the first thread, a worker's thread id for a child
//   +24 │ u32 held ptr        │ a POSIX message taken by this owner's receive and not yet
//   +28 │ u32 held bytes      │ released: freed with the owner if its thread dies in between
//   +32 │ i32 locks           │ kernel locks this owner holds or is spinning for (lock.ts)
//   +36 │ i32 stopping        │ 1 once its parent is about to terminate it: it takes no lock
//   +40 └─────────────────────┘    any more (ownerStop says why)
import { alloc, free } from './alloc';
import { EAGAIN, EINTR, EINVAL, ENOMEM } from './errno';
import { currentOwner, kernelHeader, kernelLock, kernelUnlock } from './kernel';

/** An owner entry (the diagram above); the compiler owns the offsets. */
@unmanaged export class OwnerEntry {
  state: i32;
  scratch: u32;
  scratchBytes: u32;
  uid: u32;
  gid: u32;
  pid: u32;
  held: u32;
  heldBytes: u32;
  locks: i32;
  stopping: i32;
}

export const OWNER_BYTES: u32 = offsetof<OwnerEntry>();
/** Fields other threads change at any time (atomics take addresses). */
export const OWNER_LOCKS: u32 = offsetof<OwnerEntry>('locks');
export const OWNER_STOPPING: u32 = offsetof<OwnerEntry>('stopping');
export const OWNER_LIVE: i32 = 1;
/** Scratch buffer of each owner: the largest chunk one read or write call moves. */
export const SCRATCH_BYTES: u32 = 65536;
/** Entries in the owner table: live threads (and workers starting) at once. */
export const OWNERS_MAX: u32 = 1024;

/** The entry at `at` as a record. */
@inline export function ownerEntry(at: usize): OwnerEntry {
  return changetype<OwnerEntry>(at);
}

@inline export function ownerAt(owner: i32): usize {
  return <usize>kernelHeader().owners + <usize>(owner - 1) * OWNER_BYTES;
}

export function ownerValid(owner: i32): bool {
  return owner >= 1 && <u32>owner <= kernelHeader().ownersMax && ownerEntry(ownerAt(owner)).state == OWNER_LIVE;
}

/** A new owner with a scratch buffer of `scratchBytes`: its id, or -EAGAIN / -ENOMEM / -EINTR. */
export function ownerCreate(scratchBytes: u32): i32 {
  if (!kernelLock()) return -EINTR;
  const max = kernelHeader().ownersMax;
  let result: i32 = -EAGAIN;
  for (let i: u32 = 0; i < max; i++) {
    const entry = <usize>kernelHeader().owners + <usize>i * OWNER_BYTES;
    if (ownerEntry(entry).state != 0) continue;
    const scratch = alloc(scratchBytes);
    if (scratch == 0) {
      result = -ENOMEM;
      break;
    }
    ownerEntry(entry).scratch = <u32>scratch;
    ownerEntry(entry).scratchBytes = scratchBytes;
    ownerEntry(entry).uid = 0;
    ownerEntry(entry).gid = 0;
    ownerEntry(entry).pid = 0;
    ownerEntry(entry).held = 0;
    ownerEntry(entry).heldBytes = 0;
    atomic.store<i32>(entry + OWNER_LOCKS, 0);
    atomic.store<i32>(entry + OWNER_STOPPING, 0);
    ownerEntry(entry).state = OWNER_LIVE;
    result = <i32>i + 1;
    break;
  }
  kernelUnlock();
  return result;
}

/** Frees the owner's slot and scratch. Caller holds the kernel lock and closed its handles. */
export function ownerFree(owner: i32): void {
  const entry = ownerAt(owner);
  free(<usize>ownerEntry(entry).scratch, ownerEntry(entry).scratchBytes);
  ownerEntry(entry).scratch = 0;
  ownerEntry(entry).scratchBytes = 0;
  ownerDropHeld(owner);
  ownerEntry(entry).state = 0;
}

/** Frees the message block `owner` holds (see OWNER_HELD), if any. Kernel lock held. */
export function ownerDropHeld(owner: i32): void {
  const entry = ownerAt(owner);
  free(<usize>ownerEntry(entry).held, ownerEntry(entry).heldBytes);
  ownerEntry(entry).held = 0;
  ownerEntry(entry).heldBytes = 0;
}

/** Makes `block` (of `bytes`) the message block `owner` holds, freeing the one it held before. Kernel lock held. */
export function ownerHold(owner: i32, block: usize, bytes: u32): void {
  ownerDropHeld(owner);
  ownerEntry(ownerAt(owner)).held = <u32>block;
  ownerEntry(ownerAt(owner)).heldBytes = bytes;
}

/** The message block `owner` holds (0 if none), which it no longer holds. Kernel lock held. */
export function ownerTakeHeld(owner: i32): usize {
  const entry = ownerAt(owner);
  const block = <usize>ownerEntry(entry).held;
  ownerEntry(entry).held = 0;
  ownerEntry(entry).heldBytes = 0;
  return block;
}

/** The emulated process id of the current owner (0 before attach). */
export function currentPid(): u32 {
  return currentOwner == 0 ? 0 : ownerEntry(ownerAt(currentOwner)).pid;
}

/** Sets the identity of `owner` (before its worker starts): 0, or -EINVAL for an unknown owner. */
export function ownerSetIdentity(owner: i32, uid: u32, gid: u32): i32 {
  if (!ownerValid(owner)) return -EINVAL;
  ownerEntry(ownerAt(owner)).uid = uid;
  ownerEntry(ownerAt(owner)).gid = gid;
  return 0;
}

/** The emulated user id of `owner` (a valid one). */
export function ownerUid(owner: i32): u32 {
  return ownerEntry(ownerAt(owner)).uid;
}

/** The emulated group id of `owner` (a valid one). */
export function ownerGid(owner: i32): u32 {
  return ownerEntry(ownerAt(owner)).gid;
}

/** Sets the emulated pid of `owner`: 0, or -EINVAL for an unknown owner. */
export function ownerSetPid(owner: i32, pid: u32): i32 {
  if (!ownerValid(owner)) return -EINVAL;
  ownerEntry(ownerAt(owner)).pid = pid;
  return 0;
}

/**
 * Gives the current owner a scratch buffer of at least `bytes` (a datagram up to the socket
 * buffer's size passes through it whole): its address, or -ENOMEM (the old one stays) / -EINTR.
 */
export function ownerGrowScratch(owner: i32, bytes: u32): i32 {
  if (!ownerValid(owner)) return -EINVAL;
  const entry = ownerAt(owner);
  const old = ownerEntry(entry).scratchBytes;
  if (bytes <= old) return <i32>ownerEntry(entry).scratch;
  if (!kernelLock()) return -EINTR;
  const scratch = alloc(bytes);
  if (scratch != 0) {
    free(<usize>ownerEntry(entry).scratch, old);
    ownerEntry(entry).scratch = <u32>scratch;
    ownerEntry(entry).scratchBytes = bytes;
  }
  kernelUnlock();
  return scratch == 0 ? -ENOMEM : <i32>scratch;
}

/** The pid of `owner` (a valid one): the host's pid for the first thread, a worker's threadId. */
export function ownerPid(owner: i32): i32 {
  return owner == 0 ? 0 : <i32>ownerEntry(ownerAt(owner)).pid;
}

/**
 * Marks `owner` as about to be terminated, and returns how many kernel locks it holds or is
 * spinning for (0: terminating it now cannot interrupt a critical section), or -EINVAL.
 *
 * Why: a worker's thread can be terminated at any wasm function entry or loop back-edge, and a
 * critical section cut in half leaves a list, a ring or a free list half updated; breaking the
 * dead owner's lock would then hand that state to the next caller (a message linked twice, a
 * block both queued and free: the duplicate delivery of issue 10). So the parent calls this,
 * then terminates the worker only once this returns 0. From the store below on, lockAcquire of
 * `owner` fails at once (the thread only sees -EINTR, "call again"), and the count drops to 0 as
 * soon as the sections in progress end, which is bounded (a section never waits, and a spin for a
 * lock gives up after LOCK_SPINS). The count is raised before `stopping` is read (lock.ts), and
 * `stopping` stored before the count is read here, all sequentially consistent: either the thread
 * sees `stopping`, or this sees its count.
 */
export function ownerStop(owner: i32): i32 {
  if (!ownerValid(owner) || owner == currentOwner) return -EINVAL;
  const entry = ownerAt(owner);
  atomic.store<i32>(entry + OWNER_STOPPING, 1);
  return atomic.load<i32>(entry + OWNER_LOCKS);
}
