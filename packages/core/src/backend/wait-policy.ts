/**
 * The one spin-then-park policy of every backend: how long an operation that cannot complete now
 * retries (spins) before it parks, and when it gives the CPU away instead.
 *
 * Why spin at all: waking a parked waiter costs tens of µs (native: a waiter thread's or libuv's
 * hop, then the event loop's; worker: `Atomics.waitAsync`'s task), while a peer in a tight exchange
 * that is itself spinning answers within a few µs. Why not always: a spin that cannot catch the
 * peer only burns CPU, and when the CPU is oversubscribed (other load, or both ends packed on one
 * CPU) it burns the very CPU the peer needs to answer.
 *
 * The policy is a pure function of what the adapter passes in: the clock, the yield (how the host
 * hands the CPU to another thread between attempts) and the attempt. Each adapter keeps only how it
 * parks. It learns per handle and direction:
 * - the window: after a catch at `t`, max(MAX_SPIN_MS, 2t) (at most LONG_SPIN_MS); after a miss it
 *   halves, and a park that the peer ended `t` after the operation began (with `t` within
 *   LONG_SPIN_MS) sets it to 1.5t, enough to catch the peer's next answer at that pace ("both
 *   parked" otherwise never ends: neither side's short window covers the other's wake-up);
 * - switched off below MIN_SPIN_MS, after MISSES_TO_STOP misses in a row, or when the peer was
 *   starved (a park that ended within STARVED_PEER_MS of the spin giving up: the peer could only
 *   run once this side stopped spinning); while off, operations park at once and every PROBE_EVERY-th
 *   one probes with MAX_SPIN_MS;
 * - oversubscription (see {@link SpinWindow.oversubscribed}): a look at the clock that finds far more
 *   time gone than the attempts since the last look can take means this thread was preempted, so
 *   some other thread wanted this CPU, possibly the peer. Spinning then only delays the peer: for
 *   the next CALM_SPINS operations (renewed by every preemption seen) the host's hand-off runs after
 *   every failed attempt (it gives the CPU away until the peer answers), or, for a host without
 *   one, the operation parks at once.
 */

/** What an attempt returns when the operation would still have to wait. */
export const WOULD_BLOCK: unique symbol = Symbol('ipcx.wouldBlock');

/**
 * The usual spin window, in milliseconds (20 µs): a peer in a tight exchange that is itself
 * spinning answers within a few µs (measured: 3-6 µs round trips), so this covers it with room for
 * a preemption. It is also the probe's window.
 */
export const MAX_SPIN_MS = 0.02;
/**
 * The longest a window may grow, in milliseconds (120 µs): to cover a peer that was itself parked.
 * Waking a parked peer costs 40-130 µs (native), so a 20 µs window never catches it: both sides
 * then spin in vain and park on every message ("both parked", measured 50-70 µs round trips). One
 * window that covers the peer's measured answer catches it, and the exchange goes on without
 * parking. Capped so that an idle or slow peer costs at most this once.
 */
export const LONG_SPIN_MS = 0.12;
/** Below this window spinning is switched off. */
export const MIN_SPIN_MS = 0.0025;
/** While switched off, every PROBE_EVERY-th operation probes with MAX_SPIN_MS; the others park at once. */
export const PROBE_EVERY = 16;
/** After this many spins in a row that caught nothing, spinning is switched off (then probed). */
export const MISSES_TO_STOP = 4;
/**
 * A parked operation that completed less than this (10 µs) after its spin gave up was most likely
 * answered by a peer that could not run while this side spun (both on one CPU): switch off.
 */
export const STARVED_PEER_MS = 0.01;
/**
 * A gap of more than this (50 µs) between two looks at the clock of one spin, with at most
 * `attemptsPerClock` attempts between them, is a preemption: no attempt takes that long, but a
 * time slice of another thread does (CFS gives ≥ 0.75 ms). Shorter gaps are an interrupt or a slow
 * system call.
 */
