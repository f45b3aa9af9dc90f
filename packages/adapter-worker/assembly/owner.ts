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
//       │                     │ any more (ownerStop says why)
//   +40 │ i32 parent          │ the owner that created this one (the thread that spawned the
//       │                     │ worker), 0 for the first thread
//   +44 │ i32 children        │ live owners whose parent this is
//   +48 │ u32 serial          │ creation number (the header's owner serial): a reused slot's
//   +52 └─────────────────────┘    owners differ in it (a browser child's Web Lock is named by it)
//
// Why the parent: a worker's own workers (grandchildren of the thread that spawned it) end with
// it. Node terminates them with its thread, a browser with its context, and nothing of theirs
// runs afterwards, so their own parent's reaper (process.ts, in the worker's event loop) never
// runs either. As on Linux, where a dead process's descriptors and locks are released whatever
// its parent does, whoever reaps the worker reaps its whole subtree (ownerRelease in handle.ts),
// and whoever stops it stops the subtree (ownerStop): so a descendant is never cut off inside a
// critical section, and what it held (handles, file locks, SEM_UNDO, queued calls, its slot) is
// released once its thread is gone. Invariant: a live owner's parent is live (or 0): an owner is
// freed only after its descendants (ownerRelease frees the deepest first), and `children` counts
// them, so a stopper can tell without the kernel lock that an owner has none.
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
  parent: i32;
  children: i32;
  serial: u32;
}

export const OWNER_BYTES: u32 = offsetof<OwnerEntry>();
/** Fields other threads change at any time (atomics take addresses). */
export const OWNER_LOCKS: u32 = offsetof<OwnerEntry>('locks');
export const OWNER_STOPPING: u32 = offsetof<OwnerEntry>('stopping');
/** Read without the kernel lock by stoppers (ownerStop), so stored with atomics. */
const OWNER_STATE: u32 = offsetof<OwnerEntry>('state');
const OWNER_CHILDREN: u32 = offsetof<OwnerEntry>('children');
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
    // The creating thread is the parent (the TypeScript side creates a child's owner in the
    // spawning thread); owner 0, kernel_init's setup instance, makes the first thread's.
    ownerEntry(entry).parent = currentOwner;
    atomic.store<i32>(entry + OWNER_CHILDREN, 0);
    // Kept positive as an i32 (ownerSerial returns it beside -errno answers).
    const last = kernelHeader().ownerSerial;
    const serial: u32 = last >= 0x7fffffff ? 1 : last + 1;
    kernelHeader().ownerSerial = serial;
    ownerEntry(entry).serial = serial;
    if (currentOwner != 0) atomic.add<i32>(ownerAt(currentOwner) + OWNER_CHILDREN, 1);
    atomic.store<i32>(entry + OWNER_STATE, OWNER_LIVE);
    result = <i32>i + 1;
    break;
  }
  kernelUnlock();
  return result;
}

