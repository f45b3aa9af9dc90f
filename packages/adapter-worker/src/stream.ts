/**
 * A byte stream over a kernel handle: the shared engine of pipe ends, FIFO ends and duplex pipes.
 *
 * Fast path: `read`/`write` call the kernel at once on the calling thread. When it answers EAGAIN,
 * the operation first watches the object's wait cell for a short adaptive window
 * ({@link CellSpin}: a peer in a tight exchange answers within microseconds, and waking a parked
 * thread costs tens), retrying each time the cell changes; only then does it queue, and the queue
 * is served each time the cell changes (one `Atomics.waitAsync` per stream at most, none while
 * idle). Reads of one stream are served in call order, and so are writes.
 *
 * Bytes move in one copy each way: pipe and FIFO rings are read and written through
 * `stream_read_begin`/`stream_write_begin` and their end calls (assembly/pipe.ts): the begin call
 * marks a copy in flight on its side of the ring, this side copies straight between the caller's
 * array and the ring without holding the object's lock, and the end call publishes. A reader and a
 * writer on two threads copy at the same time (a staging copy through the scratch buffer, as
 * `stream_read`/`stream_write` need, doubled the cost; a copy under the lock made them take turns).
 * Small reads and writes (at most SMALL_IO_BYTES) do take that staging copy: one kernel call
 * instead of two is worth more than copying a few hundred bytes twice. Large writes are staged
 * too, outside the lock, for another reason: see `copyIntoRing`.
 */
import {
  completedNow,
  DEFAULT_READ_BYTES,
  abortErrorFor,
  closedError,
  iterateReader,
  type IteratorOptions,
  readerToWebStream,
  transferSymbol,
  writerToWebStream,
  type NowaitOptions,
  type ReadOptions,
  type TransferRecord,
  type WriteOptions,
} from '@ipcx/core';
import {
  checkInteger,
  checkOptionalBoolean,
  checkWaitOptions,
  checkBytes,
} from '@ipcx/core/backend';
import { kernelError, type Kernel, type KernelObject } from './kernel.js';
import { KernelErrno, Layout, RingSpan } from './layout.js';
import { CellSpin, WOULD_BLOCK, cancellationError, wakeCell, waitForChange, watchCancellation, type CancelReason } from './wait.js';

const MAX_READ_BYTES = 1 << 30;
/**
 * Reads and writes of at most this many bytes go through the scratch buffer in one kernel call
 * (`stream_read`/`stream_write`): for small messages the call saved costs more than the copy added.
 */
const SMALL_IO_BYTES = 1024;
/**
 * Ring writes of at least this many bytes are staged (see `copyIntoRing`); the gain was measured
 * on 64 KiB writes, and a smaller write's copy is short next to its kernel calls either way.
 */
const STAGED_RING_WRITE_BYTES = 8192;
/**
 * The staging copy's piece: the scratch buffer's size (it is at least that; 16 KiB pieces, more
 * calls, measured no different).
 */
const STAGE_PIECE_BYTES = Layout.SCRATCH_BYTES;
const { EAGAIN, EINTR } = KernelErrno;

/**
 * What one read attempt gives: a chunk (`read`) or a count (`readInto`, 0 at EOF), `null` at EOF
 * (`read`), `-EAGAIN`/`-EINTR` (nothing yet; EINTR: the object was locked), or the error.
 */
type ReadResult = Uint8Array | null | number | Error;

interface PendingRead {
  maxBytes: number;
  /** `readInto`'s buffer, or null for `read`. */
  into: Uint8Array | null;
  startedAt: number;
  resolve(result: Uint8Array | null | number): void;
  reject(error: Error): void;
  stopWatching(): void;
}

interface PendingWrite {
  bytes: Uint8Array;
  written: number;
  startedAt: number;
  resolve(count: number): void;
  reject(error: Error): void;
  stopWatching(): void;
}

