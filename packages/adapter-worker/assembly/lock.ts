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

/** Tries before an entry point gives up with -EINTR ("call again"). */
export const LOCK_SPINS: i32 = 1 << 18;

/** Takes the lock at `at` for `owner`; false after LOCK_SPINS failed tries. */
export function lockAcquire(at: usize, owner: i32): bool {
  for (let i = 0; i < LOCK_SPINS; i++) {
    // A plain load first keeps the cache line shared while another thread holds it.
    if (atomic.load<i32>(at) == 0 && atomic.cmpxchg<i32>(at, 0, owner) == 0) return true;
  }
  return false;
}

/** Releases the lock at `at`. The store publishes every write made inside the section. */
export function lockRelease(at: usize): void {
  atomic.store<i32>(at, 0);
}

/** Breaks the lock at `at` if the (dead) `owner` holds it. */
export function lockBreak(at: usize, owner: i32): void {
  atomic.cmpxchg<i32>(at, owner, 0);
}
