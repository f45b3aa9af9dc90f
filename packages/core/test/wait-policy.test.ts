// The one spin-then-park policy (`@ipcx/core/backend`'s SpinWindow), driven by a fake clock, a fake
// yield and scripted attempts: the policy is a pure function of what it is passed, so every
// decision (window, switch-off, probe, hand-off under preemption) is checked exactly. The adapters'
// real waits are covered by their conformance suites.
import { describe, expect, it } from 'vitest';
import {
  CALM_SPINS,
  LONG_SPIN_MS,
  MAX_CALM_SPINS,
  MAX_SPIN_MS,
  MISSES_TO_STOP,
  PREEMPTED_MS,
  PROBE_EVERY,
  SpinWindow,
  WOULD_BLOCK,
  LONG_YIELD_MS,
  LONG_YIELDS_TO_PAUSE,
  MAX_YIELD_PAUSE_MS,
  YIELD_PAUSE_MS,
  YIELD_WINDOW,
  YieldGate,
  type WaitPolicyHost,
} from '@ipcx/core/backend';

/** A clock that advances by `step` ms at every look, plus whatever a test adds; records yields and hand-offs. */
class FakeHost implements WaitPolicyHost {
  time = 1000;
  looks = 0;
  /** When each yieldCpu happened. */
  yields: number[] = [];
  /** The deadline each hand-off was given. */
  handOffs: number[] = [];
  /** Added at the next look only (a preemption between two looks). */
  jump = 0;
  yieldCpu?: () => void;
  handOff?: (untilMs: number) => void;
  attemptsPerClock?: number;
  yieldEveryMs?: number;
  constructor(
    private readonly step: number,
    options: { handOff?: boolean; handOffAfterMs?: number; attemptsPerClock?: number; yieldEveryMs?: number; onHandOff?: (host: FakeHost, untilMs: number) => void } = {},
  ) {
    this.yieldCpu = () => {
      this.yields.push(this.time);
    };
    if (options.handOff !== false) {
      this.handOff = (untilMs) => {
        this.handOffs.push(untilMs);
        options.onHandOff?.(this, untilMs);
      };
    }
    this.attemptsPerClock = options.attemptsPerClock;
    this.yieldEveryMs = options.yieldEveryMs;
    this.handOffAfterMs = options.handOffAfterMs;
  }
  handOffAfterMs?: number;
  now(): number {
    this.looks++;
    this.time += this.step + this.jump;
    this.jump = 0;
    return this.time;
  }
}

/** An attempt that succeeds on its `n`-th call (never with Infinity), counting calls. */
function succeedsOn(n: number): { attempt: () => 'done' | typeof WOULD_BLOCK; calls: () => number } {
  let calls = 0;
  return { attempt: () => (++calls >= n ? 'done' : WOULD_BLOCK), calls: () => calls };
}

const never = () => WOULD_BLOCK;

