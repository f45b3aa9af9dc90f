/**
 * `@ipcx/core/backend`: the kit for writing a backend, kept out of the public entry so that an
 * app's autocomplete shows only what it calls. Argument checks (one `check<Thing><Call>` per
 * validated call, see docs/DEVELOPING.md), cancellation of pending waits, and the helpers the
 * adapters share. Nothing here is needed to use a backend.
 */
// Shared machinery.
export * from './validate.js';
export * from './cancellation.js';
export * from './define.js';
export * from './wait-policy.js';

// Argument checks and helpers of each primitive, one file per primitive as in core's top level.
export * from './descriptor.js';
export * from './eventfd.js';
export * from './fifo.js';
export * from './file-lock.js';
export * from './message-queue.js';
export * from './posix-message-queue.js';
export * from './posix-semaphore.js';
export * from './process.js';
export * from './semaphore.js';
export * from './shared-memory.js';
export * from './socket.js';
