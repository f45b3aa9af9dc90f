/**
 * What a pool and its workers say to each other over each worker's Connection, and how an error
 * crosses: class name, message, stack and code, rebuilt as the same built-in class where there
 * is one.
 */

import type { IpcBackend } from '@ipcx/core';
import type { Codec } from './codec.js';
import type { Connection } from './connection.js';
import { ErrorCode, isMultiprocessingError, type MultiprocessingError } from './errors.js';
import { decodeInPlace, decodeValue, encodeValue } from './value-bytes.js';

/** A function a worker runs: an export of a module (functions themselves cannot cross processes). */
export interface TaskRef {
  /** The module's URL (`new URL('./tasks.js', import.meta.url)`) or absolute file URL string. */
  readonly module: string;
  /** The export's name. */
  readonly name: string;
}

/** Parent to worker: run `fn` on each item (spread as arguments when `star`). */
export interface RunMessage {
  readonly type: 'run';
  readonly id: number;
  readonly task: TaskRef;
  readonly items: readonly unknown[];
  readonly star: boolean;
}

/** Parent to worker: finish and exit. */
export interface StopMessage {
  readonly type: 'stop';
}

/**
 * Every message of a pool travels as a raw bytes frame (`sendBytes`), read by a {@link FrameReader}
 * into one buffer that it reuses (`recvBytesInto`): no fresh memory per message on either side.
 * Fresh memory is what costs here: a new 100 KB buffer per chunk (`recv`'s copy of a frame) is
 * new pages each time once the allocator has given the last ones back, ~20 µs per 4 KiB page on
 * the guests this was measured on. A frame starts with its kind (u32 words, this machine's byte
 * order: both ends share it):
 *
 * ```
 *  value: ┌ VALUE ┬ objects (0/1) ┬ the codec's bytes of a RunMessage / StopMessage / WorkerMessage ┐
 *  run:   ┌ RUN ┬ id ┬ count ┬ module bytes ┬ name bytes ┬ 0 ┬ module, name (UTF-8), zeros to 8 ┬ count × f64 ┐
 *  done:  ┌ DONE ┬ id ┬ count ┬ retiring (0/1) ┬ count × f64 ┐
 * ```
 *
 * `run` and `done` carry a chunk of a `map` whose items (results) all are numbers as one block of
 * float64s: no array is built and decoded element by element on the way. Only under the default
 * codec, whose numbers are float64 too (what arrives is what structured clone gives: -0, NaN and
 * the infinities kept); anything else is a `value` frame.
 */
export const Frame = { value: 0, run: 1, done: 2 } as const;
const VALUE_HEADER_BYTES = 8;
const RUN_HEADER_BYTES = 24;
const DONE_HEADER_BYTES = 16;
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** The value frame of `message`; throws (a `DataCloneError`) before anything is sent if it cannot be encoded. */
export function valueFrame(codec: Codec, message: unknown): Uint8Array {
  const encoded = encodeValue(codec, message);
  const frame = new Uint8Array(VALUE_HEADER_BYTES + encoded.bytes.length);
  const words = new Uint32Array(frame.buffer, 0, 2);
  words[0] = Frame.value;
  words[1] = encoded.objects ? 1 : 0;
  frame.set(encoded.bytes, VALUE_HEADER_BYTES);
  return frame;
}

/** The kind of a frame ({@link Frame}); throws on anything else. */
export function frameKind(frame: Uint8Array): number {
  if (frame.length < VALUE_HEADER_BYTES) throw new TypeError('a pool frame is too short');
  const kind = frame[0] | (frame[1] << 8) | (frame[2] << 16) | (frame[3] << 24);
  if (kind !== Frame.value && kind !== Frame.run && kind !== Frame.done) throw new TypeError(`a pool frame has an unknown kind ${kind}`);
  return kind;
}

/** The message of a value frame (objects in it revived through `backend`). */
export async function readValueFrame(frame: Uint8Array, codec: Codec, backend: IpcBackend): Promise<unknown> {
  const objects = frame[4] !== 0;
  const bytes = frame.subarray(VALUE_HEADER_BYTES);
  // The frame's buffer is reused by the next read: decoded in place only where nothing keeps a view of it.
  return objects ? decodeValue(codec, bytes.slice(), true, backend) : decodeInPlace(codec, bytes);
}

/**
 * The run frame of `items[start..end)` for `task` (chunk `id`) in a buffer from `allocate` (at
 * least the bytes asked, at its offset 0), or `undefined` when one of them is not a number.
 */
