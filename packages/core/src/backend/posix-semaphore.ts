/**
 * Argument checks of POSIX semaphores, named and unnamed.
 *
 * For backends only (`@ipcx/core/backend`): every backend validates through these, so misuse
 * raises the same `TypeError`/`RangeError` with the same message before any system call.
 */
import { checkInteger, checkOptionalBoolean, checkOptions, checkString, checkWaitOptions } from './validate.js';
import { POSIX_SEMAPHORE_ALIGN, POSIX_SEMAPHORE_BYTES, type PosixSemaphoreOpenOptions, type PosixSemaphoreWaitOptions, SEM_VALUE_MAX } from '../posix-semaphore.js';
import type { PosixSemaphore, PosixSemaphores } from '../posix-semaphore.js';

/** Validated arguments of {@link PosixSemaphores.open}. */
export interface CheckedPosixSemaphoreOpen {
  /** `O_CREAT`. */
  readonly create: boolean;
  /** `O_EXCL`. */
  readonly exclusive: boolean;
  /** Permission bits for a new semaphore (default `0o600`). */
  readonly mode: number;
  /** Initial value of a new semaphore (default 0). */
  readonly initial: number;
}

/** For backends: checks the name and options of {@link PosixSemaphores.open}. */
export function checkPosixSemaphoreOpen(name: unknown, options: unknown): CheckedPosixSemaphoreOpen {
  checkString('name', name);
  const { create, exclusive, mode, initial } = checkOptions<PosixSemaphoreOpenOptions>('options', options);
  const wantCreate = checkOptionalBoolean('options.create', create);
  const wantExclusive = checkOptionalBoolean('options.exclusive', exclusive);
  const permissions = mode === undefined ? 0o600 : checkInteger('options.mode', mode, 0, 0o777);
  const value = initial === undefined ? 0 : checkInteger('options.initial', initial, 0, SEM_VALUE_MAX);
  return { create: wantCreate, exclusive: wantExclusive, mode: permissions, initial: value };
}

/** For backends: checks the `initial` of {@link PosixSemaphores.init} (default 0). */
export function checkPosixSemaphoreInitial(initial: unknown): number {
  return initial === undefined ? 0 : checkInteger('initial', initial, 0, SEM_VALUE_MAX);
}

/**
 * For backends: checks where an unnamed semaphore goes in a segment of `segmentSize` bytes:
 * `byteOffset` inside it, aligned to {@link POSIX_SEMAPHORE_ALIGN}, with room for
 * {@link POSIX_SEMAPHORE_BYTES}. Throws `RangeError`/`TypeError`.
 */
export function checkPosixSemaphorePlace(segmentSize: number, byteOffset: unknown): number {
  checkInteger('byteOffset', byteOffset, 0, Math.max(0, segmentSize - POSIX_SEMAPHORE_BYTES));
  if ((byteOffset as number) % POSIX_SEMAPHORE_ALIGN !== 0) throw new RangeError(`byteOffset must be a multiple of ${POSIX_SEMAPHORE_ALIGN}, received ${byteOffset as number}`);
  if (segmentSize < POSIX_SEMAPHORE_BYTES) throw new RangeError(`a segment of ${segmentSize} bytes cannot hold a semaphore (${POSIX_SEMAPHORE_BYTES} bytes)`);
  return byteOffset as number;
}

/** For backends: checks the options of {@link PosixSemaphore.wait}. */
export function checkPosixSemaphoreWait(options: unknown): { nowait: boolean; signal: AbortSignal | undefined; timeoutMs: number } {
  const { nowait, signal } = checkOptions<PosixSemaphoreWaitOptions>('options', options);
  const wantNowait = checkOptionalBoolean('options.nowait', nowait);
  const timeoutMs = checkWaitOptions(options as PosixSemaphoreWaitOptions | undefined);
  return { nowait: wantNowait, signal, timeoutMs };
}