export const PREEMPTED_MS = 0.05;
/**
 * After a preemption, this many operations hand the CPU off (or park at once) before a spin may
 * look again: one busy loop beside a ping-pong preempts a spin every few operations.
 */
export const CALM_SPINS = 64;
/**
 * Each probe that is preempted again doubles the next hand-off period, up to this many operations:
 * under heavy load (tens of runnable threads per CPU) one preemption costs a whole round of the
 * run queue (measured: milliseconds at load 20-60), so probes must become rare. A spin that sees
 * no preemption resets it to CALM_SPINS.
 */
export const MAX_CALM_SPINS = 8192;

/** What a backend passes in: its clock and how it hands the CPU over. */
export interface WaitPolicyHost {
  /** A monotonic clock in milliseconds (`performance.now`). */
  now(): number;
  /**
   * Gives the CPU to another runnable thread and returns at once (native: `sched_yield()`): the
   * spin calls it every `yieldEveryMs` while not oversubscribed, so that a peer sharing this CPU
   * answers within the spin. A call that took long (another thread ran) counts as a preemption.
   */
  yieldCpu?: () => void;
  /**
   * The hand-off while oversubscribed: called after every failed attempt, gives this thread's CPU
   * away and returns by `untilMs` (the host's clock) at the latest, at once when the peer answers
   * (a worker sleeps on the object's wait cell with `Atomics.wait`: the peer's change wakes it
   * directly). Absent: the operation parks at once while oversubscribed (measured on the native
   * backend, where a `sched_yield` spin under load was 5-20x slower than parking at once).
   */
  handOff?: (untilMs: number) => void;
  /**
   * With a `handOff`: also when calm, a spin that has not caught within this many ms hands off for
   * the rest of its window (default: never). For a host whose park is slow to wake (a worker's
   * `Atomics.waitAsync` is a task of the event loop: tens of µs in Node, ~50-100 µs in Chromium)
   * while its hand-off wakes in a few: the window then covers a parked peer's answer without
   * burning the CPU, and the exchange does not settle into "both parked".
   */
  handOffAfterMs?: number;
  /**
   * How many attempts run between two looks at the clock (default 1). An attempt that is a memory
   * load (a shared cell) costs far less than the clock; a system call costs more.
   */
  attemptsPerClock?: number;
  /**
   * When not oversubscribed, the spin yields at most this often (ms; default: never). An attempt
   * that is a system call gains from yielding now and then: a peer that shares this CPU runs
   * within the spin.
   */
  yieldEveryMs?: number;
  /**
   * The gap between two looks at the clock (with no hand-off in it) that counts as a preemption,
   * in ms (default PREEMPTED_MS). A host whose peer answers on this CPU in less than that (a
   * native peer's turn is ~10-20 µs) sets it lower, or a spin that only catches because the
   * peer ran while it was preempted never notices that it shares the peer's CPU.
   */
  preemptedMs?: number;
}

/** A yield that returned later than this (ms) gave a whole time slice to another thread: a peer's turn takes a few µs. */
export const LONG_YIELD_MS = 0.1;
/** Yields per verdict of a {@link YieldGate}: fewer than LONG_YIELDS_TO_PAUSE long ones among them reset its pause. */
export const YIELD_WINDOW = 64;
/** Long yields within one window that pause a {@link YieldGate}. */
export const LONG_YIELDS_TO_PAUSE = 4;
/** A {@link YieldGate}'s first pause (ms), doubled by each pause that follows without a calm window, up to MAX_YIELD_PAUSE_MS. */
export const YIELD_PAUSE_MS = 20;
export const MAX_YIELD_PAUSE_MS = 5000;

