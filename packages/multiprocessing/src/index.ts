export { ErrorCode, MultiprocessingError, DataCloneError, isMultiprocessingError, type ErrorCodeName } from './errors.js';
export { v8Codec, jsonCodec, type Codec } from './codec.js';
export { registerCodec } from './codec-registry.js';
export { shareSymbol, type Shareable, type ShareRecord } from './share.js';
export { Connection, Pipe, FRAME_HEADER_BYTES, type PipeOptions } from './connection.js';
export { spawn, defineChild, type Process } from './process.js';
export { Queue, JoinableQueue, SimpleQueue, type QueueOptions, type QueueWaitOptions } from './queue.js';
export { Ring, RingField, RingLock, FrameFlag, HEADER_BYTES, FRAME_BYTES, RING_MAGIC, ringBytes, ringCapacity } from './ring.js';
