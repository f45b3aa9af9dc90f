export { createNativeBackend } from './backend.js';
export { nativeIpc } from './module.js';
export { NativeDuplexPipe, NativePipeReader, NativePipeWriter, NativePipes } from './pipe.js';
export { NativeFifoReader, NativeFifoWriter, NativeFifos } from './fifo.js';
export { NativeProcesses } from './process.js';
