/**
 * Argument checks of System V semaphore sets.
 *
 * For backends only (`@ipcx/core/backend`): every backend validates through these, so misuse
 * raises the same `TypeError`/`RangeError` with the same message before any system call.
 */
import { checkInteger, checkOptionalBoolean, checkOptions, checkWaitOptions } from './validate.js';
import { type SemaphoreOperateOptions, type SemaphoreOperation, type SemaphoreSetAttributes, type SemaphoreSetOpenOptions, type SemaphoreWaitOptions, SEMMSL, SEMVMX } from '../semaphore.js';
import type { SemaphoreSet, Semaphores } from '../semaphore.js';

/** A validated {@link SemaphoreOperation}: what every backend hands to its `semop`. */
export interface CheckedSemaphoreOperation {
  readonly index: number;
  readonly delta: number;
  readonly nowait: boolean;
  readonly undo: boolean;
}

/**
 * For backends: checks an operation list against a set of `size` semaphores, so that every backend
 * throws the same `TypeError`/`RangeError` for the same misuse before any call. The list's length
 * is left to the kernel's `SEMOPM` (`E2BIG`).
 */
export function checkSemaphoreOperations(operations: unknown, size: number): CheckedSemaphoreOperation[] {
  if (!Array.isArray(operations)) throw new TypeError('operations must be an array of { index, delta } objects');
  if (operations.length === 0) throw new RangeError('operations must not be empty');
  // Every index is visited: `map` would skip the holes of a sparse array (`[, op]`) and leave
  // them for the encoder to read as zeros, i.e. "wait for zero on semaphore 0".
  return Array.from({ length: operations.length }, (_, i) => {
    const operation: unknown = operations[i];
    if (operation === undefined) throw new TypeError(`operations[${i}] must be an object, received undefined`);
    const { index, delta, nowait, undo } = checkOptions<SemaphoreOperation>(`operations[${i}]`, operation);
    return {
      index: checkInteger(`operations[${i}].index`, index, 0, size - 1),
      delta: checkInteger(`operations[${i}].delta`, delta, -SEMVMX, SEMVMX),
      nowait: checkOptionalBoolean(`operations[${i}].nowait`, nowait),
      undo: checkOptionalBoolean(`operations[${i}].undo`, undo),
    };
  });
}

/** Validated arguments of {@link Semaphores.open}. */
export interface CheckedSemaphoreOpen {
  /** The key as the signed 32-bit `key_t` the kernel stores (0 for `'private'`). */
  readonly key: number;
  /** `IPC_CREAT`: asked for, or implied by a private key. */
  readonly create: boolean;
  /** `IPC_EXCL`. */
  readonly exclusive: boolean;
  /** `nsems`: 0 when not given (an existing set). */
  readonly size: number;
  /** Permission bits: as given, else `0o600` to create and 0 (ask for none) to find a set. */
  readonly mode: number;
}

/**
 * For backends: checks the key (either 32-bit spelling, or `'private'`) and options of
 * {@link Semaphores.open}; creating needs `options.size` (`TypeError`).
 */
export function checkSemaphoreOpen(key: unknown, options: unknown): CheckedSemaphoreOpen {
  const isPrivate = key === 'private';
  // Keys are 32-bit: accept them signed (as ftok returns them) or unsigned (as ipcs prints them).
  const kernelKey = isPrivate ? 0 : checkInteger('key', key, -0x80000000, 0xffffffff) | 0;
  const { size, create, exclusive, mode } = checkOptions<SemaphoreSetOpenOptions>('options', options);
  const creating = isPrivate || kernelKey === 0 || checkOptionalBoolean('options.create', create);
  const wantExclusive = checkOptionalBoolean('options.exclusive', exclusive);
  const count = size === undefined ? 0 : checkInteger('options.size', size, 1, SEMMSL);
  if (creating && size === undefined) throw new TypeError('options.size is required to create a semaphore set');
  // Opening an existing set checks the permission bits asked for; asking for none just finds it.
  const flags = mode === undefined ? (creating ? 0o600 : 0) : checkInteger('options.mode', mode, 0, 0o777);
  return { key: kernelKey, create: creating, exclusive: wantExclusive, size: count, mode: flags };
}

/** For backends: checks the options of {@link SemaphoreSet.operate} (the operations are checked by {@link checkSemaphoreOperations}). */
export function checkSemaphoreOperate(options: unknown): { nowait: boolean; signal: AbortSignal | undefined; timeoutMs: number } {
  const { nowait, signal } = checkOptions<SemaphoreOperateOptions>('options', options);
  const wantNowait = checkOptionalBoolean('options.nowait', nowait);
  return { nowait: wantNowait, signal, timeoutMs: checkWaitOptions(options as SemaphoreOperateOptions | undefined) };
}

/**
 * For backends: the one operation of {@link SemaphoreSet.wait} (`sign` -1) or
 * {@link SemaphoreSet.post} (`sign` 1): `count` from 1 to {@link SEMVMX}, `options.undo`. The
 * index is checked with the operation (see {@link checkSemaphoreOperations}).
 */
export function checkSemaphoreUnitOperation(index: number, count: unknown, options: unknown, sign: -1 | 1): SemaphoreOperation {
  const undo = checkOptionalBoolean('options.undo', checkOptions<SemaphoreWaitOptions>('options', options).undo);
  const delta = sign * checkInteger('count', count, 1, SEMVMX);
  return { index, delta, undo };
}

/** For backends: checks the arguments of {@link SemaphoreSet.setValue} on a set of `size` semaphores. */
export function checkSemaphoreSetValue(size: number, index: unknown, value: unknown): void {
  checkInteger('index', index, 0, size - 1);
  checkInteger('value', value, 0, SEMVMX);
}

/** For backends: checks the values of {@link SemaphoreSet.setValues}: one per semaphore of the set, each 0 to {@link SEMVMX}. */
export function checkSemaphoreSetValues(size: number, values: unknown): readonly number[] {
  if (!Array.isArray(values)) throw new TypeError('values must be an array of numbers');
  if (values.length !== size) throw new RangeError(`values must have one value per semaphore (${size}), received ${values.length}`);
  values.forEach((value, i) => checkInteger(`values[${i}]`, value, 0, SEMVMX));
  return values as readonly number[];
}

/** For backends: checks {@link SemaphoreSet.set}'s attributes; a field left out is `undefined` (unchanged). */
export function checkSemaphoreSetAttributes(attributes: unknown): { mode: number | undefined; uid: number | undefined; gid: number | undefined } {
  const { mode, uid, gid } = checkOptions<SemaphoreSetAttributes>('attributes', attributes);
  if (attributes === undefined) throw new TypeError('attributes must be an object, received undefined');
  return {
    mode: mode === undefined ? undefined : checkInteger('attributes.mode', mode, 0, 0o777),
    // (uid_t) -1 means "unchanged" to the kernel, so the largest id is one less.
    uid: uid === undefined ? undefined : checkInteger('attributes.uid', uid, 0, 0xfffffffe),
    gid: gid === undefined ? undefined : checkInteger('attributes.gid', gid, 0, 0xfffffffe),
  };
}