/**
 * Decides from measurement whether a host's yield (`sched_yield`) still pays, for a
 * {@link WaitPolicyHost.yieldCpu}: each yield is timed; one that returned after more than
 * LONG_YIELD_MS gave a time slice to some other thread (on an oversubscribed CPU every spin that
 * yields then loses a round of the run queue), one that returned within it ran at most a peer's
 * short turn (the point of yielding). LONG_YIELDS_TO_PAUSE long yields within YIELD_WINDOW pause
 * yielding for YIELD_PAUSE_MS, doubled by each pause that follows without a calm window in between
 * (up to MAX_YIELD_PAUSE_MS); a window with fewer long yields resets the pause. Why not the load
 * average: the spinning ends of an exchange count in it themselves (one busy loop beside a
 * ping-pong on 2 CPUs is load 2-3), so a gate on it stopped the yields exactly where they reach
 * the peer (docs/BENCHMARKS.md, "Session 12").
 */
export class YieldGate {
  /** `now()` before which yields are paused. */
  private pausedUntil = -Infinity;
  private pauseMs = YIELD_PAUSE_MS;
  private windowYields = 0;
  private windowLongYields = 0;

  /** `now`: a monotonic clock in ms; `yieldCpu`: the host's yield, timed around each call. */
  constructor(private readonly host: { now(): number; yieldCpu(): void }) {}

  /** True while yields are paused (for tests and diagnostics). */
  get paused(): boolean {
    return this.host.now() < this.pausedUntil;
  }

  /** Yields (and times it) unless paused. */
  yieldCpu(): void {
    const before = this.host.now();
    if (before < this.pausedUntil) return;
    this.host.yieldCpu();
    const after = this.host.now();
    if (after - before > LONG_YIELD_MS && ++this.windowLongYields >= LONG_YIELDS_TO_PAUSE) {
      this.pausedUntil = after + this.pauseMs;
      this.pauseMs = Math.min(MAX_YIELD_PAUSE_MS, this.pauseMs * 2);
      this.windowYields = 0;
      this.windowLongYields = 0;
    } else if (++this.windowYields >= YIELD_WINDOW) {
      this.pauseMs = YIELD_PAUSE_MS;
      this.windowYields = 0;
      this.windowLongYields = 0;
    }
  }
}

/**
 * The key under which a backend's `SharedSegment` may offer its host's `yieldCpu` (see
 * {@link WaitPolicyHost}), for a layer above that spins on the segment's cells with a
 * {@link SpinWindow} of its own (`@ipcx/multiprocessing`'s ring): the spin then gives the CPU to
 * a peer that shares it, as the backend's own spins do. A backend whose segments offer a hand-off
 * instead (the worker backend: the memory is a `SharedArrayBuffer`, `Atomics.wait` sleeps on it)
 * or no yield leaves it out. A function of no arguments, cheap when nothing else is runnable.
 */
export const segmentYieldSymbol: unique symbol = Symbol.for('ipcx.segmentYield');

/**
 * The adaptive spin of one handle (and one direction). Use: try the operation once; on WOULD_BLOCK
 * call {@link SpinWindow.spin} (or, for a hot path without a closure per operation, {@link SpinWindow.open},
 * then attempt and {@link SpinWindow.tick} until an attempt succeeds, then {@link SpinWindow.caught}); if that still gives
 * WOULD_BLOCK, park, and when the parked operation completes call {@link SpinWindow.parked} with the spin's
 * start time.
 */
export class SpinWindow {
  private windowMs = MAX_SPIN_MS;
  /** While switched off: operations left until the next probe. */
  private offFor = 0;
  private misses = 0;
  /** When the last spin gave up; NaN when the last operation did not spin. */
  private gaveUpAt = Number.NaN;
  /** The current spin's last look at the clock, and when it last yielded. */
  private lastClock = 0;
  private yieldedAt = 0;
  /** Whether the spin handed off (slept on purpose) since its last look at the clock. */
  private yielded = false;
  /** Attempts since the last look at the clock. */
  private sinceClock = 0;
  /** Spins left in hand-off mode (0: not oversubscribed as far as the spins can tell). */
  private handOffSpins = 0;
  /** The next hand-off period (CALM_SPINS, doubled by each preempted probe). */
  private calmSpins = CALM_SPINS;
  /** Whether the current spin saw a preemption. */
  private preempted = false;
  private readonly attemptsPerClock: number;
  private readonly yieldEveryMs: number;
  private handOffAfterMs: number;
  private readonly preemptedMs: number;
  /** When the current spin hands off even if calm (see `WaitPolicyHost.handOffAfterMs`). */
  private handOffFrom = Infinity;

