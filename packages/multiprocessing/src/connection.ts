/**
 * Connection: Python's `multiprocessing.connection.Connection`, the two ends `Pipe()` returns.
 * Values (or raw bytes) cross as length-prefixed frames over a duplex pipe
 * (`socketpair(AF_UNIX, SOCK_STREAM)`) or, for `Pipe(false)`, a one-way pipe.
 *
 * ```
 *  frame: ┌──────────────────┬────────────┬───────────────────────┐
 *         │ length: u32 (LE) │ kind: u8   │ payload: length bytes │
 *         └──────────────────┴────────────┴───────────────────────┘
 *  FRAME_HEADER_BYTES = 5; kind: 0 value, 1 value holding objects to revive, 2 raw bytes
 * ```
 * A value larger than the pipe's buffer streams through it: the only limit is memory (and
 * 2^32 - 1 bytes per frame). A frame whose length the receiver cannot allocate (a huge value, or
 * a peer that wrote a bogus header) tears the stream: its receive and every later one reject with
 * `ENOMEM`.
 */
import { moduleTransferSymbol, type ModuleTransfer, closedError, IpcError, isIpcError, Primitive, type ByteReader, type ByteWriter, type DuplexPipe, type IpcBackend, type WaitOptions, type WriteOptions } from '@ipcx/core';
import type { Codec } from './codec.js';
import { codecNamed } from './codec-registry.js';
import { ErrorCode, MultiprocessingError, bufferTooShort, timedOut } from './errors.js';
import { registerReviver, shareSymbol, transferByModule, type Shareable, type ShareRecord } from './share.js';
import { decodeValue, encodeValue, stableBytes } from './value-bytes.js';
import { closedDuring, closedObject } from './kernel-objects.js';
import { NO_DEADLINE, deadlineOf, inTurn, waitOptionsLeft, type Deadline } from './wait.js';

/** Bytes of a frame's header: length (u32) and kind (u8). */
export const FRAME_HEADER_BYTES = 5;
/** The largest payload of one frame. */
export const MAX_FRAME_BYTES = 0xffff_ffff;

const Kind = { value: 0, valueWithObjects: 1, bytes: 2 } as const;
const READ_CHUNK = 65536;
const NOWAIT: WriteOptions = { nowait: true };

/**
 * One end of a {@link Pipe}.
 *
 * **Blocking**: `recv`/`recvBytes` wait (without blocking the event loop) for a whole frame;
 * `send`/`sendBytes` wait while the pipe's buffer is full. Concurrent calls on one end are served
 * in call order. One process should send on an end at a time (as in Python: frames of two writers
 * on one end could interleave).
 *
 * **Atomicity**: a value is encoded completely before the first byte is written, so a value that
 * cannot be serialized throws {@link DataCloneError} and nothing is sent. A frame is received whole
 * or not at all.
 *
 * **The other side**: when every copy of the other end is closed (or its process died, however),
 * `recv` rejects with code `EOF` ({@link ErrorCode.eof}), also in the middle of a frame (the torn
 * frame is dropped); `send` rejects with `EPIPE`.
 *
 * **Travel**: pass an end in `spawn` args; it reaches the child as an inherited descriptor. It
 * cannot travel inside a value sent through a Queue ({@link DataCloneError}).
 */
export class Connection implements Shareable, AsyncDisposable {
  private buffered: Uint8Array = new Uint8Array(0);
  private offset = 0;
  private reading: Promise<unknown> = Promise.resolve();
  private writing: Promise<unknown> = Promise.resolve();
  private eof = false;
  /** Set when a frame could not be allocated: the stream cannot be framed past it (see readFrame). */
  private torn: IpcError | undefined;
  private isClosed = false;
  /** Aborted by {@link Connection.close}: stops a write waiting for room (see there). */
  private readonly closing = new AbortController();

  /** @internal Use {@link Pipe}. */
  constructor(
    private readonly reader: ByteReader | undefined,
    private readonly writer: ByteWriter | undefined,
    private readonly backend: IpcBackend,
    private readonly codec: Codec,
  ) {}

  /** True if this end can receive (`Pipe(false)` gives a receive-only and a send-only end). */
  get readable(): boolean {
    return this.reader !== undefined;
  }

  /** True if this end can send. */
  get writable(): boolean {
    return this.writer !== undefined;
  }

  /** True once {@link Connection.close} was called. */
  get closed(): boolean {
    return this.isClosed;
  }

