/**
 * Where a {@link Barrier} keeps its state: the cells of a small shared segment (barrier.ts), or,
 * on a backend without shared memory (Redis), a System V semaphore set:
 *
 * ```
 *  index 0 COUNT      arrived now          3 BROKEN_AT  generation after the one that broke
 *  index 1 GENERATION ends (mod 32766)     4 GATE0      0 opens even generations, else 1
 *  index 2 BROKEN     0 / 1                5 GATE1      0 opens odd generations, else 1
 * ```
 * A waiter of generation g waits for GATE(g mod 2) to be zero. The end of generation g is one
 * SETALL (atomic on every backend): GATE of g+1 closed, GENERATION = g+1, GATE of g opened. The
 * gate of g stays open until g+1 ends, which needs every party, so no waiter of g can miss it
 * (a backend whose waiters re-check the value after a wake-up, as Redis's do, needs that).
 */
import type { IpcBackend, SemaphoreSet } from '@ipcx/core';
import { isIpcError } from '@ipcx/core';
import { createSemaphores } from './kernel-objects.js';
import type { Deadline } from './wait.js';

/** Cell indexes of a barrier's state (32-bit cells of the segment, or semaphores of the set). */
export const BarrierCell = { COUNT: 0, GENERATION: 1, BROKEN: 2, WAITERS: 3, BROKEN_AT: 4 } as const;
type Cell = (typeof BarrierCell)[keyof typeof BarrierCell];

/** The state a Barrier runs its algorithm on (under its lock for every change). */
export interface BarrierState {
  load(cell: Cell): number;
  store(cell: Cell, value: number): void;
  /** COUNT + 1; returns COUNT before. */
  arrive(): number;
  /** The generation after `generation`. */
  after(generation: number): number;
  /** Ends the current generation and wakes its waiters. */
  endGeneration(): void;
  /** Resolves true once GENERATION is no longer `generation`, false at the deadline; AbortError on its signal. */
  awaitEnd(generation: number, deadline: Deadline): Promise<boolean>;
  /** Gives the kernel objects up; `owner` removes them. */
  close(owner: boolean): Promise<void>;
  /** What travels to another process. */
  record(): { semaphores: number } | { segment: number };
}

/** Generations wrap here (even, so that a generation's parity picks its gate). */
const GENERATIONS = 32766;
const SEM = { COUNT: 0, GENERATION: 1, BROKEN: 2, BROKEN_AT: 3, GATE0: 4, GATE1: 5 } as const;

/** The semaphore index holding `cell` (WAITERS has none: the kernel queues the waiters). */
function semaphoreOf(cell: Cell): number {
  switch (cell) {
    case BarrierCell.COUNT:
      return SEM.COUNT;
    case BarrierCell.GENERATION:
      return SEM.GENERATION;
    case BarrierCell.BROKEN:
      return SEM.BROKEN;
    case BarrierCell.BROKEN_AT:
      return SEM.BROKEN_AT;
    default:
      throw new RangeError(`no semaphore holds barrier cell ${cell}`);
  }
}

/** A barrier's state in a semaphore set (see the file comment). */
export class SemaphoreBarrierState implements BarrierState {
  constructor(private readonly semaphores: SemaphoreSet) {}

  /** Makes the set: generation 0, both gates closed. */
  static async create(backend: IpcBackend): Promise<SemaphoreBarrierState> {
    return new SemaphoreBarrierState(await createSemaphores(backend, [0, 0, 0, 0, 1, 1]));
  }

  /** Reopens the set of `record` (in another process). */
  static async revive(backend: IpcBackend, record: { semaphores: number }): Promise<SemaphoreBarrierState> {
    return new SemaphoreBarrierState(await backend.semaphores.openById(record.semaphores));
  }

  load(cell: Cell): number {
    return this.semaphores.value(semaphoreOf(cell));
  }

  store(cell: Cell, value: number): void {
    this.semaphores.setValue(semaphoreOf(cell), value);
  }

  arrive(): number {
    const count = this.semaphores.value(SEM.COUNT);
    this.semaphores.post(SEM.COUNT);
    return count;
  }

  after(generation: number): number {
    return (generation + 1) % GENERATIONS;
  }

  endGeneration(): void {
    const values = this.semaphores.values();
    const generation = values[SEM.GENERATION]!;
    const next = this.after(generation);
    values[SEM.GENERATION] = next;
    values[SEM.GATE0 + (next % 2)] = 1;
    values[SEM.GATE0 + (generation % 2)] = 0;
    // One SETALL: the next gate closes, the generation moves and this gate opens together.
    this.semaphores.setValues(values);
  }

  async awaitEnd(generation: number, deadline: Deadline): Promise<boolean> {
    for (;;) {
      if (this.load(BarrierCell.GENERATION) !== generation) return true;
      const remaining = deadline.until - performance.now();
      if (remaining <= 0) return false;
      try {
        await this.semaphores.waitForZero(SEM.GATE0 + (generation % 2), {
          ...(remaining === Infinity ? {} : { timeout: remaining }),
          ...(deadline.signal ? { signal: deadline.signal } : {}),
        });
      } catch (error) {
        if (isIpcError(error, 'EAGAIN') || isIpcError(error, 'ETIMEDOUT')) return this.load(BarrierCell.GENERATION) !== generation;
        throw error;
      }
    }
  }

  async close(owner: boolean): Promise<void> {
    if (owner) await this.semaphores.remove().catch(() => undefined);
    await this.semaphores.close();
  }

  record(): { semaphores: number } {
    return { semaphores: this.semaphores.id };
  }
}