/** Which directions a handle supports. */
export interface StreamDirections {
  readonly read: boolean;
  readonly write: boolean;
}

/** The engine; subclasses add the primitive's members. */
export class KernelStream implements KernelObject {
  /** The handle, or 0 once closed. */
  protected handle: number;
  /** The kernel object id (diagnostics and transfer records). */
  readonly objectId: number;
  private readonly cell: number;
  private readonly reads: PendingRead[] = [];
  private readonly writes: PendingWrite[] = [];
  private sleeping = false;
  // The last tryWrite stopped on -EINTR (kernel locked) rather than a full buffer.
  private writeBusy = false;
  // How long a read or write that would block watches the wait cell before it queues.
  private readonly readSpin = new CellSpin(true);
  private readonly writeSpin = new CellSpin(true);
  // The kernel's ring calls move the bytes (pipes, FIFOs, duplex pipes); false for sockets.
  private readonly ringIo: boolean;
  // What readStaged read, when it was asked for a chunk.
  private staged: Uint8Array | null = null;
  // The last view of the scratch buffer a small readInto copied from (see tryRead).
  private scratchView: Uint8Array | null = null;
  // End calls of copies in flight that found the object locked and are being retried (endCopy).
  private readonly unfinishedCopies = new Set<Promise<number>>();

  constructor(
    protected readonly kernel: Kernel,
    handle: number,
    /** Description for errors and leak reports, e.g. `'pipe reader'`. */
    protected readonly objectName: string,
    /** Transfer kind, e.g. `'pipe-reader'`. */
    protected readonly kind: string,
    protected readonly directions: StreamDirections,
  ) {
    this.handle = handle;
    this.objectId = kernel.calls.handle_object(handle);
    this.cell = kernel.calls.handle_wait_cell(handle);
    this.ringIo = this.usesRingIo();
    kernel.track(this, handle);
  }

  /** True once closed. */
  get closed(): boolean {
    return this.handle === 0;
  }

  /** What `JSON.stringify` gives: a short description (not the kernel or its memory, which would never finish as JSON). */
  toJSON(): { object: string; closed: boolean } {
    return { object: this.describe(), closed: this.closed };
  }

  /** A short description for leak reports: `'pipe reader (handle 3, object 2)'`. */
  describe(): string {
    return `${this.objectName} (handle ${this.handle}, object ${this.objectId})`;
  }

