export * from './errno.js';
export * from './errors.js';
export * from './options.js';
export * from './object.js';
export * from './primitives.js';
export * from './capabilities.js';
// Everything of transfer.ts but reviveModuleTransfers, which only runChildMain calls.
export {
  transferSymbol,
  isTransferable,
  packTransferables,
  unpackTransferables,
  moduleTransferSymbol,
  isModuleTransferable,
  type TransferRecord,
  type Transferable,
  type ModuleTransfer,
  type ModuleTransferable,
} from './transfer.js';
export * from './event-loop.js';
export * from './byte-stream.js';
export * from './descriptor.js';
export * from './pipe.js';
export * from './fifo.js';
export * from './socket.js';
export * from './message-queue.js';
export * from './posix-message-queue.js';
export * from './semaphore.js';
export * from './posix-semaphore.js';
export * from './shared-memory.js';
export * from './file-lock.js';
export * from './eventfd.js';
export * from './process.js';
export * from './backend.js';
