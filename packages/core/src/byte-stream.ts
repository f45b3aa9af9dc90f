import type { IpcObject } from './object.js';
import type { NowaitOptions } from './options.js';

/** Options of {@link ByteReader.read}. */
export interface ReadOptions extends NowaitOptions {
  /** Most bytes to return at once (default 65536). */
  readonly maxBytes?: number;
}

/** Options of {@link ByteWriter.write}. */
export type WriteOptions = NowaitOptions;

/** Options of {@link ByteReader.iterator}. */
export interface IteratorOptions {
  /**
   * Whether the iteration closes the object when it ends. By default (as Node streams' async
   * iterators destroy their stream) a `break`, `return` or read error closes it, and so does end
   * of stream for an object that only reads (pipe and FIFO readers). An object that also writes
   * (duplex pipe, stream socket) stays open at end of stream, since EOF only says the peer has
   * finished sending and the program may still answer and `end()`. `true` closes at end of
   * stream in every case; `false` never closes.
   */
  readonly close?: boolean;
}

/**
 * The reading side of a byte stream (pipe, FIFO, stream socket).
 *
 * Bytes come in the order they were written; boundaries between writes are not kept. It is
 * async-iterable: `for await (const chunk of reader)` gives chunks until EOF; a `break` closes the
 * reader, and so does EOF for an object that only reads ({@link IteratorOptions.close} says
 * when; {@link ByteReader.iterator} with `{ close: false }` keeps it open).
 * `Readable.from(reader)` makes it a Node stream.
 */
export interface ByteReader extends IpcObject, AsyncIterable<Uint8Array> {
  /**
   * Resolves with the next bytes, as soon as at least one is available (up to `maxBytes`), or `null`
   * at end of stream (every writer closed). Waits without blocking the event loop.
   * With `nowait`, rejects at once with `EAGAIN` when nothing is available.
   * Reads of one reader are served in call order.
   */
  read(options?: ReadOptions): Promise<Uint8Array | null>;
  /**
   * Like {@link ByteReader.read}, but into `buffer` (at most `buffer.length` bytes) instead of a
   * new array: resolves with the number of bytes read, `0` at end of stream. For bulk transfers
   * that reuse one buffer. `buffer` must not be empty (RangeError).
   */
  readInto(buffer: Uint8Array, options?: NowaitOptions): Promise<number>;
  /** A Web `ReadableStream` over this reader; cancelling it closes the reader. */
  readableStream(): ReadableStream<Uint8Array>;
  /**
   * The chunks until EOF, as `for await (const chunk of reader)` gives them; with
   * `{ close: false }` the reader stays open when the iteration ends.
   */
  iterator(options?: IteratorOptions): AsyncIterableIterator<Uint8Array>;
}

/**
 * The writing side of a byte stream.
 *
 * A write of at most {@link PIPE_BUF} bytes is atomic: its bytes are never interleaved with other
 * writers' bytes. Larger writes may be split and interleaved.
 */
export interface ByteWriter extends IpcObject {
  /**
   * Writes all of `data` (a string is UTF-8 encoded), waiting while the buffer is full, and resolves
   * with the number of bytes written. With `nowait`, writes what fits now and resolves with that
   * count, or rejects with `EAGAIN` when nothing fits (a write of at most `PIPE_BUF` bytes is all or
   * nothing). Rejects with `EPIPE` when no reader is left; the process never dies of `SIGPIPE`.
   * Writes of one writer are applied in call order.
   */
  write(data: Uint8Array | string, options?: WriteOptions): Promise<number>;
  /** A Web `WritableStream` over this writer; closing it closes the writer. */
  writableStream(): WritableStream<Uint8Array>;
}

/** Size up to which a pipe write is atomic (`PIPE_BUF` on Linux). */
export const PIPE_BUF = 4096;

/** Default `maxBytes` of a read. */
export const DEFAULT_READ_BYTES = 65536;

/**
 * Builds a Web `ReadableStream` over a reader. Backends use it for
 * {@link ByteReader.readableStream}.
 */
export function readerToWebStream(reader: ByteReader): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const chunk = await reader.read();
      if (chunk === null) controller.close();
      else controller.enqueue(chunk);
    },
    async cancel() {
      await reader.close();
    },
  });
}

/** Builds a Web `WritableStream` over a writer. Backends use it for {@link ByteWriter.writableStream}. */
export function writerToWebStream(writer: ByteWriter): WritableStream<Uint8Array> {
  return new WritableStream<Uint8Array>({
    async write(chunk) {
      await writer.write(chunk);
    },
    async close() {
      await writer.close();
    },
    async abort() {
      await writer.close();
    },
  });
}

/**
 * Async iteration over a reader's chunks until EOF, closing the reader as
 * {@link IteratorOptions.close} says. Backends use it for `[Symbol.asyncIterator]` and
 * {@link ByteReader.iterator}; `alsoWrites` says whether the object is duplex.
 */
export async function* iterateReader(reader: ByteReader, options?: IteratorOptions, alsoWrites = false): AsyncGenerator<Uint8Array, void, undefined> {
  const close = options?.close;
  if (close !== undefined && typeof close !== 'boolean') throw new TypeError('options.close must be a boolean');
  // An object that also writes stays open at EOF unless asked: the program may still answer.
  const closeAtEnd = close ?? !alsoWrites;
  let atEnd = false;
  try {
    for (;;) {
      const chunk = await reader.read();
      if (chunk === null) {
        atEnd = true;
        return;
      }
      yield chunk;
    }
  } finally {
    // Runs at EOF, on break/return and on a read error, as Node's stream iterators destroy.
    if (atEnd ? closeAtEnd : close !== false) await reader.close();
  }
}

/**
 * A Node `stream.Writable` over `writer`, for `pipeline(source, nodeWritable(writer))` and other
 * Node stream code: each chunk is one `writer.write` (so backpressure is the writer's), ending
 * the stream closes the writer, and so does destroying it (unless `options.close` is false).
 * Strings are written as UTF-8. Node only: it loads `node:stream` when called (core itself
 * imports nothing of Node, so it also loads in browsers); the reading side needs no helper:
 * `Readable.from(reader)`.
 */
export function nodeWritable(writer: ByteWriter, options?: IteratorOptions): import('node:stream').Writable {
  const close = options?.close ?? true;
  if (typeof close !== 'boolean') throw new TypeError('options.close must be a boolean');
  const { Writable } = process.getBuiltinModule('node:stream') as typeof import('node:stream');
  return new Writable({
    write(chunk: Uint8Array | string, _encoding, callback) {
      writer.write(chunk).then(() => callback(), callback);
    },
    final(callback) {
      if (!close) return callback();
      writer.close().then(() => callback(), callback);
    },
    destroy(error, callback) {
      if (!close || writer.closed) return callback(error);
      writer.close().then(() => callback(error), () => callback(error));
    },
  });
}
