/** Shared by the Redis tests: a backend on the run's server, with a prefix unique to the caller. */
import { inject, onTestFinished } from 'vitest';
import { createRedisBackend, type RedisBackend, type RedisBackendOptions } from '@ipcx/adapter-redis';

let counter = 0;

/** A key prefix unique to this process and call, so parallel files never share objects. */
export function uniquePrefix(label: string): string {
  return `ipcx-test-${label}-${process.pid}-${++counter}`;
}

/** The port of the run's redis-server. */
export function redisPort(): number {
  return inject('redisPort');
}

/** A backend on the run's server; closed when the current test finishes. */
export function testBackend(label: string, options: Partial<RedisBackendOptions> = {}): RedisBackend {
  const backend = createRedisBackend({ connection: { host: '127.0.0.1', port: redisPort() }, prefix: uniquePrefix(label), leaseMs: 1500, ...options });
  onTestFinished(() => backend.close());
  return backend;
}
