import type { ByteReader, ByteWriter } from './byte-stream.js';
import type { DescriptorBacked } from './descriptor.js';
import { factoryToken } from './primitives.js';

/** Options of {@link Pipes.create}. */
export interface PipeOptions {
  /**
   * Buffer size in bytes (`F_SETPIPE_SZ`): rounded up by the kernel to a power-of-two number of
   * pages; at most `/proc/sys/fs/pipe-max-size` for unprivileged users. Default: the kernel's 65536.
   */
  readonly capacity?: number;
}

/** What both ends of a pipe can do besides reading or writing. */
export interface PipeEnd extends DescriptorBacked {
  /** The pipe's buffer size in bytes (`F_GETPIPE_SZ`). */
  capacity(): number;
  /** Sets the buffer size (`F_SETPIPE_SZ`) and returns the size the kernel chose (>= `bytes`). */
  setCapacity(bytes: number): number;
}

/**
 * The reading end of a pipe (`pipe2`). `read()` resolves with `null` once every writer, in every
 * process, has closed its end.
 */
export interface PipeReader extends ByteReader, PipeEnd {}

/**
 * The writing end of a pipe. Writes of at most `PIPE_BUF` bytes are atomic; writing when no reader
 * is left rejects with `EPIPE` (never a `SIGPIPE`).
 */
export interface PipeWriter extends ByteWriter, PipeEnd {}

/**
 * One end of a duplex pipe (`socketpair(AF_UNIX, SOCK_STREAM)`): Python's `Pipe(duplex=True)`.
 * Both ends read and write. `end()` signals EOF to the other side and keeps reading possible.
 */
export interface DuplexPipe extends ByteReader, ByteWriter, DescriptorBacked {
  /** Stops writing (`shutdown(SHUT_WR)`): the other end reads EOF; this end can still read. */
  end(): Promise<void>;
}

/**
 * Anonymous pipes. Ends reach other processes by inheritance: pass them in
 * `processes.spawn(entry, { args })`.
 */
export interface Pipes {
  /** A half-duplex pipe (`pipe2(O_CLOEXEC)`): `[reader, writer]`. */
  create(options?: PipeOptions): Promise<[PipeReader, PipeWriter]>;
  /** A duplex pipe (`socketpair(AF_UNIX, SOCK_STREAM)`): two ends that both read and write. */
  createDuplex(): Promise<[DuplexPipe, DuplexPipe]>;
}

/** DI token for {@link Pipes}. */
export const Pipes: symbol = factoryToken('pipes');