  /**
   * Sends `value` as one frame. Throws {@link DataCloneError} (nothing sent) if the codec cannot
   * encode it; rejects with `EPIPE` when the other end is gone, `CLOSED` after close (also when
   * this end is closed while the send waits for room, see {@link Connection.close}).
   */
  send(value: unknown, options?: WaitOptions): Promise<void> {
    if (this.isClosed) return Promise.reject(closedObject('connection', 'send'));
    const writer = this.writableEnd('send');
    const encoded = encodeValue(this.codec, value);
    // Frames up to READ_CHUNK are copied into one write at once; larger ones are kept across awaits.
    const bytes = encoded.bytes.length <= READ_CHUNK ? encoded.bytes : stableBytes(encoded);
    return this.writeFrame(writer, encoded.objects ? Kind.valueWithObjects : Kind.value, bytes, options);
  }

  /** Sends `bytes` (or `bytes[offset, offset + size)`) as one frame, as Python's `send_bytes`. */
  sendBytes(bytes: Uint8Array, offset = 0, size = bytes.length - offset): Promise<void> {
    if (this.isClosed) return Promise.reject(closedObject('connection', 'sendBytes'));
    const writer = this.writableEnd('sendBytes');
    if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array');
    if (!Number.isInteger(offset) || offset < 0 || offset > bytes.length) throw new RangeError('offset is outside bytes');
    if (!Number.isInteger(size) || size < 0 || offset + size > bytes.length) throw new RangeError('size goes past the end of bytes');
    return this.writeFrame(writer, Kind.bytes, bytes.subarray(offset, offset + size));
  }

  /**
   * The next value. Waits for a whole frame; rejects with code `EOF` when the other side closed
   * (or died), `ETIMEDOUT` after `timeout` ms, `AbortError` on `signal`: a cancelled wait consumes
   * nothing; `CLOSED` after close, also when this end is closed while it waits; `ENOMEM` (an
   * `IpcError`) when a frame is larger than this process can allocate, and at every later receive
   * (the stream is torn). A frame sent with `sendBytes` arrives as its `Uint8Array`.
   */
  recv<T = unknown>(options?: WaitOptions): Promise<T> {
    return this.serialRead('recv', options, async (left) => {
      const [kind, payload] = await this.readFrame(left);
      if (kind === Kind.bytes) return payload as T;
      return (await decodeValue(this.codec, payload, kind === Kind.valueWithObjects, this.backend)) as T;
    });
  }

  /** The next frame's bytes, as Python's `recv_bytes` (a value's frame gives its encoded bytes). */
  recvBytes(options?: WaitOptions): Promise<Uint8Array> {
    return this.serialRead('recv', options, async (left) => (await this.readFrame(left))[1]);
  }

  /**
   * Receives the next frame's bytes into `buffer` at `offset` and resolves with their count, as
   * Python's `recv_bytes_into`: no array per message. A message longer than the room rejects with
   * `BUFFER_TOO_SHORT`, whose `bytes` hold it (it was taken). Waits and fails as {@link Connection.recv}.
   */
  async recvBytesInto(buffer: Uint8Array, offset = 0, options?: WaitOptions): Promise<number> {
    checkInto(buffer, offset);
    const bytes = await this.recvBytes(options);
    return copyInto(bytes, buffer, offset);
  }

  /**
   * Whether a frame (or EOF) can be received without waiting, waiting up to `timeout` ms for one
   * (default 0: just look; `Infinity`: until something arrives). Never consumes a frame.
   */
  poll(timeout = 0): Promise<boolean> {
    if (typeof timeout !== 'number' || Number.isNaN(timeout) || timeout < 0) throw new RangeError('timeout must be a number >= 0');
    return this.serialRead('poll', undefined, async () => {
      if (this.available() > 0 || this.eof || this.torn !== undefined) return true;
      const reader = this.readableEnd('poll');
      try {
        const chunk = timeout === 0 ? await reader.read({ nowait: true, maxBytes: READ_CHUNK }) : await reader.read({ maxBytes: READ_CHUNK, ...(timeout === Infinity ? {} : { timeout }) });
        if (chunk === null) this.eof = true;
        else this.append(chunk);
        return true;
      } catch (error) {
        if (isIpcError(error, 'EAGAIN') || isIpcError(error, 'ETIMEDOUT')) return false;
        throw error;
      }
    });
  }

