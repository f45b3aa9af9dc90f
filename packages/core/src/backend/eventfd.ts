/**
 * Argument checks of event counters (`Eventfds.create`, `Eventfd.read`, `Eventfd.write`).
 *
 * For backends only (`@ipcx/core/backend`): every backend validates through these, so misuse
 * raises the same `TypeError`/`RangeError` with the same message before any system call.
 */
import { checkOptionalBoolean, checkOptions, checkWaitOptions } from './validate.js';
import { EVENTFD_INITIAL_MAX, EVENTFD_MAX, type Eventfd, type EventfdOptions, type Eventfds } from '../eventfd.js';
import type { NowaitOptions } from '../options.js';

/** A counter value as a bigint, checked to lie in `0..max`. */
function checkCounterValue(name: string, value: unknown, max: bigint): bigint {
  if (typeof value === 'bigint') {
    if (value < 0n || value > max) throw new RangeError(`${name} must be between 0 and ${max}, received ${value}`);
    return value;
  }
  if (typeof value !== 'number') throw new TypeError(`${name} must be a bigint or a number, received ${typeof value}`);
  if (!Number.isSafeInteger(value)) throw new RangeError(`${name} must be a safe integer (or a bigint), received ${value}`);
  if (value < 0 || BigInt(value) > max) throw new RangeError(`${name} must be between 0 and ${max}, received ${value}`);
  return BigInt(value);
}

/** For backends: checks the options of {@link Eventfds.create}. */
export function checkEventfdCreate(options: unknown): { initial: number; semaphore: boolean } {
  const { initial, semaphore } = checkOptions<EventfdOptions>('options', options);
  return {
    initial: initial === undefined ? 0 : Number(checkCounterValue('options.initial', initial, BigInt(EVENTFD_INITIAL_MAX))),
    semaphore: checkOptionalBoolean('options.semaphore', semaphore),
  };
}

/** For backends: checks the options of {@link Eventfd.read}. */
export function checkEventfdRead(options: unknown): { nowait: boolean; timeoutMs: number } {
  const given = checkOptions<NowaitOptions>('options', options);
  return { nowait: checkOptionalBoolean('options.nowait', given.nowait), timeoutMs: checkWaitOptions(given) };
}

/** For backends: checks the value and options of {@link Eventfd.write}. */
export function checkEventfdWrite(value: unknown, options: unknown): { value: bigint; nowait: boolean; timeoutMs: number } {
  return { value: value === undefined ? 1n : checkCounterValue('value', value, EVENTFD_MAX), ...checkEventfdRead(options) };
}
