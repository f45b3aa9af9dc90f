import type { ByteReader, ByteWriter } from './byte-stream.js';
import type { DescriptorBacked } from './descriptor.js';
import type { NowaitOptions } from './options.js';
import { factoryToken } from './primitives.js';

/** Options of {@link Fifos.create}. */
export interface FifoCreateOptions {
  /** Permission bits (default `0o600`), before the umask, as for `mkfifo`. */
  readonly mode?: number;
}

/**
 * Options of {@link Fifos.openReader} and {@link Fifos.openWriter}.
 *
 * Opening a FIFO waits until the other side opens it too, as `open(2)` does, without blocking the
 * event loop. `signal` and `timeout` end that wait (`ETIMEDOUT` on timeout). With `nowait`, a reader
 * opens at once and a writer fails with `ENXIO` when no reader is there (`O_NONBLOCK`).
 */
export type FifoOpenOptions = NowaitOptions;

/** The reading side of an opened FIFO. `read()` gives `null` once every writer has closed. */
export interface FifoReader extends ByteReader, DescriptorBacked {
  /** The FIFO's path. */
  readonly path: string;
}

/** The writing side of an opened FIFO. Writing with no reader left rejects with `EPIPE`. */
export interface FifoWriter extends ByteWriter, DescriptorBacked {
  /** The FIFO's path. */
  readonly path: string;
}

/**
 * Named pipes: a FIFO is a path in the file system that unrelated processes open, including
 * ones that are not ipcx (`echo hi > path`, `cat path`). It stays until removed.
 */
export interface Fifos {
  /** Creates the FIFO (`mkfifo`). Rejects with `EEXIST` if the path exists, `ENOENT` if its folder does not. */
  create(path: string, options?: FifoCreateOptions): Promise<void>;
  /** Opens for reading, waiting for a writer (see {@link FifoOpenOptions}). `ENOENT` if missing. */
  openReader(path: string, options?: FifoOpenOptions): Promise<FifoReader>;
  /** Opens for writing, waiting for a reader (see {@link FifoOpenOptions}). `ENOENT` if missing. */
  openWriter(path: string, options?: FifoOpenOptions): Promise<FifoWriter>;
  /** Removes the path (`unlink`). Open ends keep working. Rejects with `ENOENT` if missing. */
  remove(path: string): Promise<void>;
}

/** DI token for {@link Fifos}. */
export const Fifos: symbol = factoryToken('fifos');
