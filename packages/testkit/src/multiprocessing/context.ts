/** What each suite of this package gets: the backend under test and what it can do. */
import { Feature, type IpcBackend, type PrimitiveName } from '@ipcx/core';
import { onTestFinished } from 'vitest';

export interface MpContext {
  /** Backend name, part of every test name (`multiprocessing native ...`). */
  readonly name: string;
  readonly backend: IpcBackend;
  /** True when children are OS processes (kill -9 is real), else children are workers (terminate). */
  readonly osProcesses: boolean;
  /** URL of one of the kit's multiprocessing child modules (`multiprocessing/children/<name>.js`). */
  child(name: string): URL;
  /** True if the backend declares `primitive` (suites skip, visibly, what it lacks). */
  has(primitive: PrimitiveName): boolean;
}

export function mpContext(backend: IpcBackend): MpContext {
  return {
    name: backend.name,
    backend,
    osProcesses: backend.capabilities.features.has(Feature.osProcesses),
    child: (name) => new URL(`./children/${name}.js`, import.meta.url),
    has: (primitive) => backend.capabilities.primitives.has(primitive),
  };
}

/** Runs `cleanup` when the current test finishes, passed or failed. */
export function after(cleanup: () => unknown): void {
  onTestFinished(async () => {
    await cleanup();
  });
}

/** Closes (and, for creators, removes) `object` when the current test finishes. Returns it. */
export function disposeAfter<T extends AsyncDisposable>(object: T): T {
  after(() => object[Symbol.asyncDispose]());
  return object;
}

/** The code of an error (or undefined). */
export function codeOf(error: unknown): unknown {
  return (error as { code?: unknown })?.code;
}

/** The code of what `call` throws synchronously ('no throw' when it returns). */
export function codeThrown(call: () => unknown): unknown {
  try {
    call();
  } catch (error) {
    return codeOf(error);
  }
  return 'no throw';
}

/** Awaits `promise`, expecting it to reject; returns the error. */
export async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}

/**
 * Awaits `promise`, expecting it to reject within `ms` (a call that should give up at once must
 * not merely give up eventually); returns the error.
 */
export async function rejectionWithin(promise: Promise<unknown>, ms: number): Promise<Error & { code?: string }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([rejection(promise), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** A seeded pseudo-random source (mulberry32), so that a failing stress run can be replayed. */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