  constructor(private readonly host: WaitPolicyHost) {
    this.attemptsPerClock = Math.max(1, host.attemptsPerClock ?? 1);
    this.yieldEveryMs = host.yieldEveryMs ?? Infinity;
    this.handOffAfterMs = host.handOff === undefined ? Infinity : (host.handOffAfterMs ?? Infinity);
    this.preemptedMs = host.preemptedMs ?? PREEMPTED_MS;
  }

  /** True while spins have recently been preempted (and so hand the CPU off between attempts). */
  get oversubscribed(): boolean {
    return this.handOffSpins > 0;
  }

  /**
   * True when the next {@link SpinWindow.open} will say "park at once" (spinning switched off and
   * this is no probe, or oversubscribed without a hand-off). A host whose park learns of
   * readiness by itself (a descriptor polled by the event loop) may then skip its first attempt,
   * which would only fail: the peer needs this CPU to answer. It still calls `open`.
   */
  get parksNext(): boolean {
    return (this.windowMs === 0 && this.offFor > 1) || (this.handOffSpins > 0 && this.host.handOff === undefined);
  }

  /**
   * Moves the calm hand-off point (`WaitPolicyHost.handOffAfterMs`) for the spins opened from now
   * on: a host that learns how long its peer takes to answer sets it so that a calm spin covers
   * that answer before it sleeps (see the worker backend's `CellSpin`). Ignored without a `handOff`.
   */
  setHandOffAfter(ms: number): void {
    if (this.host.handOff !== undefined) this.handOffAfterMs = ms;
  }

  /** The current window in ms (0 while switched off). For tests and diagnostics. */
  get window(): number {
    return this.windowMs;
  }

  /**
   * Retries `attempt` until it returns something other than WOULD_BLOCK or the window (at most
   * `limitMs`, e.g. what is left of a timeout) closes. Synchronous: it holds the calling thread for
   * at most LONG_SPIN_MS plus one preemption.
   */
  spin<T>(attempt: () => T | typeof WOULD_BLOCK, limitMs = Infinity): T | typeof WOULD_BLOCK {
    const started = this.host.now();
    const deadline = this.open(started, limitMs);
    if (Number.isNaN(deadline)) return WOULD_BLOCK;
    for (;;) {
      const result = attempt();
      if (result !== WOULD_BLOCK) {
        this.caught(started);
        return result;
      }
      if (!this.tick(deadline)) return WOULD_BLOCK;
    }
  }

  /**
   * Opens a spin that starts at `started` (the host's clock): its deadline, or NaN when the
   * operation should park at once (spinning switched off, or oversubscribed without a yield).
   */
  open(started: number, limitMs = Infinity): number {
    if (this.windowMs === 0) {
      if (--this.offFor > 0) {
        this.gaveUpAt = Number.NaN;
        return Number.NaN;
      }
      this.windowMs = MAX_SPIN_MS;
    }
    if (this.handOffSpins > 0 && this.host.handOff === undefined) {
      // Nothing to hand the CPU over with: spinning would only delay a peer waiting for this CPU.
      this.handOffSpins--;
      this.gaveUpAt = Number.NaN;
      return Number.NaN;
    }
    this.lastClock = started;
    this.yieldedAt = started;
    this.yielded = false;
    // A spin that ended without a preemption, outside a hand-off period, resets the back-off.
    if (!this.preempted && this.handOffSpins === 0) this.calmSpins = CALM_SPINS;
    this.preempted = false;
    this.sinceClock = 0;
    this.handOffFrom = started + this.handOffAfterMs;
    // Handing off costs the peer no CPU, so the window may cover a parked peer's wake-up.
    const windowMs = this.handOffSpins > 0 ? Math.max(this.windowMs, LONG_SPIN_MS) : this.windowMs;
    return started + Math.min(windowMs, limitMs);
  }

