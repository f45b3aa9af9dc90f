/** The Redis backend: queues and semaphores in Redis, every other factory `ENOSYS`. */
import { capabilities, type Capabilities, type IpcBackend, type TransferRecord } from '@ipcx/core';
import { defineBackend, fromSlices, slicePrimitives } from '@ipcx/core/backend';
import { RedisConnection, type RedisBackendOptions } from './connection.js';
import { redisDiagnostics } from './diagnostics.js';
import { HandleRegistry } from './handle.js';
import { messageQueueSlice } from './message-queue.js';
import { posixMessageQueueSlice } from './posix-message-queue.js';
import { posixSemaphoreSlice } from './posix-semaphore.js';
import { RedisProcesses } from './process.js';
import { semaphoreSlice } from './semaphore.js';

/**
 * What the Redis backend implements: one slice per primitive file, each naming its factory and its
 * primitives. The capabilities are derived from this list; a new primitive adds its slice here.
 */
export const redisSlices = [messageQueueSlice, posixMessageQueueSlice, semaphoreSlice, posixSemaphoreSlice];

/**
 * What the Redis backend implements: System V and POSIX message queues and semaphores. No
 * feature: objects are not the host kernel's (`host-interop`), and although children are OS
 * processes, other machines' clients are not, so `os-processes` is not claimed either.
 */
export const REDIS_CAPABILITIES: Capabilities = capabilities(slicePrimitives(redisSlices), []);

/** The Redis backend: an {@link IpcBackend} with a `close()` for its connections. */
export interface RedisBackend extends IpcBackend {
  /** The backend's link to Redis (client, prefix, client id). */
  readonly connection: RedisConnection;
  /**
   * Rebuilds an object from a transfer record made by this backend (used by children): a System V
   * object by its id and tag, a POSIX one by opening its name again.
   */
  revive(record: TransferRecord): Promise<unknown>;
  /**
   * Closes every open handle, applies this client's own SEM_UNDO records (as a process's exit
   * does), ends its lease and closes its connections. Objects stay on the server.
   */
  close(): Promise<void>;
}

/**
 * Creates a backend on Redis. Connects lazily: the first operation waits for the connection.
 *
 * ```ts
 * const backend = createRedisBackend({ connection: { host: '127.0.0.1', port: 6379 }, prefix: 'myapp' });
 * ```
 */
export function createRedisBackend(options: RedisBackendOptions = {}): RedisBackend {
  const connection = new RedisConnection(options);
  const registry = new HandleRegistry();
  const revivers = new Map<string, (data: unknown) => unknown>();
  // The factories left out (pipes, FIFOs, shared memory, file locks, sockets) have no honest
  // equivalent on Redis (byte streams with kernel semantics, shared bytes): defineBackend fills
  // them in with factories that reject with ENOSYS, and they are absent from the capabilities.
  const backend = defineBackend({
    name: 'redis',
    ...fromSlices(redisSlices, { connection, registry, revivers }, []),
    capabilities: REDIS_CAPABILITIES,
    connection,
    processes: new RedisProcesses(connection),
    diagnostics: redisDiagnostics(connection, registry),
    async revive(record: TransferRecord) {
      const reviver = revivers.get(record.kind);
      if (reviver === undefined) throw new TypeError(`cannot revive an ipcx object of kind '${record.kind}'`);
      return reviver(record.data);
    },
    async close() {
      await registry.closeAll();
      await connection.close();
    },
  });
  return backend;
}