export function runFrame(id: number, task: TaskRef, items: readonly unknown[], start: number, end: number, allocate: (bytes: number) => Uint8Array): Uint8Array | undefined {
  const count = end - start;
  for (let i = start; i < end; i++) if (typeof items[i] !== 'number') return undefined;
  const module = utf8.encode(task.module);
  const name = utf8.encode(task.name);
  const textEnd = RUN_HEADER_BYTES + module.length + name.length;
  const dataAt = align8(textEnd);
  const frame = allocate(dataAt + 8 * count).subarray(0, dataAt + 8 * count);
  const words = new Uint32Array(frame.buffer, frame.byteOffset, RUN_HEADER_BYTES / 4);
  words[0] = Frame.run;
  words[1] = id;
  words[2] = count;
  words[3] = module.length;
  words[4] = name.length;
  words[5] = 0;
  frame.set(module, RUN_HEADER_BYTES);
  frame.set(name, RUN_HEADER_BYTES + module.length);
  frame.fill(0, textEnd, dataAt);
  const numbers = new Float64Array(frame.buffer, frame.byteOffset + dataAt, count);
  for (let i = 0; i < count; i++) numbers[i] = items[start + i] as number;
  return frame;
}

/** A run frame read back: its items are a view of the frame's bytes. */
export interface NumbersRun {
  readonly type: 'numbers';
  readonly id: number;
  readonly task: TaskRef;
  readonly items: Float64Array;
}

/** A done frame read back: its results are a view of the frame's bytes. */
export interface NumbersDone {
  readonly id: number;
  readonly results: Float64Array;
  readonly retiring: boolean;
}

/** Reads a run frame made by {@link runFrame}. */
export function readRunFrame(frame: Uint8Array): NumbersRun {
  const bytes = alignedCopy(frame);
  if (bytes.length < RUN_HEADER_BYTES) throw new TypeError('a pool run frame is corrupt');
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset, RUN_HEADER_BYTES / 4);
  const [, id, count, moduleBytes, nameBytes] = words;
  const dataAt = align8(RUN_HEADER_BYTES + moduleBytes + nameBytes);
  if (bytes.length !== dataAt + 8 * count) throw new TypeError('a pool run frame is corrupt');
  const module = fromUtf8.decode(bytes.subarray(RUN_HEADER_BYTES, RUN_HEADER_BYTES + moduleBytes));
  const name = fromUtf8.decode(bytes.subarray(RUN_HEADER_BYTES + moduleBytes, RUN_HEADER_BYTES + moduleBytes + nameBytes));
  return { type: 'numbers', id, task: { module, name }, items: new Float64Array(bytes.buffer, bytes.byteOffset + dataAt, count) };
}

/** Bytes of a done frame of `count` results. */
export function doneFrameBytes(count: number): number {
  return DONE_HEADER_BYTES + 8 * count;
}

/**
 * The done frame of chunk `id` at the start of `buffer` (8-byte aligned, at least
 * {@link doneFrameBytes} long): its header written, its `count` result slots to fill through
 * {@link doneResults} before it is sent.
 */
export function doneFrame(buffer: Uint8Array, id: number, count: number, retiring: boolean): Uint8Array {
  const frame = buffer.subarray(0, doneFrameBytes(count));
  const words = new Uint32Array(frame.buffer, frame.byteOffset, DONE_HEADER_BYTES / 4);
  words[0] = Frame.done;
  words[1] = id;
  words[2] = count;
  words[3] = retiring ? 1 : 0;
  return frame;
}

/** The result slots of a done frame made by {@link doneFrame}. */
export function doneResults(frame: Uint8Array): Float64Array {
  return new Float64Array(frame.buffer, frame.byteOffset + DONE_HEADER_BYTES, (frame.length - DONE_HEADER_BYTES) / 8);
}

/** Reads a done frame made by {@link doneFrame}. */
export function readDoneFrame(frame: Uint8Array): NumbersDone {
  const bytes = alignedCopy(frame);
  if (bytes.length < DONE_HEADER_BYTES) throw new TypeError('a pool done frame is corrupt');
  const [, id, count, retiring] = new Uint32Array(bytes.buffer, bytes.byteOffset, DONE_HEADER_BYTES / 4);
  if (bytes.length !== DONE_HEADER_BYTES + 8 * count) throw new TypeError('a pool done frame is corrupt');
  return { id, results: new Float64Array(bytes.buffer, bytes.byteOffset + DONE_HEADER_BYTES, count), retiring: retiring !== 0 };
}

