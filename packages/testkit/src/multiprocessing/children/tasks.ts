/** Functions a pool runs in its workers (tasks are module exports: functions cannot travel). */
import { isMainThread, threadId } from 'node:worker_threads';

export const double = (x: number): number => x * 2;
export const add = (a: number, b: number): number => a + b;
export const slow = (ms: number): Promise<number> => new Promise((resolve) => setTimeout(() => resolve(ms), ms));
/** The worker's identity: the OS pid for a process, the thread id for a worker thread. */
export const whoami = (): number => (isMainThread ? process.pid : threadId);

class TaskFailure extends Error {}

export function fail(kind: string): never {
  if (kind === 'type') {
    const error = new TypeError('bad input') as TypeError & { code?: string };
    error.code = 'E_BAD_INPUT';
    throw error;
  }
  throw new TaskFailure(`failed on ${kind}`);
}

export function crash(x: unknown): unknown {
  if (x === 'die') process.exit(3);
  return x;
}

export function init(value: unknown): void {
  (globalThis as { poolInitValue?: unknown }).poolInitValue = value;
}

export const initValue = (): unknown => (globalThis as { poolInitValue?: unknown }).poolInitValue;

/** A number's double, except some results that are not numbers (a chunk of numbers answered as values from there on). */
export const doubleOrNot = (x: number): unknown => (x === 3 ? 'three' : x % 5 === 0 ? { five: x } : x * 2);
export const later = async (x: number): Promise<number> => x + 1;
export function failOnSeven(x: number): number {
  if (x === 7) throw new RangeError('seven is out of range');
  return x;
}
export function exitOnThirteen(x: number): number {
  if (x === 13) process.exit(4);
  return x;
}