describe('wait policy (core backend kit)', () => {
  it('returns what the attempt gives once it stops saying WOULD_BLOCK, within the window', () => {
    const host = new FakeHost(0.001);
    const window = new SpinWindow(host);
    const { attempt, calls } = succeedsOn(5);
    expect(window.spin(attempt)).toBe('done');
    expect(calls()).toBe(5);
    expect(window.oversubscribed).toBe(false);
  });

  it('gives up with WOULD_BLOCK once the window (20 µs at first) has passed, and halves it', () => {
    const host = new FakeHost(0.001);
    const window = new SpinWindow(host);
    const started = host.time;
    expect(window.spin(never)).toBe(WOULD_BLOCK);
    // 1 µs per look, one look per attempt: the spin ends at the first look at or past 20 µs.
    expect(host.time - started).toBeGreaterThanOrEqual(MAX_SPIN_MS);
    expect(host.time - started).toBeLessThan(MAX_SPIN_MS + 0.0025);
    expect(window.window).toBeCloseTo(MAX_SPIN_MS / 2, 9);
  });

  it('never spins past the caller limit (what is left of a timeout)', () => {
    const host = new FakeHost(0.001);
    const window = new SpinWindow(host);
    const started = host.time;
    expect(window.spin(never, 0.005)).toBe(WOULD_BLOCK);
    expect(host.time - started).toBeGreaterThanOrEqual(0.005);
    expect(host.time - started).toBeLessThan(0.0075);
  });

  it('grows the window to twice a late catch, capped at LONG_SPIN_MS', () => {
    const host = new FakeHost(0.001);
    const window = new SpinWindow(host);
    // Caught at 15 µs: the next window is 30 µs.
    expect(window.spin(succeedsOn(16).attempt)).toBe('done');
    expect(window.window).toBeCloseTo(0.03, 6);
    expect(window.spin(succeedsOn(29).attempt)).toBe('done');
    expect(window.window).toBeCloseTo(0.056, 6);
    expect(window.spin(succeedsOn(56).attempt)).toBe('done');
    expect(window.spin(succeedsOn(100).attempt)).toBe('done');
    expect(window.window).toBe(LONG_SPIN_MS);
  });

  it('sizes the window to 1.5x a parked answer within LONG_SPIN_MS (so "both parked" ends)', () => {
    const host = new FakeHost(0.001);
    const window = new SpinWindow(host);
    const startedAt = host.now();
    expect(window.spin(never)).toBe(WOULD_BLOCK);
    // The park ends 60 µs after the operation began (well after the spin gave up).
    host.time = startedAt + 0.06 - 0.001;
    window.parked(startedAt);
    expect(window.window).toBeCloseTo(0.09, 9);
  });

  it(`switches spinning off after ${MISSES_TO_STOP} misses in a row, then probes every ${PROBE_EVERY}th operation`, () => {
    const host = new FakeHost(0.001);
    const window = new SpinWindow(host);
    for (let i = 0; i < MISSES_TO_STOP; i++) expect(window.spin(never)).toBe(WOULD_BLOCK);
    expect(window.window).toBe(0);
    let attempted = 0;
    const counting = () => {
      attempted++;
      return WOULD_BLOCK;
    };
    // Switched off: the next PROBE_EVERY - 1 operations park at once, without one attempt.
    for (let i = 0; i < PROBE_EVERY - 1; i++) expect(window.spin(counting)).toBe(WOULD_BLOCK);
    expect(attempted).toBe(0);
    // The probe spins again with the usual window, and a catch keeps it on.
    expect(window.spin(succeedsOn(3).attempt)).toBe('done');
    expect(window.window).toBe(MAX_SPIN_MS);
  });

  it('switches off when a park ends right after the spin gave up (a starved peer on this CPU)', () => {
    const host = new FakeHost(0.001);
    const window = new SpinWindow(host);
    const startedAt = host.now();
    expect(window.spin(never)).toBe(WOULD_BLOCK);
    // The park completed 1 µs after the spin gave up.
    window.parked(startedAt);
    expect(window.window).toBe(0);
  });

  it('yields every yieldEveryMs when calm (never by default), and never hands off then', () => {
    const host = new FakeHost(0.001, { yieldEveryMs: 0.005 });
    const window = new SpinWindow(host);
    expect(window.spin(never)).toBe(WOULD_BLOCK);
    // 20 µs window, a yield every 5 µs of spinning.
    expect(host.yields.length).toBeGreaterThanOrEqual(3);
    expect(host.yields.length).toBeLessThanOrEqual(4);
    expect(host.handOffs.length).toBe(0);
    const quiet = new FakeHost(0.001);
    expect(new SpinWindow(quiet).spin(never)).toBe(WOULD_BLOCK);
    expect(quiet.yields.length).toBe(0);
  });

  it('takes a periodic yield that returned late for a preemption (another thread ran on this CPU)', () => {
    const host = new FakeHost(0.001, { yieldEveryMs: 0.005 });
    host.yieldCpu = () => {
      host.yields.push(host.time);
      host.jump = PREEMPTED_MS * 1.5;
    };
    const window = new SpinWindow(host);
    expect(window.spin(never)).toBe(WOULD_BLOCK);
    expect(window.oversubscribed).toBe(true);
  });

  it('reads the clock every attemptsPerClock attempts only', () => {
    const host = new FakeHost(0.001, { attemptsPerClock: 32 });
    const window = new SpinWindow(host);
    const { attempt, calls } = succeedsOn(200);
    expect(window.spin(attempt)).toBe('done');
    expect(calls()).toBe(200);
    // One look to open, then one per 32 failed attempts.
    expect(host.looks).toBe(1 + Math.floor(199 / 32));
  });

  it('notices a preemption (a gap between two looks far longer than the attempts) and then hands the CPU off after every attempt', () => {
    const host = new FakeHost(0.001);
    const window = new SpinWindow(host);
    let calls = 0;
    const preempted = () => {
      // Preempted between the 3rd and 4th look at the clock: past the 20 µs window, a miss.
      if (++calls === 3) host.jump = PREEMPTED_MS * 1.2;
      return WOULD_BLOCK;
    };
    expect(window.spin(preempted)).toBe(WOULD_BLOCK);
    expect(window.oversubscribed).toBe(true);
    expect(host.handOffs.length).toBe(0);
    // Handing off: the window covers a parked peer's answer (LONG_SPIN_MS) and every failed
    // attempt yields, with the spin's deadline.
    const started = host.time;
    expect(window.spin(never)).toBe(WOULD_BLOCK);
    expect(host.time - started).toBeGreaterThanOrEqual(LONG_SPIN_MS);
    expect(host.time - started).toBeLessThan(LONG_SPIN_MS + 0.0025);
    expect(host.handOffs.length).toBeGreaterThanOrEqual(Math.floor(LONG_SPIN_MS / 0.001) - 2);
    expect(new Set(host.handOffs).size).toBe(1);
    expect(host.yields.length).toBe(0);
    expect(window.spin(succeedsOn(4).attempt)).toBe('done');
    expect(host.handOffs.length).toBeGreaterThanOrEqual(Math.floor(LONG_SPIN_MS / 0.001) + 1);
  });

  it('does not take the sleep of its own hand-off for a preemption, and calms down after CALM_SPINS spins without one', () => {
    // A worker's hand-off sleeps on the cell (here: half of what is left of the window): the gap is the hand-off's.
    const host = new FakeHost(0.001, {
      onHandOff: (h, untilMs) => {
        h.time += (untilMs - h.time) / 2;
      },
    });
    const window = new SpinWindow(host);
    let calls = 0;
    expect(
      window.spin(() => {
        if (++calls === 2) host.jump = PREEMPTED_MS * 1.2;
        return WOULD_BLOCK;
      }),
    ).toBe(WOULD_BLOCK);
    expect(window.oversubscribed).toBe(true);
    let spins = 0;
    while (window.oversubscribed) {
      expect(window.spin(succeedsOn(3).attempt)).toBe('done');
      spins++;
      expect(spins).toBeLessThanOrEqual(CALM_SPINS);
    }
    // The preempted spin counted as one of them.
    expect(spins).toBe(CALM_SPINS - 1);
  });

  it('without a hand-off, parks at once while oversubscribed instead of spinning, and probes again after CALM_SPINS operations', () => {
    const host = new FakeHost(0.001, { handOff: false });
    const window = new SpinWindow(host);
    let calls = 0;
    expect(
      window.spin(() => {
        if (++calls === 2) host.jump = PREEMPTED_MS * 1.2;
        return WOULD_BLOCK;
      }),
    ).toBe(WOULD_BLOCK);
    expect(window.oversubscribed).toBe(true);
    let attempted = 0;
    const counting = () => {
      attempted++;
      return WOULD_BLOCK;
    };
    for (let i = 1; i < CALM_SPINS; i++) expect(window.spin(counting)).toBe(WOULD_BLOCK);
    expect(attempted).toBe(0);
    expect(window.oversubscribed).toBe(false);
    expect(window.spin(succeedsOn(2).attempt)).toBe('done');
  });

  it('takes a shorter gap for a preemption when the host sets preemptedMs (a peer whose turn on this CPU is shorter than PREEMPTED_MS)', () => {
    // A 15 µs gap (inside the 20 µs window): below the default, so a spin that catches after it learns nothing ...
    const calm = new FakeHost(0.001, { handOff: false });
    const byDefault = new SpinWindow(calm);
    let calls = 0;
    expect(byDefault.spin(() => (++calls === 2 ? ((calm.jump = 0.015), WOULD_BLOCK) : calls === 3 ? 'done' : WOULD_BLOCK))).toBe('done');
    expect(byDefault.oversubscribed).toBe(false);
    // ... while with preemptedMs 10 µs the same gap is a preemption: the next operations park at once.
    const host = Object.assign(new FakeHost(0.001, { handOff: false }), { preemptedMs: 0.01 });
    const window = new SpinWindow(host);
    calls = 0;
    expect(window.spin(() => (++calls === 2 ? ((host.jump = 0.015), WOULD_BLOCK) : calls === 3 ? 'done' : WOULD_BLOCK))).toBe('done');
    expect(window.oversubscribed).toBe(true);
    let attempted = 0;
    expect(
      window.spin(() => {
        attempted++;
        return WOULD_BLOCK;
      }),
    ).toBe(WOULD_BLOCK);
    expect(attempted).toBe(0);
  });

  it('parksNext tells in advance whether open will park at once, and changes nothing by itself', () => {
    const host = new FakeHost(0.001, { handOff: false });
    const window = new SpinWindow(host);
    expect(window.parksNext).toBe(false);
    expect(window.parksNext).toBe(false);
    expect(Number.isNaN(window.open(host.now()))).toBe(false);
    // Switched off by misses: parks at once until the probe (every PROBE_EVERY-th operation).
    for (let i = 0; i < MISSES_TO_STOP; i++) expect(window.spin(never)).toBe(WOULD_BLOCK);
    expect(window.window).toBe(0);
    for (let i = 1; i < PROBE_EVERY; i++) {
      expect(window.parksNext).toBe(true);
      expect(Number.isNaN(window.open(host.now()))).toBe(true);
    }
    expect(window.parksNext).toBe(false);
    expect(Number.isNaN(window.open(host.now()))).toBe(false);
    // Oversubscribed without a hand-off: parks at once for CALM_SPINS operations.
    const busy = new SpinWindow(host);
    let calls = 0;
    busy.spin(() => {
      if (++calls === 2) host.jump = PREEMPTED_MS * 1.2;
      return calls === 3 ? 'done' : WOULD_BLOCK;
    });
    expect(busy.oversubscribed).toBe(true);
    let parked = 0;
    while (busy.parksNext) {
      expect(Number.isNaN(busy.open(host.now()))).toBe(true);
      parked++;
    }
    expect(parked).toBe(CALM_SPINS - 1);
  });

  it('backs off: a probe preempted again doubles the next period (up to MAX_CALM_SPINS), a calm spin resets it', () => {
    const host = new FakeHost(0.001, { handOff: false });
    const window = new SpinWindow(host);
    const preemptedSpin = () => {
      let calls = 0;
      return () => {
        if (++calls === 2) host.jump = PREEMPTED_MS * 1.2;
        return WOULD_BLOCK;
      };
    };
    expect(window.spin(preemptedSpin())).toBe(WOULD_BLOCK);
    let period = CALM_SPINS;
    // Each period ends in a probe; preempt every probe.
    for (let round = 0; round < 10; round++) {
      let parked = 0;
      while (window.oversubscribed) {
        expect(window.spin(never)).toBe(WOULD_BLOCK);
        parked++;
      }
      // (Plus up to PROBE_EVERY while the misses in a row of the probes have switched the spin off.)
      expect(parked).toBeGreaterThanOrEqual(period - 1);
      expect(parked).toBeLessThan(period + PROBE_EVERY);
      expect(window.spin(preemptedSpin())).toBe(WOULD_BLOCK);
      period = Math.min(MAX_CALM_SPINS, period * 2);
    }
    expect(period).toBe(MAX_CALM_SPINS);
    // The period runs out; a calm probe (a catch) resets the back-off.
    while (window.oversubscribed) window.spin(never);
    while (window.spin(succeedsOn(2).attempt) === WOULD_BLOCK);
    expect(window.spin(preemptedSpin())).toBe(WOULD_BLOCK);
    let parked = 0;
    while (window.oversubscribed) {
      window.spin(never);
      parked++;
    }
    expect(parked).toBe(CALM_SPINS - 1);
  });

  it('with handOffAfterMs, a calm spin that has not caught by then hands off for the rest of its window', () => {
    const host = new FakeHost(0.001, { handOffAfterMs: 0.01 });
    const window = new SpinWindow(host);
    const started = host.time;
    expect(window.spin(never)).toBe(WOULD_BLOCK);
    // Spinning for the first 10 µs, then a hand-off after each failed attempt, with the window's end.
    expect(host.handOffs.length).toBeGreaterThanOrEqual(8);
    expect(host.handOffs.length).toBeLessThanOrEqual(11);
    expect(host.handOffs[0]).toBeCloseTo(started + 0.001 + MAX_SPIN_MS, 6);
    expect(window.oversubscribed).toBe(false);
    // A host without a hand-off ignores it.
    const plain = new FakeHost(0.001, { handOff: false, handOffAfterMs: 0.01 });
    expect(new SpinWindow(plain).spin(never)).toBe(WOULD_BLOCK);
    expect(plain.handOffs.length).toBe(0);
  });

  it('setHandOffAfter moves the calm hand-off point of later spins; caught(started, caughtAt) learns from the time given', () => {
    let firstHandOffAt = Number.NaN;
    const host = new FakeHost(0.001, { handOffAfterMs: 0.01, onHandOff: (h) => (firstHandOffAt = Number.isNaN(firstHandOffAt) ? h.time : firstHandOffAt) });
    const window = new SpinWindow(host);
    // A 100 µs window first (a catch at 50 µs), then the point moved to 40 µs: the first hand-off
    // comes 40 µs into the next spin, no longer 10.
    const started = host.now();
    window.caught(started, started + 0.05);
    expect(window.window).toBeCloseTo(0.1, 9);
    window.setHandOffAfter(0.04);
    const next = host.time;
    expect(window.spin(never)).toBe(WOULD_BLOCK);
    expect(host.handOffs.length).toBeGreaterThan(0);
    expect(host.handOffs[0]).toBeCloseTo(next + 0.001 + 0.1, 6);
    expect(firstHandOffAt - (next + 0.001)).toBeGreaterThanOrEqual(0.04 - 1e-9);
    expect(firstHandOffAt - (next + 0.001)).toBeLessThan(0.0425);
    // A host without a hand-off ignores the point.
    const plainHost = new FakeHost(0.001, { handOff: false });
    const plain = new SpinWindow(plainHost);
    plain.setHandOffAfter(0.001);
    expect(plain.spin(never)).toBe(WOULD_BLOCK);
    expect(plainHost.handOffs.length).toBe(0);
  });

  it('the inline form (open, tick, caught) decides as spin does', () => {
    const host = new FakeHost(0.001);
    const window = new SpinWindow(host);
    const started = host.now();
    const deadline = window.open(started);
    expect(deadline).toBeCloseTo(started + MAX_SPIN_MS, 9);
    let ticks = 0;
    while (window.tick(deadline)) ticks++;
    expect(ticks).toBeGreaterThanOrEqual(Math.round(MAX_SPIN_MS / 0.001) - 1);
    expect(ticks).toBeLessThanOrEqual(Math.round(MAX_SPIN_MS / 0.001));
    expect(window.window).toBeCloseTo(MAX_SPIN_MS / 2, 9);
    const again = window.open(host.now());
    window.tick(again);
    window.caught(again - window.window);
    expect(window.window).toBe(MAX_SPIN_MS);
  });
});

