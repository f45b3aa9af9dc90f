/**
 * Argument checks of FIFOs (`Fifos.create`, `openReader`, `openWriter`).
 *
 * For backends only (`@ipcx/core/backend`): every backend validates through these, so misuse
 * raises the same `TypeError`/`RangeError` with the same message before any system call.
 */
import { checkInteger, checkOptionalBoolean, checkOptions, checkString, checkWaitOptions } from './validate.js';
import type { FifoCreateOptions, FifoOpenOptions } from '../fifo.js';
import type { Fifos } from '../fifo.js';

/** For backends: checks the arguments of {@link Fifos.create}; returns the mode (default `0o600`, at most `0o7777`). */
export function checkFifoCreate(path: unknown, options: unknown): { mode: number } {
  checkString('path', path);
  const { mode } = checkOptions<FifoCreateOptions>('options', options);
  return { mode: mode === undefined ? 0o600 : checkInteger('options.mode', mode, 0, 0o7777) };
}

/** For backends: checks the arguments of {@link Fifos.openReader} and {@link Fifos.openWriter}. */
export function checkFifoOpen(path: unknown, options: unknown): { nowait: boolean; timeoutMs: number } {
  checkString('path', path);
  const bag = checkOptions<FifoOpenOptions>('options', options);
  const nowait = checkOptionalBoolean('options.nowait', bag.nowait);
  return { nowait, timeoutMs: checkWaitOptions(options as FifoOpenOptions | undefined) };
}
