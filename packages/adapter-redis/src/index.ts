export { createRedisBackend, REDIS_CAPABILITIES, type RedisBackend } from './backend.js';
export { RedisConnection, type RedisBackendOptions, type RedisClusterConnection, type RedisConnectionOptions } from './connection.js';
export { RedisMessageQueue, RedisMessageQueues } from './message-queue.js';
export { RedisProcesses } from './process.js';
export { RedisSemaphoreSet, RedisSemaphores } from './semaphore.js';
export { RedisPosixSemaphore, RedisPosixSemaphores } from './posix-semaphore.js';
export { RedisPosixMessageQueue, RedisPosixMessageQueues } from './posix-message-queue.js';
