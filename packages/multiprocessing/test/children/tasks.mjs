// Functions a pool runs in its workers (tasks are module exports: functions cannot travel).
import { isMainThread, threadId } from 'node:worker_threads';

export const double = (x) => x * 2;
export const add = (a, b) => a + b;
export const slow = (ms) => new Promise((resolve) => setTimeout(() => resolve(ms), ms));
// The worker's identity: the OS pid for a process, the thread id for a worker thread.
export const whoami = () => (isMainThread ? process.pid : threadId);

class TaskFailure extends Error {}

export function fail(kind) {
  if (kind === 'type') {
    const error = new TypeError('bad input');
    error.code = 'E_BAD_INPUT';
    throw error;
  }
  throw new TaskFailure(`failed on ${kind}`);
}

export function crash(x) {
  if (x === 'die') process.exit(3);
  return x;
}

export function init(value) {
  globalThis.poolInitValue = value;
}

export const initValue = () => globalThis.poolInitValue;
