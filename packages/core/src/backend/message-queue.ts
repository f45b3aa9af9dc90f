/**
 * Argument checks of System V message queues.
 *
 * For backends only (`@ipcx/core/backend`): every backend validates through these, so misuse
 * raises the same `TypeError`/`RangeError` with the same message before any system call.
 */
import { checkInteger, checkOptionalBoolean, checkOptionalInteger, checkOptions, checkString, checkWaitOptions, checkBytes } from './validate.js';
import { MAX_MESSAGE_TYPE, type MessageQueueOpenOptions, type MessageQueueReceiveOptions, type MessageQueueSendOptions, type MessageQueueSetOptions } from '../message-queue.js';
import type { MessageQueue, MessageQueues } from '../message-queue.js';

/** Validated arguments of {@link MessageQueues.open}. */
export interface CheckedMessageQueueOpen {
  /** The key as the signed 32-bit `key_t` the kernel stores. */
  readonly key: number;
  /** `IPC_CREAT`. */
  readonly create: boolean;
  /** `IPC_EXCL` (only with `create`). */
  readonly exclusive: boolean;
  /** Permission bits for a new queue (default `0o600`). */
  readonly mode: number;
}

/** Validated arguments of {@link MessageQueue.receive}. */
export interface CheckedMessageQueueReceive {
  /** `msgtyp` (default 0). */
  readonly type: number;
  /** `MSG_EXCEPT` (only with `type > 0`). */
  readonly except: boolean;
  /** `MSG_NOERROR`. */
  readonly noError: boolean;
  /** `IPC_NOWAIT`. */
  readonly nowait: boolean;
  /** `undefined`: the backend's default (its `msgmax`). */
  readonly maxBytes: number | undefined;
  /** Milliseconds, `Infinity` for none. */
  readonly timeoutMs: number;
}

/** Largest `maxBytes` of a receive or `set`: the kernel keeps these sizes in an int. */
export const MAX_MESSAGE_QUEUE_BYTES = 0x7fffffff;

/** For backends: checks a key (either 32-bit spelling) and open options. */
export function checkMessageQueueOpen(key: unknown, options: unknown): CheckedMessageQueueOpen {
  checkInteger('key', key, -0x80000000, 0xffffffff);
  const bag = checkOptions<MessageQueueOpenOptions>('options', options);
  const create = checkOptionalBoolean('options.create', bag.create);
  const exclusive = checkOptionalBoolean('options.exclusive', bag.exclusive);
  if (exclusive && !create) throw new RangeError('options.exclusive needs options.create');
  const mode = checkOptionalInteger('options.mode', bag.mode, 0, 0o777, 0o600);
  return { key: (key as number) | 0, create, exclusive, mode };
}

/** The largest System V id: ids are non-negative `int`s. */
const MAX_MESSAGE_QUEUE_ID = 0x7fffffff;

/** For backends: checks the id of {@link MessageQueues.openById}. */
export function checkMessageQueueId(id: unknown): number {
  return checkInteger('id', id, 0, MAX_MESSAGE_QUEUE_ID);
}

/** For backends: checks the arguments of `ftok`. */
export function checkMessageQueueFtok(path: unknown, projectId: unknown): { path: string; projectId: number } {
  return { path: checkString('path', path), projectId: checkInteger('projectId', projectId, 1, 255) };
}

/** For backends: checks a send's type, data and options; returns the payload bytes. */
export function checkMessageQueueSend(type: unknown, data: unknown, options: unknown): { type: number; bytes: Uint8Array; nowait: boolean; timeoutMs: number } {
  checkInteger('type', type, 1, MAX_MESSAGE_TYPE);
  const bytes = checkBytes('data', data);
  const bag = checkOptions<MessageQueueSendOptions>('options', options);
  const nowait = checkOptionalBoolean('options.nowait', bag.nowait);
  const timeoutMs = checkWaitOptions(options as MessageQueueSendOptions | undefined);
  return { type: type as number, bytes, nowait, timeoutMs };
}

/** For backends: checks a receive's options. */
export function checkMessageQueueReceive(options: unknown): CheckedMessageQueueReceive {
  const bag = checkOptions<MessageQueueReceiveOptions>('options', options);
  const type = checkOptionalInteger('options.type', bag.type, -MAX_MESSAGE_TYPE, MAX_MESSAGE_TYPE, 0);
  const except = checkOptionalBoolean('options.except', bag.except);
  if (except && type <= 0) throw new RangeError('options.except needs options.type > 0');
  const noError = checkOptionalBoolean('options.noError', bag.noError);
  const nowait = checkOptionalBoolean('options.nowait', bag.nowait);
  const maxBytes = bag.maxBytes === undefined ? undefined : checkInteger('options.maxBytes', bag.maxBytes, 0, MAX_MESSAGE_QUEUE_BYTES);
  const timeoutMs = checkWaitOptions(options as MessageQueueReceiveOptions | undefined);
  return { type, except, noError, nowait, maxBytes, timeoutMs };
}

/** For backends: checks `set` options; fields left out are `undefined`. */
export function checkMessageQueueSet(options: unknown): MessageQueueSetOptions {
  if (options === undefined) throw new TypeError('options must be an object, received undefined');
  const bag = checkOptions<MessageQueueSetOptions>('options', options);
  const out: { maxBytes?: number; mode?: number; uid?: number; gid?: number } = {};
  if (bag.maxBytes !== undefined) out.maxBytes = checkInteger('options.maxBytes', bag.maxBytes, 0, MAX_MESSAGE_QUEUE_BYTES);
  if (bag.mode !== undefined) out.mode = checkInteger('options.mode', bag.mode, 0, 0o777);
  // (uid_t) -1 means "unchanged" to the kernel, so the largest id is one less.
  if (bag.uid !== undefined) out.uid = checkInteger('options.uid', bag.uid, 0, 0xfffffffe);
  if (bag.gid !== undefined) out.gid = checkInteger('options.gid', bag.gid, 0, 0xfffffffe);
  return out;
}
