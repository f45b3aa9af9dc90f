/** Anonymous pipes (`pipe2`) and duplex pipes (`socketpair`) over real descriptors. */
import { closedError, type DuplexPipe, type PipeOptions, type PipeReader, type PipeWriter, type Pipes } from '@ipcx/core';
import { checkInteger, checkOptions, backendSlice } from '@ipcx/core/backend';
import { addon } from './addon.js';
import { DescriptorStream, pipeIoMode } from './descriptor-stream.js';
import { registerReviver } from './revive.js';

const SOCK_STREAM = 1;
// The largest capacity worth asking for; the kernel caps it at /proc/sys/fs/pipe-max-size.
const MAX_PIPE_CAPACITY = 1 << 30;

/** Capacity get/set shared by both pipe ends. */
class PipeEndStream extends DescriptorStream {
  capacity(): number {
    if (this.closed) throw closedError(this.objectName, 'fcntl');
    return addon.pipeCapacity(this.handle);
  }

  setCapacity(bytes: number): number {
    checkInteger('bytes', bytes, 1, MAX_PIPE_CAPACITY);
    if (this.closed) throw closedError(this.objectName, 'fcntl');
    return addon.setPipeCapacity(this.handle, bytes);
  }
}

/** The reading end of a pipe. */
export class NativePipeReader extends PipeEndStream implements PipeReader {
  constructor(fd: number) {
    super(fd, 'pipe reader', 'pipe-reader', { read: true, write: false }, pipeIoMode());
  }
}

/** The writing end of a pipe. */
export class NativePipeWriter extends PipeEndStream implements PipeWriter {
  constructor(fd: number) {
    super(fd, 'pipe writer', 'pipe-writer', { read: false, write: true }, pipeIoMode());
  }
}

/** One end of a duplex pipe (a connected `AF_UNIX` stream socket pair). */
export class NativeDuplexPipe extends DescriptorStream implements DuplexPipe {
  constructor(fd: number) {
    super(fd, 'duplex pipe', 'duplex-pipe', { read: true, write: true }, 'socket');
  }

  async end(): Promise<void> {
    this.shutdownWrite();
  }
}

/** The native {@link Pipes} factory. */
export class NativePipes implements Pipes {
  async create(options?: PipeOptions): Promise<[PipeReader, PipeWriter]> {
    const { capacity } = checkOptions<PipeOptions>('options', options);
    if (capacity !== undefined) checkInteger('options.capacity', capacity, 1, MAX_PIPE_CAPACITY);
    const [readFd, writeFd] = addon.pipe();
    const reader = new NativePipeReader(readFd);
    const writer = new NativePipeWriter(writeFd);
    if (capacity !== undefined) {
      try {
        writer.setCapacity(capacity);
      } catch (error) {
        await reader.close();
        await writer.close();
        throw error;
      }
    }
    return [reader, writer];
  }

  async createDuplex(): Promise<[DuplexPipe, DuplexPipe]> {
    const [a, b] = addon.socketpair(SOCK_STREAM);
    return [new NativeDuplexPipe(a), new NativeDuplexPipe(b)];
  }
}

registerReviver('pipe-reader', (record) => new NativePipeReader(record.handles![0]!));
registerReviver('pipe-writer', (record) => new NativePipeWriter(record.handles![0]!));
registerReviver('duplex-pipe', (record) => new NativeDuplexPipe(record.handles![0]!));

/** Pipes and duplex pipes: this file's part of the native backend (backend.ts lists it). */
export const pipeSlice = backendSlice('pipes', ['pipe', 'duplex-pipe'], () => new NativePipes());
