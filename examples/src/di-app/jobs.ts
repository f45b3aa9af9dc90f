/**
 * The di-app: a small job system. Jobs ("count the primes below n") go on a System V message
 * queue; a pool of child processes takes them, limited by a semaphore to `poolSize` at once; each
 * result lands in its slot of a shared-memory table, and the parent is woken per result through
 * a futex wait on the table's counter cell.
 *
 * Every class receives its IPC factories by injection (inversify 8), never naming a backend:
 * production loads the native module, tests load the worker module.
 */
import { inject, injectable } from 'inversify';
import {
  IPC_PRIVATE,
  MessageQueues,
  Processes,
  Semaphores,
  SharedMemory,
  type MessageQueue,
  type MessageQueues as MessageQueueFactory,
  type Processes as ProcessFactory,
  type SemaphoreSet,
  type Semaphores as SemaphoreFactory,
  type SharedMemory as SharedMemoryFactory,
  type SysvSegment,
} from '@ipcx/core';

/** Message type of a job on the queue; `STOP` tells a pool child to finish. */
export const JOB = 1;
export const STOP = 2;

/** The queue of jobs. */
@injectable()
export class JobQueue {
  constructor(@inject(MessageQueues) private readonly queues: MessageQueueFactory) {}

  /** A new private queue. */
  async create(): Promise<MessageQueue> {
    return this.queues.open(IPC_PRIVATE, { create: true, mode: 0o600 });
  }
}

/** Result table layout: Int32 cell 0 counts results written; slot i is Float64 at byte 8 + 8i. */
export const RESULT_COUNT_CELL = 0;
export const RESULT_BASE_BYTES = 8;
export const RESULT_BYTES = 8;

/** The table of results in shared memory. */
@injectable()
export class ResultTable {
  constructor(@inject(SharedMemory) private readonly memory: SharedMemoryFactory) {}

  /** A private segment with room for `slots` results. */
  async create(slots: number): Promise<SysvSegment> {
    return this.memory.openSysv('private', { size: RESULT_BASE_BYTES + slots * RESULT_BYTES, create: true, mode: 0o600 });
  }

  /** Waits until at least `count` results are in, without blocking the event loop. */
  async waitFor(segment: SysvSegment, count: number, timeoutMs: number): Promise<void> {
    const cells = new Int32Array(segment.buffer, 0, 1);
    const deadline = Date.now() + timeoutMs;
    for (let seen = Atomics.load(cells, RESULT_COUNT_CELL); seen < count; seen = Atomics.load(cells, RESULT_COUNT_CELL)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`only ${seen} of ${count} results after ${timeoutMs} ms`);
      await segment.wait(RESULT_COUNT_CELL, seen, { timeout: left });
    }
  }

  /** The results, in job order. */
  read(segment: SysvSegment, count: number): number[] {
    return Array.from(new Float64Array(segment.buffer, RESULT_BASE_BYTES, count));
  }
}

/** Result table cells besides the counter: how many children compute now, and the most at once. */
export const RUNNING_CELL = 1;

/** Starts the pool's children; each limits itself with the semaphore (see pool-child.ts). */
@injectable()
export class WorkerPool {
  constructor(
    @inject(Semaphores) private readonly semaphores: SemaphoreFactory,
    @inject(Processes) private readonly processes: ProcessFactory,
  ) {}

  /** A semaphore set of one, with `poolSize` units: at most that many children compute at once. */
  async createLimit(poolSize: number): Promise<SemaphoreSet> {
    const limit = await this.semaphores.open('private', { size: 1, create: true, mode: 0o600 });
    limit.setValue(0, poolSize);
    return limit;
  }

  /** Starts `children` children of `entry` with `args` and resolves with their exit codes. */
  async run(entry: URL, children: number, args: readonly unknown[]): Promise<number[]> {
    const started = [];
    for (let i = 0; i < children; i++) started.push(await this.processes.spawn(entry, { args }));
    return Promise.all(started.map(async (child) => (await child.exited).code ?? -1));
  }
}

/** What {@link PrimeService.countPrimes} returns. */
export interface PrimeReport {
  /** Primes below each limit, in the order of the limits. */
  readonly counts: number[];
  /** The most children that computed at the same time. */
  readonly mostAtOnce: number;
}

/** The application service: counts primes below each limit with a pool of child processes. */
@injectable()
export class PrimeService {
  constructor(
    @inject(JobQueue) private readonly jobs: JobQueue,
    @inject(ResultTable) private readonly results: ResultTable,
    @inject(WorkerPool) private readonly pool: WorkerPool,
  ) {}

  async countPrimes(limits: readonly number[], poolSize: number, timeoutMs = 30_000): Promise<PrimeReport> {
    const queue = await this.jobs.create();
    const table = await this.results.create(limits.length);
    const limit = await this.pool.createLimit(poolSize);
    try {
      for (const [slot, n] of limits.entries()) await queue.send(JOB, JSON.stringify({ slot, n }));
      const exits = this.pool.run(new URL('./pool-child.js', import.meta.url), limits.length, [queue, limit, table]);
      await this.results.waitFor(table, limits.length, timeoutMs);
      const codes = await exits;
      if (codes.some((code) => code !== 0)) throw new Error(`pool children exited with ${codes.join(',')}`);
      const cells = new Int32Array(table.buffer, 0, 2);
      return { counts: this.results.read(table, limits.length), mostAtOnce: Atomics.load(cells, RUNNING_CELL) >>> 16 };
    } finally {
      await queue.remove();
      await queue.close();
      await limit.remove();
      await limit.close();
      await table.remove();
      await table.close();
    }
  }
}
