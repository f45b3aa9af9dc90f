/**
 * `Pipe()`: Python's `multiprocessing.Pipe`, choosing the transport. Both ends share a machine on
 * every backend that has shared memory and semaphore sets (native, worker): the duplex pair is
 * then a {@link RingPipe}, two shared-memory rings, which moves values without a system call while
 * the other side keeps up. Elsewhere, and for `transport: 'kernel'` or `duplex: false`, it is a
 * kernel pipe ({@link Connection} over a `socketpair` or a `pipe2`).
 */
import { Primitive, type IpcBackend } from '@ipcx/core';
import type { Codec } from './codec.js';
import { checkCodec } from './codec-registry.js';
import { Connection } from './connection.js';
import { RingPipe } from './ring-connection.js';
import { hasSharedRings, requirePrimitives } from './transport-select.js';

export { hasSharedRings };

/** Options of {@link Pipe}. */
export interface PipeOptions {
  /** Both ends read and write (default true), as Python's `Pipe(duplex=True)`. */
  readonly duplex?: boolean;
  /** How values become bytes (default: structured clone through `v8.serialize`). */
  readonly codec?: Codec;
  /**
   * What carries a duplex pair: `'ring'`, shared-memory rings (the default where the backend has
   * shared memory and semaphore sets), or `'kernel'`, a `socketpair` (the default elsewhere).
   * A one-way pipe (`duplex: false`) is always a kernel pipe.
   */
  readonly transport?: 'ring' | 'kernel';
  /** Bytes of each direction's ring (transport `'ring'`; default 262144). */
  readonly capacity?: number;
}

/**
 * Python's `Pipe(duplex=True)`: two connected {@link Connection}s. Duplex ends both send and
 * receive; with `duplex: false` the first end only receives and the second only sends (a `pipe2`),
 * as in Python. The first end of a ring pair owns its rings: close it last.
 */
export async function Pipe(backend: IpcBackend, options: PipeOptions = {}): Promise<[Connection, Connection]> {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const { transport } = options;
  if (transport !== undefined && transport !== 'ring' && transport !== 'kernel') throw new TypeError("transport must be 'ring' or 'kernel'");
  const codec = checkCodec(options.codec);
  if (options.duplex === false) {
    requirePrimitives(backend, 'Pipe', [Primitive.pipe]);
    const [reader, writer] = await backend.pipes.create();
    return [new Connection(reader, undefined, backend, codec), new Connection(undefined, writer, backend, codec)];
  }
  if (transport === 'ring' || (transport === undefined && hasSharedRings(backend))) {
    return RingPipe(backend, { codec, ...(options.capacity === undefined ? {} : { capacity: options.capacity }) });
  }
  requirePrimitives(backend, 'Pipe', [Primitive.duplexPipe]);
  const [a, b] = await backend.pipes.createDuplex();
  return [new Connection(a, a, backend, codec), new Connection(b, b, backend, codec)];
}