/**
 * Reads a Connection's frames into one buffer, grown to the largest frame seen and reused: a
 * frame (and any view of it) is valid until the next {@link FrameReader.next}.
 */
export class FrameReader {
  private buffer = new Uint8Array(64 * 1024);

  constructor(private readonly conn: Connection) {}

  /** The next frame; rejects as the Connection's `recvBytesInto` does (`EOF` when the other side is gone). */
  async next(): Promise<Uint8Array> {
    try {
      const size = await this.conn.recvBytesInto(this.buffer);
      return this.buffer.subarray(0, size);
    } catch (error) {
      if (!isMultiprocessingError(error, ErrorCode.bufferTooShort)) throw error;
      // Taken whole into the error: read it from there, and have room for such frames next time.
      const { bytes } = error as MultiprocessingError & { bytes: Uint8Array };
      let size = this.buffer.length;
      while (size < bytes.length) size *= 2;
      this.buffer = new Uint8Array(size);
      return bytes;
    }
  }
}

function align8(bytes: number): number {
  return (bytes + 7) & ~7;
}

/** `frame` itself when its float64s can be viewed in place (8-byte aligned), else a copy that is. */
function alignedCopy(frame: Uint8Array): Uint8Array {
  return frame.byteOffset % 8 === 0 ? frame : frame.slice();
}

/** An error as it crosses from a worker. */
export interface ErrorRecord {
  readonly className: string;
  readonly message: string;
  readonly stack: string | undefined;
  /** A string or number `code` of the thrown error; any other code is dropped. */
  readonly code: string | number | undefined;
}

/** Worker to parent. `retiring`: this was its last task (`maxtasksperchild`); it exits next. */
export type WorkerMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'done'; readonly id: number; readonly results: ArrayLike<unknown>; readonly retiring: boolean }
  | { readonly type: 'failed'; readonly id: number; readonly error: ErrorRecord; readonly index: number; readonly retiring: boolean };

/** The record of a thrown value. */
export function errorRecord(error: unknown): ErrorRecord {
  // The thrown value is the task's: any read of it may throw (a getter, a Proxy's trap, an object
  // without toString) or give what cannot be sent (a function as code). The record keeps strings
  // and a string or number code only, so that reporting the failure cannot fail in turn and take
  // the worker down with it (the caller would see WORKER_DIED instead of its error).
  if (attempt(() => error instanceof Error) === true) {
    const thrown = error as Error & { code?: unknown };
    const className = stringOf(attempt(() => thrown.constructor?.name)) ?? stringOf(attempt(() => thrown.name)) ?? 'Error';
    const message = attempt(() => thrown.message);
    const code = attempt(() => thrown.code);
    return {
      className,
      message: message === undefined ? '' : describe(message),
      stack: stringOf(attempt(() => thrown.stack)),
      code: typeof code === 'string' || typeof code === 'number' ? code : undefined,
    };
  }
  return { className: 'Error', message: `a non-Error was thrown: ${describe(error)}`, stack: undefined, code: undefined };
}

/** What `read` gives, or undefined when it throws. */
function attempt<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** `String(value)` where it works; an object without a usable toString is named by its tag. */
function describe(value: unknown): string {
  return attempt(() => String(value)) ?? attempt(() => Object.prototype.toString.call(value)) ?? 'an object';
}

// A Map, not an object: a class named `toString` or `constructor` must not find Object.prototype's members.
const BUILT_IN: ReadonlyMap<string, ErrorConstructor> = new Map<string, ErrorConstructor>([
  ['Error', Error],
  ['TypeError', TypeError],
  ['RangeError', RangeError],
  ['SyntaxError', SyntaxError],
  ['ReferenceError', ReferenceError],
  ['EvalError', EvalError],
  ['URIError', URIError],
]);

/** The error of a record: the same built-in class where there is one, else an `Error` named after the class. */
export function errorFromRecord(record: ErrorRecord): Error {
  const Ctor = BUILT_IN.get(record.className);
  const error = new (Ctor ?? Error)(record.message);
  if (Ctor === undefined) error.name = record.className;
  if (record.stack !== undefined) error.stack = record.stack;
  if (record.code !== undefined) (error as { code?: unknown }).code = record.code;
  return error;
}
