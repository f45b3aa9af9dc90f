export { createWorkerBackend, workerCapabilities, type WorkerBackendOptions } from './backend.js';
export { workerIpc } from './module.js';
export { WorkerDuplexPipe, WorkerPipeReader, WorkerPipeWriter, WorkerPipes } from './pipe.js';
export { WorkerFifoReader, WorkerFifoWriter, WorkerFifos } from './fifo.js';
export { WorkerMessageQueue, WorkerMessageQueues } from './message-queue.js';
export { WorkerPosixMessageQueue, WorkerPosixMessageQueues } from './posix-message-queue.js';
export { WorkerProcesses } from './process.js';
