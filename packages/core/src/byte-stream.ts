import type { IpcObject } from './object.js';
import type { NowaitOptions } from './options.js';

/** Options of {@link ByteReader.read}. */
export interface ReadOptions extends NowaitOptions {
  /** Most bytes to return at once (default 65536). */
  readonly maxBytes?: number;
}

/** Options of {@link ByteWriter.write}. */
export type WriteOptions = NowaitOptions;

/**
 * The reading side of a byte stream (pipe, FIFO, stream socket).
 *
 * Bytes come in the order they were written; boundaries between writes are not kept. It is
 * async-iterable (chunks until EOF), and `Readable.from(reader)` makes it a Node stream.
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

/** Async iteration over a reader's chunks until EOF. Backends use it for `[Symbol.asyncIterator]`. */
export async function* iterateReader(reader: ByteReader): AsyncGenerator<Uint8Array, void, undefined> {
  for (;;) {
    const chunk = await reader.read();
    if (chunk === null) return;
    yield chunk;
  }
}