  /**
   * Closes this end; the other side then reads EOF once every copy of this end is closed. Sends
   * made before go out first as far as they can without waiting; one that would wait for room
   * rejects with `CLOSED` instead (the other side drops the part of its frame that went out, as
   * a torn frame), since nobody may ever read it. Receives still waiting reject with `CLOSED`.
   */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    this.closing.abort();
    await Promise.allSettled([this.writing]);
    const ends = new Set<ByteReader | ByteWriter>([this.reader, this.writer].filter((end) => end !== undefined));
    await Promise.all([...ends].map((end) => end.close()));
  }

  /** `close()`, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Lets core's `processes.spawn` carry it in `args`, for any child (see share.ts). @internal */
  [moduleTransferSymbol](): ModuleTransfer {
    return transferByModule(this);
  }

  /** @internal */
  [shareSymbol](): ShareRecord {
    if (this.isClosed) throw closedError('connection', 'share');
    const duplex = this.reader !== undefined && this.reader === (this.writer as unknown);
    const parts = duplex ? [this.reader as DuplexPipe] : [this.reader ?? this.writer!];
    return { kind: 'connection', data: { codec: this.codec.name, duplex, readable: this.reader !== undefined }, parts: parts as unknown as ShareRecord['parts'] };
  }

  private readableEnd(operation: string): ByteReader {
    if (this.isClosed) throw new MultiprocessingError(ErrorCode.closed, `connection is closed (${operation})`);
    if (this.reader === undefined) throw new TypeError(`this end of the pipe is send-only (${operation})`);
    return this.reader;
  }

  private writableEnd(operation: string): ByteWriter {
    if (this.isClosed) throw new MultiprocessingError(ErrorCode.closed, `connection is closed (${operation})`);
    if (this.writer === undefined) throw new TypeError(`this end of the pipe is receive-only (${operation})`);
    return this.writer;
  }

  private writeFrame(writer: ByteWriter, kind: number, payload: Uint8Array, options?: WaitOptions): Promise<void> {
    if (payload.length > MAX_FRAME_BYTES) throw new RangeError(`a frame holds at most ${MAX_FRAME_BYTES} bytes`);
    const header = new Uint8Array(FRAME_HEADER_BYTES);
    new DataView(header.buffer).setUint32(0, payload.length, true);
    header[4] = kind;
    // Small frames go in one write (atomic up to PIPE_BUF); large ones as header then payload.
    const whole = payload.length <= READ_CHUNK ? concat(header, payload) : undefined;
    const deadline = options === undefined ? NO_DEADLINE : deadlineOf(options);
    // In turn behind this end's earlier writes: one that times out or is aborted while it waits
    // for its turn rejects then and writes nothing. Its timeout counts from this call.
    const { result, turnDone } = inTurn(this.writing, deadline, () => timedOut('send'), async () => {
      try {
        if (whole !== undefined) await this.writeAll(writer, whole, deadline);
        else {
          await this.writeAll(writer, header, deadline);
          await this.writeAll(writer, payload, undefined);
        }
      } catch (error) {
        throw closedDuring(error, this.isClosed, 'connection', 'send');
      }
    });
    this.writing = turnDone;
    return result;
  }

  /**
   * Writes all of `bytes`, waiting for room until `deadline` (none: until written) or until this
   * end is closed. A write whose turn comes once close has begun writes only what goes out without
   * waiting: `CLOSED` if that is not all of it.
   */
  private async writeAll(writer: ByteWriter, bytes: Uint8Array, deadline: Deadline | undefined): Promise<void> {
    if (this.isClosed) {
      if ((await writer.write(bytes, NOWAIT)) < bytes.length) throw closedObject('connection', 'send');
      return;
    }
    const closing = this.closing.signal;
    if (deadline === undefined) {
      await writer.write(bytes, { signal: closing });
      return;
    }
    const left = waitOptionsLeft(deadline);
    await writer.write(bytes, { ...left, signal: left.signal === undefined ? closing : AbortSignal.any([left.signal, closing]) });
  }

  /**
   * Runs a read in turn behind this end's earlier reads. One that times out or is aborted while it
   * waits for its turn rejects then and reads nothing; `task` gets the wait options left of
   * `options` when its turn comes (its timeout counts from the call).
   */
  private serialRead<T>(operation: string, options: WaitOptions | undefined, task: (left: WaitOptions | undefined) => Promise<T>): Promise<T> {
    let deadline: Deadline;
    try {
      deadline = options === undefined ? NO_DEADLINE : deadlineOf(options);
    } catch (error) {
      return Promise.reject(error);
    }
    const run = async (): Promise<T> => {
      try {
        return await task(options === undefined ? undefined : waitOptionsLeft(deadline));
      } catch (error) {
        // Closed while it waited: the end's close cut the read short (EBADF).
        throw closedDuring(error, this.isClosed, 'connection', operation);
      }
    };
    const { result, turnDone } = inTurn(this.reading, deadline, () => timedOut('recv'), run);
    this.reading = turnDone;
    return result;
  }

  private available(): number {
    return this.buffered.length - this.offset;
  }

  private append(chunk: Uint8Array): void {
    const rest = this.buffered.subarray(this.offset);
    this.buffered = rest.length === 0 ? chunk : concat(rest, chunk);
    this.offset = 0;
  }

  /** Reads more bytes into the buffer; false at EOF. */
  private async fill(reader: ByteReader, options?: WaitOptions): Promise<boolean> {
    if (this.eof) return false;
    const chunk = await reader.read({ maxBytes: READ_CHUNK, ...options });
    if (chunk === null) {
      this.eof = true;
      return false;
    }
    this.append(chunk);
    return true;
  }

  private async readFrame(options?: WaitOptions): Promise<[number, Uint8Array]> {
    const reader = this.readableEnd('recv');
    if (this.torn !== undefined) throw this.torn;
    // Only the wait for a frame's first bytes can time out or abort; the rest of a frame whose
    // header has arrived is on its way, and giving up there would tear the stream.
    while (this.available() < FRAME_HEADER_BYTES) {
      const waitOptions = this.available() === 0 ? options : undefined;
      if (!(await this.fill(reader, waitOptions))) throw this.eofError();
    }
    const view = new DataView(this.buffered.buffer, this.buffered.byteOffset + this.offset, FRAME_HEADER_BYTES);
    const length = view.getUint32(0, true);
    const kind = view.getUint8(4);
    if (this.available() - FRAME_HEADER_BYTES >= length) {
      const start = this.offset + FRAME_HEADER_BYTES;
      // A plain Uint8Array copy (the reader's chunks may be Buffers): the frame owns its bytes.
      const payload = new Uint8Array(this.buffered.subarray(start, start + length));
      this.offset = start + length;
      return [kind, payload];
    }
    // A frame larger than what is buffered: read the rest straight into its own array.
    let payload: Uint8Array;
    try {
      payload = new Uint8Array(length);
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      // The peer's next bytes belong to this frame, which we cannot hold: nothing after it can be
      // framed, so the stream is torn and every later receive fails the same way (not V8's bare
      // RangeError, which would also repeat at each receive with the header left in the buffer).
      this.buffered = new Uint8Array(0);
      this.offset = 0;
      this.torn = new IpcError('ENOMEM', {
        syscall: 'recv',
        object: 'connection',
        message: `ENOMEM: a frame of ${length} bytes cannot be allocated (connection); the stream is torn, later receives fail too`,
      });
      throw this.torn;
    }
    const have = this.available() - FRAME_HEADER_BYTES;
    payload.set(this.buffered.subarray(this.offset + FRAME_HEADER_BYTES));
    this.buffered = new Uint8Array(0);
    this.offset = 0;
    let filled = have;
    while (filled < length) {
      const count = await reader.readInto(payload.subarray(filled));
      if (count === 0) {
        this.eof = true;
        throw this.eofError();
      }
      filled += count;
    }
    return [kind, payload];
  }

  private eofError(): MultiprocessingError {
    return new MultiprocessingError(ErrorCode.eof, 'the other end of the pipe is closed');
  }
}

/** Checks the arguments of a `recvBytesInto` (TypeError, RangeError). */
export function checkInto(buffer: Uint8Array, offset: number): void {
  if (!(buffer instanceof Uint8Array)) throw new TypeError('buffer must be a Uint8Array');
  if (!Number.isInteger(offset) || offset < 0 || offset > buffer.length) throw new RangeError('offset is outside buffer');
}

/** Copies a message into `buffer` at `offset`; `BUFFER_TOO_SHORT` (carrying it) if it does not fit. */
export function copyInto(bytes: Uint8Array, buffer: Uint8Array, offset: number): number {
  if (bytes.length > buffer.length - offset) throw bufferTooShort(bytes.slice(), buffer.length - offset);
  buffer.set(bytes, offset);
  return bytes.length;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}

registerReviver('connection', async (data, backend, parts) => {
  const { codec, duplex, readable } = data as { codec: string; duplex: boolean; readable: boolean };
  const end = parts[0] as DuplexPipe;
  if (duplex) return new Connection(end, end, backend, codecNamed(codec));
  return readable ? new Connection(end, undefined, backend, codecNamed(codec)) : new Connection(undefined, end, backend, codecNamed(codec));
});