  /**
   * See `ByteReader.read`: the next bytes (at most `maxBytes`), `null` at EOF; `EAGAIN` with
   * `nowait`, `ETIMEDOUT`/`AbortError` when cancelled, `EBADF` after close. Completes on the
   * calling thread when bytes are there (or arrive within the spin window).
   */
  read(options?: ReadOptions): Promise<Uint8Array | null> {
    try {
      const maxBytes = options?.maxBytes === undefined ? DEFAULT_READ_BYTES : checkInteger('options.maxBytes', options.maxBytes, 1, MAX_READ_BYTES);
      return this.startRead(maxBytes, null, options) as Promise<Uint8Array | null>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * See `ByteReader.readInto`: copies the next bytes (at most `buffer.length`) into `buffer` and
   * resolves with their count, 0 at EOF. The bytes are copied once, from the kernel's ring straight
   * into `buffer`. Errors as {@link read}.
   */
  readInto(buffer: Uint8Array, options?: NowaitOptions): Promise<number> {
    try {
      if (!(buffer instanceof Uint8Array)) throw new TypeError('buffer must be a Uint8Array');
      if (buffer.length === 0) throw new RangeError('buffer must not be empty');
      return this.startRead(buffer.length, buffer, options) as Promise<number>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** `read` and `readInto` after their own checks: fast path, spin, then the queue. */
  private startRead(maxBytes: number, into: Uint8Array | null, options: NowaitOptions | undefined): Promise<Uint8Array | null | number> {
    const nowait = checkOptionalBoolean('options.nowait', options?.nowait);
    const timeoutMs = checkWaitOptions(options);
    if (!this.directions.read) throw new TypeError(`${this.objectName} is not readable`);
    if (this.closed) throw closedError(this.objectName, 'read');
    if (options?.signal?.aborted) throw abortErrorFor(options.signal);
    let startedAt = Number.NaN;
    if (this.reads.length === 0) {
      // Load the cell before trying: a change after this load is seen by the spin below.
      const seen = Atomics.load(this.kernel.cells, this.cell >>> 2);
      let result = this.tryRead(maxBytes, into);
      if (result === -EAGAIN && !nowait) {
        // SpinWindow.spin, inline: no closure per read.
        const spin = this.readSpin;
        startedAt = performance.now();
        const deadline = spin.open(startedAt, timeoutMs, this.parkedCount());
        if (!Number.isNaN(deadline)) {
          const { cells } = this.kernel;
          const index = this.cell >>> 2;
          for (let value = spin.watch(cells, index, seen, deadline); value !== WOULD_BLOCK; value = spin.watch(cells, index, value, deadline)) {
            result = this.tryRead(maxBytes, into);
            if (result !== -EAGAIN) {
              spin.caught(startedAt);
              break;
            }
            // The cell can keep changing for other reasons (the other direction of a duplex pipe).
            if (spin.expired(deadline)) break;
          }
        }
      }
      // A lock held past the kernel's spin (its holder preempted) answers EINTR: a nowait read
      // reports EAGAIN below, as for a write; a waiting one is served once the lock is free.
      if (result !== -EAGAIN && result !== -EINTR) return result instanceof Error ? Promise.reject(result) : completedNow(result);
    }
    if (nowait) throw kernelError(-EAGAIN, { syscall: 'read', object: this.objectName });
    return new Promise((resolve, reject) => {
      const pending: PendingRead = { maxBytes, into, startedAt, resolve, reject, stopWatching: () => {} };
      pending.stopWatching = watchCancellation(options, timeoutMs, (reason) => {
        this.reads.splice(this.reads.indexOf(pending), 1);
        this.endSleepIfIdle();
        reject(cancellationError(reason, options, { syscall: 'read', object: this.objectName }));
      });
      this.reads.push(pending);
      this.serve();
    });
  }

  /**
   * See `ByteWriter.write`: all of `data`, waiting while the ring is full; writes of at most
   * `PIPE_BUF` bytes are atomic. `EPIPE` with no reader left, `EAGAIN` with `nowait` when nothing
   * fits, `ETIMEDOUT`/`AbortError` when cancelled, `EBADF` after close.
   */
  write(data: Uint8Array | string, options?: WriteOptions): Promise<number> {
    try {
      const bytes = checkBytes('data', data);
      const nowait = checkOptionalBoolean('options.nowait', options?.nowait);
      const timeoutMs = checkWaitOptions(options);
      if (!this.directions.write) throw new TypeError(`${this.objectName} is not writable`);
      if (this.closed) throw closedError(this.objectName, 'write');
      if (options?.signal?.aborted) throw abortErrorFor(options.signal);
      let written = 0;
      let startedAt = Number.NaN;
      if (this.writes.length === 0) {
        // Load the cell before trying: a change after this load is seen by the spin below.
        const seen = Atomics.load(this.kernel.cells, this.cell >>> 2);
        const result = this.tryWrite(bytes, 0);
        if (result instanceof Error) throw result;
        written = result;
        if (written === bytes.length) return completedNow(written);
        if (!nowait && !this.writeBusy) {
          // Full: a reader in a tight exchange frees space within microseconds.
          startedAt = performance.now();
          const spun = this.writeSpin.spin(this.kernel.cells, this.cell >>> 2, seen, () => {
            const more = this.tryWrite(bytes, written);
            if (more instanceof Error) return more;
            written += more;
            return written === bytes.length ? written : WOULD_BLOCK;
          }, timeoutMs, this.parkedCount());
          if (spun instanceof Error) throw spun;
          if (spun !== WOULD_BLOCK) return completedNow(written);
        }
      }
      if (nowait) {
        if (written > 0) return completedNow(written);
        throw kernelError(-EAGAIN, { syscall: 'write', object: this.objectName });
      }
      return new Promise((resolve, reject) => {
        const pending: PendingWrite = { bytes, written, startedAt, resolve, reject, stopWatching: () => {} };
        pending.stopWatching = watchCancellation(options, timeoutMs, (reason) => {
          this.writes.splice(this.writes.indexOf(pending), 1);
          this.endSleepIfIdle();
          reject(cancellationError(reason, options, { syscall: 'write', object: this.objectName }));
        });
        this.writes.push(pending);
        this.serve();
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Stops writing (`shutdown(SHUT_WR)`), for duplex ends. The other side reads EOF. */
  protected async shutdownWrite(): Promise<void> {
    if (this.closed) throw closedError(this.objectName, 'shutdown');
    const result = await this.kernel.callAsync(() => this.sysShutdown());
    if (result < 0) throw kernelError(result, { syscall: 'shutdown', object: this.objectName });
  }

  /** Gives up the handle; pending operations reject with `EBADF`. The other ends see EOF / `EPIPE` when it was the last. */
  async close(): Promise<void> {
    if (this.closed) return;
    const handle = this.handle;
    this.handle = 0;
    for (const pending of this.reads.splice(0)) {
      pending.stopWatching();
      pending.reject(cancellationError('close' satisfies CancelReason, undefined, { syscall: 'read', object: this.objectName }));
    }
    for (const pending of this.writes.splice(0)) {
      pending.stopWatching();
      pending.reject(cancellationError('close', undefined, { syscall: 'write', object: this.objectName }));
    }
    // A copy whose end call is still being retried keeps its ring side busy: end it before the
    // handle goes (the kernel ends only the copies of a dead thread).
    await Promise.all(this.unfinishedCopies);
    this.kernel.untrack(this);
    // The kernel bumps and notifies the cell on close, which also ends this stream's own sleep.
    await this.kernel.callAsync(() => this.kernel.calls.handle_close(handle));
  }

  /** `await using` support: closes the handle. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Chunks until EOF (readable streams only), then closes the handle, as on `break`. */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return iterateReader(this as never, undefined, this.directions.write);
  }

  /** Chunks until EOF; with `{ close: false }` the handle stays open when the iteration ends. */
  iterator(options?: IteratorOptions): AsyncIterableIterator<Uint8Array> {
    return iterateReader(this as never, options, this.directions.write);
  }

  /** A Web `ReadableStream` over this stream; cancelling it closes the handle. */
  readableStream(): ReadableStream<Uint8Array> {
    return readerToWebStream(this as never);
  }

  /** A Web `WritableStream` over this stream; closing it closes the handle. */
  writableStream(): WritableStream<Uint8Array> {
    return writerToWebStream(this as never);
  }

  /**
   * The record that carries this end to a worker child: its kind, the kernel's identity and the
   * object id, and the handle that `processes.spawn` duplicates to the child. `EBADF` after close.
   */
  [transferSymbol](): TransferRecord {
    if (this.closed) throw closedError(this.objectName, 'transfer');
    return { kind: this.kind, data: { kernel: this.kernel.id, object: this.objectId, ...this.transferData() }, handles: [this.handle] };
  }

  /** The kernel's read of this handle (`stream_read`; sockets have their own): bytes, 0 at EOF, or -errno. */
  protected sysRead(dst: number, max: number): number {
    return this.kernel.calls.stream_read(this.handle, dst, max);
  }

  /** The kernel's write of this handle (`stream_write`; sockets have their own): bytes taken, or -errno. */
  /**
   * The non-blocking write call: bytes written or -errno. `more` is how many bytes of the same
   * write follow this piece and `continued` whether earlier pieces went in (a pipe places a write's
   * bytes in pages by its whole length, as Linux does). Sockets override it.
   */
  protected sysWrite(src: number, len: number, more: number, continued: number): number {
    return this.kernel.calls.stream_write(this.handle, src, len, more, continued);
  }

  /** The kernel's `shutdown(SHUT_WR)` of this handle: 0 or -errno. */
  protected sysShutdown(): number {
    return this.kernel.calls.stream_shutdown(this.handle);
  }

  /** Plain data that travels with the handle (e.g. a FIFO's path). */
  protected transferData(): Record<string, unknown> {
    return {};
  }

  /** Whether the kernel's ring calls (`stream_read_begin`, ...) serve this handle; sockets say no. */
  protected usesRingIo(): boolean {
    return true;
  }

  /** The byte address of the object's parked count, for ring objects (notified only while someone sleeps on the cell). */
  private parkedCount(): number | undefined {
    return this.ringIo ? this.cell - Layout.OBJ_RING_SEQ + Layout.OBJ_PARKED : undefined;
  }

  /** One non-blocking read of at most `maxBytes`, into `into` if given (see {@link ReadResult}). */
  private tryRead(maxBytes: number, into: Uint8Array | null): ReadResult {
    if (this.ringIo && maxBytes <= SMALL_IO_BYTES) {
      // Small: one kernel call that copies into the scratch buffer (a second copy of a few hundred
      // bytes costs less than the second call of the one-copy path).
      const { scratch } = this.kernel;
      const n = this.kernel.calls.stream_read(this.handle, scratch, maxBytes);
      if (n === -EAGAIN || n === -EINTR) return n;
      if (n < 0) return kernelError(n, { syscall: 'read', object: this.objectName });
      if (n === 0) return into !== null ? 0 : null;
      if (into === null) return this.kernel.bytes.slice(scratch, scratch + n);
      // A view of the scratch bytes kept for the next read of the same size: no allocation per read.
      let view = this.scratchView;
      if (view === null || view.length !== n || view.byteOffset !== scratch) view = this.scratchView = this.kernel.bytes.subarray(scratch, scratch + n);
      into.set(view);
      return n;
    }
    const n = this.ringIo ? this.kernel.calls.stream_read_begin(this.handle, maxBytes) : this.readStaged(maxBytes, into);
    if (n === -EAGAIN || n === -EINTR) return n;
    if (n < 0) return kernelError(n, { syscall: 'read', object: this.objectName });
    if (!this.ringIo) return into !== null ? n : n === 0 ? null : this.staged;
    if (n === 0) return into !== null ? 0 : null;
    // The read is in flight until stream_read_end: copy the span out first.
    const { cells, bytes } = this.kernel;
    const span = this.kernel.scratch >>> 2;
    try {
      const first = cells[span + RingSpan.SPAN_FIRST / 4]!;
      const firstLength = cells[span + RingSpan.SPAN_FIRST_LENGTH / 4]!;
      if (into === null && firstLength === n) return bytes.slice(first, first + n);
      const target = into ?? new Uint8Array(n);
      target.set(bytes.subarray(first, first + firstLength));
      if (firstLength < n) {
        const second = cells[span + RingSpan.SPAN_SECOND / 4]!;
        target.set(bytes.subarray(second, second + n - firstLength), firstLength);
      }
      return into !== null ? n : target;
    } finally {
      this.endCopy(this.kernel.calls.stream_read_end);
    }
  }

  /**
   * Ends a copy in flight (`stream_read_end`/`stream_write_end`). The end call needs the object's
   * lock again; held past the kernel's spin (its holder preempted, or a worker terminated inside
   * and not yet reaped by this very thread), it is retried from later tasks. Until then the copy
   * stays in flight: the bytes are where they belong, and the ring's side stays busy, so no other
   * read or write of that side passes it; {@link close} waits for it.
   */
  private endCopy(end: (handle: number) => number): void {
    const handle = this.handle;
    // Usually free: one call, no closure.
    if (end(handle) !== -EINTR || this.kernel.call(() => end(handle)) !== -EINTR) return;
    const finished = this.kernel.callAsync(() => end(handle));
    this.unfinishedCopies.add(finished);
    void finished.then(() => this.unfinishedCopies.delete(finished));
  }

  /**
   * A read through the scratch buffer (`sysRead`, for sockets): bytes (copied into `into`, or
   * left in {@link staged}), 0 at EOF, or -errno.
   */
  private readStaged(maxBytes: number, into: Uint8Array | null): number {
    const { scratch, bytes } = this.kernel;
    const n = this.sysRead(scratch, Math.min(maxBytes, Layout.SCRATCH_BYTES));
    if (n <= 0) return n;
    let total = n;
    const pieces = [bytes.slice(scratch, scratch + n)];
    // A read larger than the scratch buffer takes everything there is up to maxBytes, as the
    // kernel's one read() does: more pieces until the ring is empty (or something else happens,
    // which the next read reports).
    if (n === Layout.SCRATCH_BYTES) {
      while (total < maxBytes) {
        const more = this.sysRead(scratch, Math.min(maxBytes - total, Layout.SCRATCH_BYTES));
        if (more <= 0) break;
        pieces.push(bytes.slice(scratch, scratch + more));
        total += more;
      }
    }
    const all = into ?? (pieces.length === 1 ? pieces[0]! : new Uint8Array(total));
    if (all !== pieces[0]) {
      let at = 0;
      for (const piece of pieces) {
        all.set(piece, at);
        at += piece.length;
      }
    }
    this.staged = into === null ? all : null;
    return total;
  }

  /** Bytes written from `offset` on (possibly 0: full or locked), or the error. */
  private tryWrite(data: Uint8Array, offset: number): number | Error {
    this.writeBusy = false;
    if (offset === data.length) return 0;
    if (this.ringIo && data.length - offset <= SMALL_IO_BYTES) {
      // Small: staged in the scratch buffer, one kernel call (as for a small read).
      const { scratch } = this.kernel;
      this.kernel.bytes.set(offset === 0 ? data : data.subarray(offset), scratch);
      const n = this.kernel.calls.stream_write(this.handle, scratch, data.length - offset, 0, offset > 0 ? 1 : 0);
      if (n === -EAGAIN || n === -EINTR) {
        this.writeBusy = n === -EINTR;
        return 0;
      }
      if (n < 0) return kernelError(n, { syscall: 'write', object: this.objectName });
      return n;
    }
    if (this.ringIo) {
      // One call takes what fits of the whole rest, placed in pages as Linux places one write.
      const n = this.kernel.calls.stream_write_begin(this.handle, data.length - offset, 0, offset > 0 ? 1 : 0);
      if (n === -EAGAIN || n === -EINTR) {
        this.writeBusy = n === -EINTR;
        return 0;
      }
      if (n < 0) return kernelError(n, { syscall: 'write', object: this.objectName });
      // The write is in flight until stream_write_end: copy the bytes into the span first.
      const { cells, bytes } = this.kernel;
      const span = this.kernel.scratch >>> 2;
      try {
        const first = cells[span + RingSpan.SPAN_FIRST / 4]!;
        const firstLength = cells[span + RingSpan.SPAN_FIRST_LENGTH / 4]!;
        const second = cells[span + RingSpan.SPAN_SECOND / 4]!;
        this.copyIntoRing(offset === 0 && firstLength === data.length ? data : data.subarray(offset, offset + firstLength), first);
        if (firstLength < n) this.copyIntoRing(data.subarray(offset + firstLength, offset + n), second);
      } finally {
        this.endCopy(this.kernel.calls.stream_write_end);
      }
      return n;
    }
    const { scratch, bytes } = this.kernel;
    let written = 0;
    while (offset + written < data.length) {
      const rest = data.length - offset - written;
      const chunk = Math.min(rest, Layout.SCRATCH_BYTES);
      bytes.set(data.subarray(offset + written, offset + written + chunk), scratch);
      // The kernel places a write's bytes in pages by the whole write's length: say what follows
      // this piece and whether earlier pieces went in (a write resumed after a wait is continued).
      const n = this.sysWrite(scratch, chunk, rest - chunk, offset + written > 0 ? 1 : 0);
      if (n === -EAGAIN || n === -EINTR) {
        this.writeBusy = n === -EINTR;
        break;
      }
      if (n < 0) return kernelError(n, { syscall: 'write', object: this.objectName });
      written += n;
    }
    return written;
  }

  /**
   * Copies `source` into the ring bytes at `at` (a span this thread reserved). A large piece is
   * staged in this thread's scratch buffer, whose cache lines this CPU already owns, and moved
   * into the ring by the kernel's `copy_bytes` (`memory.copy`, the engine's memmove): a
   * `TypedArray.prototype.set` into shared memory copies word by word, and into lines the
   * reader's CPU last touched it waited for each line on its own (a 64 KiB write: ~11 us
   * straight, ~5 us staged, so `worker.pipe.bulk` went from ~4.2 to 7-10 GB/s). The span record at
   * the start of the scratch buffer has been read by then.
   */
  private copyIntoRing(source: Uint8Array, at: number): void {
    const { bytes } = this.kernel;
    if (source.length < STAGED_RING_WRITE_BYTES) {
      bytes.set(source, at);
      return;
    }
    const { scratch, calls } = this.kernel;
    for (let done = 0; done < source.length; done += STAGE_PIECE_BYTES) {
      const piece = Math.min(STAGE_PIECE_BYTES, source.length - done);
      bytes.set(piece === source.length ? source : source.subarray(done, done + piece), scratch);
      calls.copy_bytes(at + done, scratch, piece);
    }
  }

  /** Serves queued operations until one has to wait, then sleeps on the wait cell. */
  private serve(): void {
    if (this.sleeping || this.closed) return;
    // Read the cell before trying: a change after this load wakes the sleep below at once.
    const seen = Atomics.load(this.kernel.cells, this.cell >>> 2);
    let busy = false;
    while (this.reads.length > 0) {
      const pending = this.reads[0]!;
      const result = this.tryRead(pending.maxBytes, pending.into);
      if (result === -EAGAIN || result === -EINTR) {
        busy = result === -EINTR;
        break;
      }
      this.reads.shift();
      pending.stopWatching();
      this.readSpin.parked(pending.startedAt);
      if (result instanceof Error) pending.reject(result);
      else pending.resolve(result);
    }
    while (this.writes.length > 0 && !this.closed) {
      const pending = this.writes[0]!;
      const result = this.tryWrite(pending.bytes, pending.written);
      if (result instanceof Error) {
        this.writes.shift();
        pending.stopWatching();
        pending.reject(result);
        continue;
      }
      pending.written += result;
      if (pending.written < pending.bytes.length) {
        busy ||= this.writeBusy;
        break;
      }
      this.writes.shift();
      pending.stopWatching();
      this.writeSpin.parked(pending.startedAt);
      pending.resolve(pending.written);
    }
    if (this.reads.length === 0 && this.writes.length === 0) return;
    this.sleeping = true;
    // Ring streams count their sleep (their end calls notify only then); sockets notify always.
    void waitForChange(this.kernel, this.cell, seen, busy ? 1 : Infinity, this.parkedCount()).then(() => {
      this.sleeping = false;
      this.serve();
    });
  }

  /** Ends this stream's sleep when nothing is queued any more (cancel), so no wait is left behind. */
  private endSleepIfIdle(): void {
    if (this.sleeping && this.reads.length === 0 && this.writes.length === 0) wakeCell(this.kernel, this.cell);
  }
}
