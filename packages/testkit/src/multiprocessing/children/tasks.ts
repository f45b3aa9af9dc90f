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

/** An error class whose `name` is `name` (a key of Object.prototype for the pool's odd cases). */
function errorClassNamed(name: string): new (message: string) => Error {
  return Object.defineProperty(class extends Error {}, 'name', { value: name });
}

/** Throws what a task may throw besides an ordinary Error: the pool must report each and keep its worker. */
export function throwOdd(kind: string): never {
  switch (kind) {
    case 'null':
      throw null;
    case 'symbol':
      throw Symbol('odd');
    case 'null-prototype':
      throw Object.create(null);
    case 'function-code':
      throw Object.assign(new Error('with a function code'), { code: () => 1 });
    case 'number-code':
      throw Object.assign(new Error('with a number code'), { code: 7 });
    case 'throwing-message':
      throw Object.defineProperty(new Error('hidden'), 'message', {
        get() {
          throw new Error('no message');
        },
      });
    default: {
      const Named = errorClassNamed(kind);
      throw new Named(`named ${kind}`);
    }
  }
}
