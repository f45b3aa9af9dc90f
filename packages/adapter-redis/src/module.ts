/**
 * `@ipcx/adapter-redis/inversify`: the inversify 8 `ContainerModule` of the Redis backend. A subpath
 * of its own, so that inversify is an optional peer dependency: apps that do not use dependency
 * injection never load it.
 */
import { ContainerModule } from 'inversify';
import { backendBindings } from '@ipcx/core';
import { createRedisBackend, type RedisBackend } from './backend.js';
import type { RedisBackendOptions } from './connection.js';

/**
 * Binds a Redis backend under core's `IpcBackend` token and each factory under its own token
 * (`MessageQueues`, `Semaphores`, ...): `container.load(redisIpc({ connection, prefix }))`.
 * Pass a backend made with {@link createRedisBackend} to keep a handle for `close()`.
 */
export function redisIpc(options: RedisBackendOptions | RedisBackend = {}): ContainerModule {
  const backend = 'messageQueues' in options ? options : createRedisBackend(options);
  return new ContainerModule(({ bind }) => {
    for (const [token, value] of backendBindings(backend)) bind(token).toConstantValue(value);
  });
}