  /**
   * After a failed attempt of a spin opened with {@link SpinWindow.open}: false (a miss, the window learns)
   * once the clock passed `deadline`, else true (attempt again). Looks at the clock every
   * `attemptsPerClock` calls, notices preemption, and yields as the mode asks.
   */
  tick(deadline: number): boolean {
    // Handing off, every failed attempt yields; otherwise the clock is read every few attempts.
    if (this.handOffSpins === 0 && ++this.sinceClock < this.attemptsPerClock) return true;
    this.sinceClock = 0;
    const now = this.host.now();
    // A gap with a yield in it is the yield's (a worker's yield sleeps on purpose): only a gap
    // without one tells of a preemption.
    if (now - this.lastClock > this.preemptedMs && !this.yielded && !this.preempted) {
      this.preempted = true;
      // Preempted again right after a hand-off period (this spin was its probe): back off further.
      this.handOffSpins = this.calmSpins;
      this.calmSpins = Math.min(MAX_CALM_SPINS, this.calmSpins * 2);
    }
    this.lastClock = now;
    this.yielded = false;
    if (now >= deadline) {
      this.missed(now);
      return false;
    }
    if (this.handOffSpins > 0 || now >= this.handOffFrom) {
      const handOff = this.host.handOff;
      if (handOff !== undefined) {
        handOff(deadline);
        // The gap up to the next look is the hand-off's sleep, not a preemption.
        this.yielded = true;
      }
    } else if (this.host.yieldCpu !== undefined && now - this.yieldedAt >= this.yieldEveryMs) {
      this.host.yieldCpu();
      this.yieldedAt = now;
    }
    return true;
  }

  /**
   * The attempt of a spin opened at `started` succeeded: the window learns. `caughtAt`: when (the
   * host's clock), if the host read it; by default the spin's last look at the clock, which after a
   * hand-off is from before its sleep (a host whose calm spins hand off passes the real time).
   */
  caught(started: number, caughtAt = this.lastClock): void {
    this.misses = 0;
    if (this.handOffSpins > 0) this.handOffSpins--;
    // The last look at the clock is at most `attemptsPerClock` attempts old: close enough.
    this.windowMs = Math.min(LONG_SPIN_MS, Math.max(MAX_SPIN_MS, 2 * (caughtAt - started)));
  }

  /** A parked operation that began (before its spin) at `startedAt` (NaN if it did not spin) completed. */
  parked(startedAt: number): void {
    // Without a spin, or switched off by it, there is nothing to learn: the periodic probe reopens it.
    if (Number.isNaN(this.gaveUpAt) || Number.isNaN(startedAt) || this.windowMs === 0) return;
    const now = this.host.now();
    const answeredIn = now - startedAt;
    if (now - this.gaveUpAt < STARVED_PEER_MS) this.switchOff();
    else if (answeredIn <= LONG_SPIN_MS) this.windowMs = Math.max(MAX_SPIN_MS, Math.min(LONG_SPIN_MS, 1.5 * answeredIn));
  }

  private missed(now: number): void {
    this.gaveUpAt = now;
    if (this.handOffSpins > 0) this.handOffSpins--;
    if (this.windowMs / 2 < MIN_SPIN_MS || ++this.misses >= MISSES_TO_STOP) this.switchOff();
    else this.windowMs /= 2;
  }

  private switchOff(): void {
    this.windowMs = 0;
    this.offFor = PROBE_EVERY;
    this.misses = 0;
  }
}