/** Frees the owner's slot and scratch. Caller holds the kernel lock, freed its descendants and closed its handles. */
export function ownerFree(owner: i32): void {
  const entry = ownerAt(owner);
  free(<usize>ownerEntry(entry).scratch, ownerEntry(entry).scratchBytes);
  ownerEntry(entry).scratch = 0;
  ownerEntry(entry).scratchBytes = 0;
  ownerDropHeld(owner);
  const parent = ownerEntry(entry).parent;
  if (parent != 0) atomic.sub<i32>(ownerAt(parent) + OWNER_CHILDREN, 1);
  atomic.store<i32>(entry + OWNER_STATE, 0);
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
 * Marks `owner` and every descendant of it as about to be terminated, and returns how many kernel
 * locks they hold or are spinning for (0: terminating its thread now, which ends the descendants'
 * threads too, cannot interrupt a critical section), -EINVAL, or -EINTR (the kernel lock was busy:
 * call again; `owner` itself is marked already).
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
 *
 * Descendants (the worker's own workers, which its host ends with it): marked under the kernel
 * lock, which every owner creation holds, so none is missed and, marked, none can create another.
 * Without children (the usual case) no kernel lock is needed: the count is read before `children`,
 * so a creation `owner` had under way when it was marked either shows in the count (call again)
 * or had finished, its child counted, before the count was read.
 */
export function ownerStop(owner: i32): i32 {
  if (!ownerValid(owner) || owner == currentOwner) return -EINVAL;
  const entry = ownerAt(owner);
  atomic.store<i32>(entry + OWNER_STOPPING, 1);
  const locks = atomic.load<i32>(entry + OWNER_LOCKS);
  if (atomic.load<i32>(entry + OWNER_CHILDREN) == 0) return locks;
  if (!kernelLock()) return -EINTR;
  const below = stopDescendantsLocked(owner);
  kernelUnlock();
  return locks + below;
}

/**
 * Marks every descendant of the current owner as about to be terminated (not the current owner
 * itself): how many kernel locks they hold or spin for (0: this thread may end now, which ends
 * theirs), or -EINTR (call again). A worker calls it as it ends by itself (its main returned or
 * threw, `process.exit`): its host then terminates its own workers with it, and they must not be
 * cut off inside a critical section (see ownerStop). -EINTR also while this owner is itself being
 * stopped: its stopper marks the whole subtree and waits for these same counts before it
 * terminates the thread, so this thread must not end (and end the descendants) before that.
 */
export function ownerStopDescendants(): i32 {
  if (currentOwner == 0) return -EINVAL;
  if (atomic.load<i32>(ownerAt(currentOwner) + OWNER_CHILDREN) == 0) return 0;
  if (!kernelLock()) return -EINTR;
  const locks = stopDescendantsLocked(currentOwner);
  kernelUnlock();
  return locks;
}

/** Marks every live descendant of `root` stopping; the sum of their lock counts. Kernel lock held. */
function stopDescendantsLocked(root: i32): i32 {
  const max = <i32>kernelHeader().ownersMax;
  let locks = 0;
  for (let owner = 1; owner <= max; owner++) {
    if (!ownerDescends(owner, root)) continue;
    const entry = ownerAt(owner);
    atomic.store<i32>(entry + OWNER_STOPPING, 1);
    locks += atomic.load<i32>(entry + OWNER_LOCKS);
  }
  return locks;
}

/**
 * True if `owner` is live and `root` is one of its ancestors (not `owner` itself). Exact under the
 * kernel lock; without it (ownerRelease's look at who holds the kernel lock) every step must be a
 * live entry, and parents never change while live, so an answer can only be wrong for an entry
 * created or freed during the walk, never one naming `root`'s live subtree.
 */
export function ownerDescends(owner: i32, root: i32): bool {
  const max = <i32>kernelHeader().ownersMax;
  if (owner < 1 || owner > max || owner == root) return false;
  let at = owner;
  // Bounded: a chain is at most as long as the table.
  for (let steps = 0; steps < max; steps++) {
    if (atomic.load<i32>(ownerAt(at) + OWNER_STATE) != OWNER_LIVE) return false;
    const parent = ownerEntry(ownerAt(at)).parent;
    if (parent == root) return true;
    if (parent < 1 || parent > max) return false;
    at = parent;
  }
  return false;
}

/** A live descendant of `root` that has none of its own (the deepest first), or 0. Kernel lock held. */
export function ownerDeepestDescendant(root: i32): i32 {
  const max = <i32>kernelHeader().ownersMax;
  for (let owner = 1; owner <= max; owner++) {
    if (atomic.load<i32>(ownerAt(owner) + OWNER_CHILDREN) == 0 && ownerDescends(owner, root)) return owner;
  }
  return 0;
}

/**
 * The first live descendant of `root` after owner id `after` (0 to start), 0 when there is none,
 * -EINVAL, or -EINTR (call again). For a reaper that must learn from its host that the
 * descendants' threads are gone before it reaps them (a browser's Web Workers end with their
 * parent's context, but not at once); `root` is stopped first, so the set cannot grow.
 */
export function ownerNextDescendant(root: i32, after: i32): i32 {
  if (!ownerValid(root)) return -EINVAL;
  if (!kernelLock()) return -EINTR;
  const last = <i32>kernelHeader().ownersMax;
  let found = 0;
  for (let owner = (after > 0 ? after : 0) + 1; owner <= last; owner++) {
    if (ownerDescends(owner, root)) {
      found = owner;
      break;
    }
  }
  kernelUnlock();
  return found;
}

/** The creation number of `owner` (see the diagram, 1 to 2^31 - 1), or -EINVAL. */
export function ownerSerial(owner: i32): i32 {
  return ownerValid(owner) ? <i32>ownerEntry(ownerAt(owner)).serial : -EINVAL;
}
