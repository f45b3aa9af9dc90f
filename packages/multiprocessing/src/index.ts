export { ErrorCode, MultiprocessingError, DataCloneError, isMultiprocessingError, type ErrorCodeName } from './errors.js';
export { v8Codec, jsonCodec, type Codec } from './codec.js';
export { registerCodec } from './codec-registry.js';
export { shareSymbol, type Shareable, type ShareRecord } from './share.js';
export { Connection, Pipe, FRAME_HEADER_BYTES, type PipeOptions } from './connection.js';
export { spawn, defineChild, type Process } from './process.js';
