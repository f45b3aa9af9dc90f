/** Building blocks of the models' steps: named operations, payload patterns, options as code. */
import fc from 'fast-check';
import type { Step } from './harness.js';

/**
 * A step that runs `run` and prints as `text`. Synchronous methods (semaphore `value()`, pipe
 * `setCapacity()`) run inside the async function, so what they throw is compared like a rejection.
 */
export function step<S>(text: string, run: (subject: S) => unknown): Step<S> {
  return {
    run: async (subject) => run(subject),
    toString: () => text,
    // fast-check prints values through this symbol (and its own counterexample lists through it).
    [fc.toStringMethod]: () => text,
  } as Step<S>;
}

/**
 * The payload `bytes(size, fill)` of a printed step: byte `i` is `(fill + i) & 0xff`. Every byte
 * depends on its position, so a lost, repeated or reordered chunk changes what is read back.
 */
export function patternBytes(size: number, fill: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (fill + i) & 0xff;
  return bytes;
}

/** `bytes(size, 0xff)`: how a payload made by {@link patternBytes} is printed. */
export function patternText(size: number, fill: number): string {
  return `bytes(${size}, 0x${fill.toString(16).padStart(2, '0')})`;
}

/** An options object as code: `{ type: -3, noError: true }` (`{}` prints as nothing). */
export function showOptions(options: object): string {
  const fields = Object.entries(options).map(([key, value]) => `${key}: ${Array.isArray(value) ? `[${value.join(', ')}]` : String(value)}`);
  return fields.length === 0 ? '' : `{ ${fields.join(', ')} }`;
}
