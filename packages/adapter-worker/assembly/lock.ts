// A robust futex-style lock, one 32-bit word per structure.
//
//   ┌──────────────────────────────┐
//   │ bits 0-15: holder            │   0 free, else the owner id (see owner.ts) of the thread that
//   │                              │   holds it, so the lock of a worker that was terminated inside
//   │                              │   a critical section can be broken when it is reaped;
//   │ bits 16-30: sleepers         │   how many threads sleep (or are about to sleep) on the word,
//   └──────────────────────────────┘   so that an unlock notifies only when someone sleeps.
//
// Acquiring: spin LOCK_SPINS loads (critical sections are short: a list update or one memcpy of
// a read or write chunk, well under a µs to a few µs), then, on a thread that may block, sleep in
// `atomic.wait` on the word, counted in its sleepers, in slices of LOCK_SLEEP_NS up to
// LOCK_SLEEPS of them. Sleeping gives the CPU to the holder when the host preempted it inside its
// section (two CPUs, many threads), where the old pure spin of 2^18 loads burnt 30-50 ms per try
// under load and kept the holder from running. A thread that may not sleep spins longer
// (LOCK_SPINS_AWAKE), then gives up.
//
// Who may sleep: only a thread the TypeScript side marked (`lock_may_sleep`, a child worker: a
// Node worker thread or a browser's Web Worker). `atomic.wait` traps on a browser page's main
// thread, and the thread that made the kernel (Node's main thread, a page) runs the event loop
// that reaps terminated children: there a failed spin returns false and the caller answers
// -EINTR ("call again"), whose retry (`Kernel.call` / `Kernel.callAsync`) sleeps or lets tasks run.
//
// Why bounded even where it sleeps: a worker can be terminated (Worker.terminate) while it holds a
// lock, and only its parent's event loop reaps it and breaks the lock (lockBreak, which wakes a
// sleeper). If the parent is itself a worker asleep here, it must get back to its event loop: after
// LOCK_SLEEPS slices the entry point gives up with -EINTR. Each slice also looks at this owner's
// `stopping` flag, so a parent waiting to terminate it (ownerStop) waits at most one slice.
//
// Each owner counts the locks it holds or is waiting for (OWNER_LOCKS in owner.ts), and takes
// none once its parent has marked it stopping: the parent terminates a worker only when it holds
// none, so termination never cuts a critical section in half (ownerStop says why that matters).
import { OWNER_LOCKS, OWNER_STOPPING, ownerAt } from './owner';

/**
 * Loads of the word before a thread that may sleep starts sleeping: from well under a µs (the
 * line not contended) to ~40 µs (one load cost ~0.15 µs with 8 threads contending on this
 * machine's 2 vCPUs: 2^18 of them took 30-50 ms). With 8 workers contending for one semaphore
 * set, 2^6 to 2^13 made no difference beyond the noise at load 6-8 (docs/BENCHMARKS.md, "The
 * worker kernel's lock"); the sleep is what pays: 2.5-4x faster than the old pure spin at load 10.
 */
export const LOCK_SPINS: i32 = 1 << 8;
/**
 * Loads before a thread that may not sleep gives up (-EINTR): 2^16, a few ms when the line is
 * contended. Its retry from TypeScript is coarse (a timer on the thread that reaps the others), so
 * a short spin there lost every race to the workers that sleep and are woken at each unlock: with
 * 8 workers hammering the kernel lock, the reaper of a terminated one starved (the delivery test
 * of a datagram socket ran past its 2 minutes).
 */
export const LOCK_SPINS_AWAKE: i32 = 1 << 16;
/** One sleep slice (1 ms): after each the sleeper looks at its `stopping` flag again. */
export const LOCK_SLEEP_NS: i64 = 1_000_000;
/**
 * Sleeps (a slice that timed out, or a wake-up that found the lock taken again) before a sleeping
 * acquire gives up with -EINTR: at most ~32 ms, the holder may need this thread's event loop to be reaped.
 */
export const LOCK_SLEEPS: i32 = 32;

/** The holder's bits of the word. */
const HOLDER_MASK: i32 = 0xffff;
/** One sleeper in the word. */
const SLEEPER: i32 = 1 << 16;

/** Whether this thread (this instance: wasm globals are per instance) may sleep in `atomic.wait`. */
let maySleep = false;

/** Lets this thread sleep on a lock (a worker's thread; never a page's main thread). See the top of this file. */
export function lockMaySleep(allowed: i32): void {
  maySleep = allowed != 0;
}

/** Takes the lock at `at` for `owner`; false after the bounded spin (and sleep) failed. */
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
  const spins = maySleep ? LOCK_SPINS : LOCK_SPINS_AWAKE;
  for (let i = 0; i < spins; i++) {
    // A plain load first keeps the cache line shared while another thread holds it.
    const word = atomic.load<i32>(at);
    if ((word & HOLDER_MASK) == 0 && atomic.cmpxchg<i32>(at, word, word | owner) == word) return true;
  }
  if (maySleep && lockSleep(at, owner, entry)) return true;
  if (entry != 0) atomic.sub<i32>(entry + OWNER_LOCKS, 1);
  return false;
}

/** The sleeping part of lockAcquire: true once it took the lock, false after LOCK_SLEEPS slices or when stopping. */
function lockSleep(at: usize, owner: i32, entry: usize): bool {
  // Counted in before the word is compared (inside atomic.wait): an unlock after this add sees it.
  atomic.add<i32>(at, SLEEPER);
  for (let slice = 0; slice < LOCK_SLEEPS; ) {
    const word = atomic.load<i32>(at);
    if ((word & HOLDER_MASK) == 0) {
      // Taking it takes this sleeper out of the count in the same step.
      if (atomic.cmpxchg<i32>(at, word, (word - SLEEPER) | owner) == word) return true;
      continue;
    }
    if (entry != 0 && atomic.load<i32>(entry + OWNER_STOPPING) != 0) break;
    // Returns at once if the word changed since the load (an unlock, another sleeper counted in).
    // 1: not-equal (the word changed since the load), not a sleep; 0 woken, 2 timed out.
    if (atomic.wait<i32>(at, word, LOCK_SLEEP_NS) != 1) slice++;
  }
  const before = atomic.sub<i32>(at, SLEEPER);
  // A wake-up meant for this thread may have come as it gave up: pass it on.
  if ((before & HOLDER_MASK) == 0 && before >>> 16 > 1) atomic.notify(at, 1);
  return false;
}

/** Releases the lock at `at`: publishes every write made inside the section, wakes one sleeper if any, then the holder's count drops. */
export function lockRelease(at: usize): void {
  const before = atomic.and<i32>(at, ~HOLDER_MASK);
  if (before >>> 16 != 0) atomic.notify(at, 1);
  const holder = before & HOLDER_MASK;
  if (holder > 0) atomic.sub<i32>(ownerAt(holder) + OWNER_LOCKS, 1);
}

/** Breaks the lock at `at` if the (dead) `owner` holds it, and wakes a sleeper. */
export function lockBreak(at: usize, owner: i32): void {
  for (;;) {
    const word = atomic.load<i32>(at);
    if ((word & HOLDER_MASK) != owner) return;
    if (atomic.cmpxchg<i32>(at, word, word & ~HOLDER_MASK) == word) {
      if (word >>> 16 != 0) atomic.notify(at, 1);
      return;
    }
  }
}
