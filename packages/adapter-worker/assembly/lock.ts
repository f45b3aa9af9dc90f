// A robust spinlock, one 32-bit word per structure.
//
//   ┌──────────────────────────────┐
//   │ i32 holder: 0 free, else the │   the owner id (see owner.ts) of the thread that holds it,
//   │ owner id of the holder       │   so the lock of a worker that was terminated inside a
//   └──────────────────────────────┘   critical section can be broken when it is reaped.
//
// Why a spinlock: critical sections are short (at most one memcpy of a write or read chunk), and
// `atomic.wait` traps on a browser's main thread, so sleeping inside wasm is not an option. Why
// bounded: a worker can be terminated (Worker.terminate) while it holds a lock; the thread that
// reaps it (its parent, on the worker's 'exit' event) must get to run, so after LOCK_SPINS tries the
// entry point gives up with -EINTR and the TypeScript side calls again from a later task.

// Each owner counts the locks it holds or is spinning for (OWNER_LOCKS in owner.ts), and takes
// none once its parent has marked it stopping: the parent terminates a worker only when it holds
// none, so termination never cuts a critical section in half (ownerStop says why that matters).
// The lock word itself stays one i32: the count lives with the owner, found from the holder id.
import { OWNER_LOCKS, OWNER_STOPPING, ownerAt } from './owner';

/** Tries before an entry point gives up with -EINTR ("call again"). */
export const LOCK_SPINS: i32 = 1 << 18;

/** Takes the lock at `at` for `owner`; false after LOCK_SPINS failed tries. */
export function lockAcquire(at: usize, owner: i32): bool {
  // Owner 0 is kernel_init's setup instance, before any owner exists: nobody can stop it.
  const entry: usize = owner > 0 ? ownerAt(owner) : 0;
  if (entry != 0) {
    // Count first, then look at `stopping`: the parent stores `stopping` first, then reads the
    // count (ownerStop), so one of the two sees the other.
    atomic.add<i32>(entry + OWNER_LOCKS, 1);
    if (atomic.load<i32>(entry + OWNER_STOPPING) != 0) {
      atomic.sub<i32>(entry + OWNER_LOCKS, 1);
      return false;
    }
  }
  for (let i = 0; i < LOCK_SPINS; i++) {
    // A plain load first keeps the cache line shared while another thread holds it.
    if (atomic.load<i32>(at) == 0 && atomic.cmpxchg<i32>(at, 0, owner) == 0) return true;
  }
  if (entry != 0) atomic.sub<i32>(entry + OWNER_LOCKS, 1);
  return false;
}

/** Releases the lock at `at`. The store publishes every write made inside the section; then the holder's count drops. */
export function lockRelease(at: usize): void {
  const holder = atomic.load<i32>(at);
  atomic.store<i32>(at, 0);
  if (holder > 0) atomic.sub<i32>(ownerAt(holder) + OWNER_LOCKS, 1);
}

/** Breaks the lock at `at` if the (dead) `owner` holds it. */
export function lockBreak(at: usize, owner: i32): void {
  atomic.cmpxchg<i32>(at, owner, 0);
}
