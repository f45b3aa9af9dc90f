/**
 * `registerDifferential`: one vitest test per primitive that runs random operation sequences on a
 * reference backend and a candidate and demands identical results and error codes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IpcBackend } from '@ipcx/core';
import { newKernelObjectsOf } from '../leaks.js';
import { checkDifferential, type Coverage, type DifferentialModel } from './harness.js';
import { messageQueueModel } from './message-queue.js';
import { pipeModel } from './pipe.js';
import { semaphoreModel } from './semaphore.js';

/** The seed used unless `IPCX_FC_SEED` says otherwise: fixed, so that CI runs are reproducible. */
export const DEFAULT_SEED = 20_260_601;
/** Sequences per primitive unless `runs` or `IPCX_FC_RUNS` says otherwise. */
export const DEFAULT_RUNS = 200;

/** Options of {@link registerDifferential}. */
export interface DifferentialOptions {
  /** The oracle (normally the native backend: the kernel itself). Called once, in `beforeAll`. */
  readonly reference: () => IpcBackend | Promise<IpcBackend>;
  /** The backend under test. Called once, in `beforeAll`. */
  readonly candidate: () => IpcBackend | Promise<IpcBackend>;
  /** Sequences per primitive; default `IPCX_FC_RUNS` from the environment, else {@link DEFAULT_RUNS}. */
  readonly runs?: number;
  /** fast-check seed; default `IPCX_FC_SEED` from the environment, else {@link DEFAULT_SEED}. */
  readonly seed?: number;
  /** Title of the `describe` block (default `'differential'`). */
  readonly name?: string;
  /** Which models to run (default: message queues, semaphore sets, pipes). */
  readonly models?: readonly DifferentialModel<never>[];
  /** Called with what each model's run reached on the reference (to assert the generators' reach). */
  readonly onCoverage?: (model: DifferentialModel<never>, coverage: Coverage) => void;
  /** Per-test timeout in milliseconds (default 120 000). */
  readonly timeout?: number;
}

/** The models run by default. */
export const differentialModels: readonly DifferentialModel<never>[] = [
  messageQueueModel as DifferentialModel<never>,
  semaphoreModel as DifferentialModel<never>,
  pipeModel as DifferentialModel<never>,
];

function fromEnvironment(name: string): number | undefined {
  const text = process.env[name];
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new RangeError(`${name} must be an integer, received ${JSON.stringify(text)}`);
  return value;
}

/**
 * Registers, inside `describe(name)`, one test per model: `runs` random sequences, each on fresh
 * objects of both backends, step by step, and fails with the shrunk sequence and the first step
 * where they differ. A model whose primitive either backend does not declare is skipped. The
 * seed is printed; `IPCX_FC_SEED=<seed>` (and `IPCX_FC_PATH=<path>` from a failure) replays a
 * run. A last test checks that no object is left open or in either kernel.
 */
export function registerDifferential(options: DifferentialOptions): void {
  const runs = options.runs ?? fromEnvironment('IPCX_FC_RUNS') ?? DEFAULT_RUNS;
  const seed = options.seed ?? fromEnvironment('IPCX_FC_SEED') ?? DEFAULT_SEED;
  const path = process.env.IPCX_FC_PATH || undefined;
  const timeout = options.timeout ?? 120_000;
  describe(options.name ?? 'differential', () => {
    let reference: IpcBackend;
    let candidate: IpcBackend;
    const before = new Map<IpcBackend, readonly string[]>();
    beforeAll(async () => {
      reference = await options.reference();
      candidate = await options.candidate();
      for (const backend of [reference, candidate]) before.set(backend, await backend.diagnostics.kernelObjects());
    });
    for (const model of options.models ?? differentialModels) {
      it(model.title, { timeout }, async (context) => {
        const missing = [reference, candidate].filter((backend) => !backend.capabilities.primitives.has(model.primitive));
        if (missing.length > 0) {
          context.skip(`${missing.map((backend) => backend.name).join(' and ')} does not declare ${model.primitive}`);
          return;
        }
        console.log(`[differential] ${model.title}: ${reference.name} vs ${candidate.name}, ${runs} sequences, seed ${seed} (replay: IPCX_FC_SEED=${seed})`);
        const coverage = await checkDifferential(model, { reference, candidate, runs, seed, ...(path !== undefined ? { path } : {}) });
        console.log(`[differential] ${model.title} outcomes: ${[...coverage].map(([kind, count]) => `${kind} ×${count}`).join(', ')}`);
        options.onCoverage?.(model, coverage);
      });
    }
    it('leaves no object open and nothing in either kernel', async () => {
      for (const backend of new Set([reference, candidate])) {
        expect(backend.diagnostics.openObjects()).toEqual([]);
        expect(await newKernelObjectsOf(backend, before.get(backend) ?? [])).toEqual([]);
      }
    });
    afterAll(() => before.clear());
  });
}

