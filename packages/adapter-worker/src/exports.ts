// Everything both package entries export; `index.ts` (Node) and `browser.ts` add the functions
// that create a backend, each bound to its host.
export { workerCapabilities, type WorkerBackendOptions } from './backend.js';
export { WorkerDuplexPipe, WorkerPipeReader, WorkerPipeWriter, WorkerPipes } from './pipe.js';
export { WorkerFifoReader, WorkerFifoWriter, WorkerFifos } from './fifo.js';
export { WorkerMessageQueue, WorkerMessageQueues } from './message-queue.js';
export { WorkerPosixMessageQueue, WorkerPosixMessageQueues } from './posix-message-queue.js';
export { WorkerProcesses } from './process.js';
export {
  WorkerNetworkSockets,
  WorkerUnixDatagramSocket,
  WorkerUnixSeqpacketSocket,
  WorkerUnixServer,
  WorkerUnixSockets,
  WorkerUnixStreamSocket,
} from './socket.js';
export { WorkerFileMapping, WorkerPosixSegment, WorkerSegment, WorkerSharedMemory, WorkerSysvSegment } from './shared-memory.js';
export { WorkerSemaphoreSet, WorkerSemaphores } from './semaphore.js';
export { WorkerPosixSemaphore, WorkerPosixSemaphores } from './posix-semaphore.js';
export { WorkerFileLocks, WorkerLockFile } from './file-lock.js';
export { WorkerEventfd, WorkerEventfds } from './eventfd.js';
