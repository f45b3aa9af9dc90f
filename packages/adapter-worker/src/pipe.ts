/** Anonymous pipes and duplex pipes over the emulated kernel's byte rings (assembly/pipe.ts). */
import { closedError, type DuplexPipe, type PipeOptions, type PipeReader, type PipeWriter, type Pipes } from '@ipcx/core';
import { checkInteger, checkOptions, backendSlice } from '@ipcx/core/backend';
import { kernelError, registerReviver, type Kernel } from './kernel.js';
import { KernelStream } from './stream.js';

// The largest capacity worth asking for; the kernel caps it at RING_MAX_CAPACITY (EPERM above).
const MAX_PIPE_CAPACITY = 1 << 30;

/** Capacity get/set shared by both pipe ends. */
class PipeEndStream extends KernelStream {
  /** The pipe's buffer size in bytes (`F_GETPIPE_SZ`). Throws `EBADF` after close. */
  capacity(): number {
    if (this.closed) throw closedError(this.objectName, 'fcntl');
    const result = this.kernel.calls.pipe_capacity(this.handle);
    if (result < 0) throw kernelError(result, { syscall: 'fcntl', object: this.objectName });
    return result;
  }

  /**
   * Sets the buffer size (`F_SETPIPE_SZ`), rounded up to a power of two of at least 4096, and
   * returns it. Throws `EBUSY` if more bytes are buffered, `EPERM` above 1 MiB (pipe-max-size),
   * `ENOMEM` when the kernel's memory is full, `EBADF` after close.
   */
  setCapacity(bytes: number): number {
    checkInteger('bytes', bytes, 1, MAX_PIPE_CAPACITY);
    if (this.closed) throw closedError(this.objectName, 'fcntl');
    const result = this.kernel.call(() => this.kernel.calls.pipe_set_capacity(this.handle, bytes));
    if (result < 0) throw kernelError(result, { syscall: 'fcntl', object: this.objectName });
    return result;
  }
}

/** The reading end of a pipe: `read()` gives `null` once every writer, in every worker, has closed. */
export class WorkerPipeReader extends PipeEndStream implements PipeReader {
  /** Wraps a handle of this thread (made by {@link WorkerPipes.create} or revived in a worker). */
  constructor(kernel: Kernel, handle: number) {
    super(kernel, handle, 'pipe reader', 'pipe-reader', { read: true, write: false });
  }
}

/** The writing end of a pipe: writes up to `PIPE_BUF` are atomic; no reader left gives `EPIPE`. */
export class WorkerPipeWriter extends PipeEndStream implements PipeWriter {
  /** Wraps a handle of this thread (made by {@link WorkerPipes.create} or revived in a worker). */
  constructor(kernel: Kernel, handle: number) {
    super(kernel, handle, 'pipe writer', 'pipe-writer', { read: false, write: true });
  }
}

/** One end of a duplex pipe: two byte rings, one per direction, like a `socketpair`. */
export class WorkerDuplexPipe extends KernelStream implements DuplexPipe {
  /** Wraps a handle of this thread (made by {@link WorkerPipes.createDuplex} or revived in a worker). */
  constructor(kernel: Kernel, handle: number) {
    super(kernel, handle, 'duplex pipe', 'duplex-pipe', { read: true, write: true });
  }

  /** Stops writing (`shutdown(SHUT_WR)`): the other end reads EOF; this end can still read. `EBADF` after close. */
  async end(): Promise<void> {
    await this.shutdownWrite();
  }
}

/** The worker backend's {@link Pipes} factory. */
export class WorkerPipes implements Pipes {
  /** A factory over `kernel`. */
  constructor(private readonly kernel: Kernel) {}

  /**
   * A pipe of `options.capacity` bytes (default 65536, rounded up like `F_SETPIPE_SZ`).
   * Rejects with `ENOMEM` when the kernel's memory is full, `ENFILE` when its tables are,
   * `EPERM` above 1 MiB.
   */
  async create(options?: PipeOptions): Promise<[PipeReader, PipeWriter]> {
    const { capacity } = checkOptions<PipeOptions>('options', options);
    if (capacity !== undefined) checkInteger('options.capacity', capacity, 1, MAX_PIPE_CAPACITY);
    const { kernel } = this;
    let writer = 0;
    const reader = await kernel.callAsync(() => {
      const result = kernel.calls.pipe_create(capacity ?? 0);
      writer = kernel.calls.second_result();
      return result;
    });
    if (reader < 0) throw kernelError(reader, { syscall: 'pipe2', object: 'pipe' });
    return [new WorkerPipeReader(kernel, reader), new WorkerPipeWriter(kernel, writer)];
  }

  /** A duplex pipe (two 64 KiB rings). Rejects with `ENOMEM` / `ENFILE` when the kernel is full. */
  async createDuplex(): Promise<[DuplexPipe, DuplexPipe]> {
    const { kernel } = this;
    let second = 0;
    const first = await kernel.callAsync(() => {
      const result = kernel.calls.duplex_create();
      second = kernel.calls.second_result();
      return result;
    });
    if (first < 0) throw kernelError(first, { syscall: 'socketpair', object: 'duplex pipe' });
    return [new WorkerDuplexPipe(kernel, first), new WorkerDuplexPipe(kernel, second)];
  }
}

registerReviver('pipe-reader', (kernel, record) => new WorkerPipeReader(kernel, record.handles![0]!));
registerReviver('pipe-writer', (kernel, record) => new WorkerPipeWriter(kernel, record.handles![0]!));
registerReviver('duplex-pipe', (kernel, record) => new WorkerDuplexPipe(kernel, record.handles![0]!));

/** Pipes and duplex pipes: this file's part of the worker backend (backend.ts lists it; made over the backend's kernel). */
export const pipeSlice = backendSlice('pipes', ['pipe', 'duplex-pipe'], (kernel: Kernel) => new WorkerPipes(kernel));