describe('yield gate (core backend kit)', () => {
  /** A clock that only moves when a yield takes time: `took` ms for the next yields, in order (then quick). */
  function gateWith(durations: number[] = []) {
    const state = { time: 1000, yields: 0, durations };
    const gate = new YieldGate({
      now: () => state.time,
      yieldCpu: () => {
        state.yields++;
        state.time += state.durations.shift() ?? 0;
      },
    });
    return { gate, state };
  }
  // Whole milliseconds keep the fake clock exact; a quick yield takes no time at all.
  const long = Math.ceil(LONG_YIELD_MS * 10);
  const quick = 0;

  it('keeps yielding while yields come back quickly (they ran at most a peer\'s turn)', () => {
    const { gate, state } = gateWith();
    for (let i = 0; i < 10 * YIELD_WINDOW; i++) gate.yieldCpu();
    expect(state.yields).toBe(10 * YIELD_WINDOW);
    expect(gate.paused).toBe(false);
  });

  it(`pauses for ${YIELD_PAUSE_MS} ms after ${LONG_YIELDS_TO_PAUSE} long yields within a window, without yielding meanwhile`, () => {
    const { gate, state } = gateWith([long, quick, long, long, long]);
    // Three long yields and a quick one: not yet.
    for (let i = 0; i < LONG_YIELDS_TO_PAUSE; i++) gate.yieldCpu();
    expect(gate.paused).toBe(false);
    gate.yieldCpu();
    const pausedAt = state.time;
    expect(gate.paused).toBe(true);
    const yields = state.yields;
    gate.yieldCpu();
    gate.yieldCpu();
    expect(state.yields).toBe(yields);
    state.time = pausedAt + YIELD_PAUSE_MS - 0.001;
    gate.yieldCpu();
    expect(state.yields).toBe(yields);
    state.time = pausedAt + YIELD_PAUSE_MS;
    expect(gate.paused).toBe(false);
    gate.yieldCpu();
    expect(state.yields).toBe(yields + 1);
  });

  it(`does not pause for ${LONG_YIELDS_TO_PAUSE - 1} long yields in a window; a window's count starts afresh`, () => {
    const durations: number[] = [];
    for (let window = 0; window < 3; window++) {
      for (let i = 0; i < YIELD_WINDOW; i++) durations.push(i < LONG_YIELDS_TO_PAUSE - 1 ? long : quick);
    }
    const { gate, state } = gateWith(durations);
    for (let i = 0; i < 3 * YIELD_WINDOW; i++) {
      gate.yieldCpu();
      expect(gate.paused).toBe(false);
    }
    expect(state.yields).toBe(3 * YIELD_WINDOW);
  });

  it(`doubles the pause while long yields keep coming (up to ${MAX_YIELD_PAUSE_MS} ms), and a calm window resets it`, () => {
    const { gate, state } = gateWith();
    const pauses: number[] = [];
    for (let round = 0; round < 12; round++) {
      state.durations.push(...Array(LONG_YIELDS_TO_PAUSE).fill(long));
      for (let i = 0; i < LONG_YIELDS_TO_PAUSE; i++) gate.yieldCpu();
      const start = state.time;
      expect(gate.paused).toBe(true);
      let pause = 0;
      while (gate.paused) {
        state.time += 1;
        pause += 1;
      }
      pauses.push(pause);
      expect(state.time - start).toBe(pause);
    }
    expect(pauses.slice(0, 4)).toEqual([YIELD_PAUSE_MS, 2 * YIELD_PAUSE_MS, 4 * YIELD_PAUSE_MS, 8 * YIELD_PAUSE_MS]);
    expect(pauses.at(-1)).toBe(MAX_YIELD_PAUSE_MS);
    // A calm window: the next pause is the first one again.
    for (let i = 0; i < YIELD_WINDOW; i++) gate.yieldCpu();
    state.durations.push(...Array(LONG_YIELDS_TO_PAUSE).fill(long));
    for (let i = 0; i < LONG_YIELDS_TO_PAUSE; i++) gate.yieldCpu();
    let pause = 0;
    while (gate.paused) {
      state.time += 1;
      pause += 1;
    }
    expect(pause).toBe(YIELD_PAUSE_MS);
  });
});
