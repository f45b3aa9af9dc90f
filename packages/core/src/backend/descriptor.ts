/**
 * Argument checks of generic descriptors (`Descriptor.read`/`write`) and how a descriptor source
 * names its descriptor number.
 *
 * For backends only (`@ipcx/core/backend`): every backend validates through these, so misuse
 * raises the same `TypeError`/`RangeError` with the same message before any system call.
 */
import { checkInteger, checkOptions, checkWaitOptions } from './validate.js';
import type { DescriptorReadOptions, DescriptorWriteOptions } from '../descriptor.js';
import type { WaitOptions } from '../options.js';
import { isTransferable } from '../transfer.js';
import type { Descriptor, DescriptorSource } from '../descriptor.js';

/**
 * The descriptor number of a {@link DescriptorSource}, or `undefined` when `value` is none (an ipcx
 * object without an OS descriptor, such as a System V queue or any worker object). A closed ipcx
 * object or handle (`fd` -1) is a `TypeError`.
 */
export function descriptorNumberOf(name: string, value: unknown): number | undefined {
  if (typeof value === 'number') return checkInteger(name, value, 0, 0x7fffffff);
  if (typeof value !== 'object' || value === null) return undefined;
  const fd = (value as { fd?: unknown }).fd;
  if (typeof fd !== 'number') return undefined;
  if (fd < 0 || (value as { closed?: unknown }).closed === true) throw new TypeError(`${name} is closed`);
  return checkInteger(name, fd, 0, 0x7fffffff);
}

/** True for a plain descriptor number or an object with a numeric `fd` that is no ipcx transferable. */
export function isForeignDescriptor(value: unknown): value is number | { readonly fd: number } {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0;
  return typeof value === 'object' && value !== null && !isTransferable(value) && typeof (value as { fd?: unknown }).fd === 'number';
}

/** For backends: checks {@link Descriptor.read} options; returns maxBytes, position (-1: file offset) and the timeout. */
export function checkDescriptorRead(options: unknown): { maxBytes: number; position: number; timeoutMs: number } {
  const { maxBytes, position } = checkOptions<DescriptorReadOptions>('options', options);
  return {
    maxBytes: maxBytes === undefined ? 65536 : checkInteger('options.maxBytes', maxBytes, 1, 1 << 30),
    position: position === undefined ? -1 : checkInteger('options.position', position, 0, Number.MAX_SAFE_INTEGER),
    timeoutMs: checkWaitOptions(options as WaitOptions | undefined),
  };
}

/** For backends: checks {@link Descriptor.write} options; returns position (-1: file offset) and the timeout. */
export function checkDescriptorWrite(options: unknown): { position: number; timeoutMs: number } {
  const { position } = checkOptions<DescriptorWriteOptions>('options', options);
  return {
    position: position === undefined ? -1 : checkInteger('options.position', position, 0, Number.MAX_SAFE_INTEGER),
    timeoutMs: checkWaitOptions(options as WaitOptions | undefined),
  };
}
