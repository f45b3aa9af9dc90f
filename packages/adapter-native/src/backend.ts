/** The native backend: every factory over real Linux kernel objects. */
import { Feature, type IpcBackend } from '@ipcx/core';
import { defineBackend, fromSlices } from '@ipcx/core/backend';
import './descriptor.js';
import { nativeDiagnostics } from './diagnostics.js';
import { eventfdSlice } from './eventfd.js';
import { fifoSlice } from './fifo.js';
import { fileLockSlice } from './file-lock.js';
import { messageQueueSlice } from './message-queue.js';
import { pipeSlice } from './pipe.js';
import { posixMessageQueueSlice } from './posix-message-queue.js';
import { posixSemaphoreSlice } from './posix-semaphore.js';
import { networkSocketSlice } from './network-socket.js';
import { NativeProcesses } from './process.js';
import { semaphoreSlice } from './semaphore.js';
import { sharedMemorySlice } from './shared-memory.js';
import { unixSocketSlice } from './unix-socket.js';

/**
 * What the native backend implements: one slice per primitive file, each naming its factory and
 * its primitives. The capabilities are derived from this list; a new primitive adds its slice here.
 */
export const nativeSlices = [
  pipeSlice,
  fifoSlice,
  messageQueueSlice,
  posixMessageQueueSlice,
  semaphoreSlice,
  posixSemaphoreSlice,
  sharedMemorySlice,
  fileLockSlice,
  eventfdSlice,
  unixSocketSlice,
  networkSocketSlice,
];

let backend: IpcBackend | undefined;

/**
 * The native backend of this environment (one per process or worker; its factories hold no state
 * of their own, so every call returns the same object).
 */
export function createNativeBackend(): IpcBackend {
  backend ??= defineBackend({
    name: 'native',
    ...fromSlices(nativeSlices, undefined, [Feature.hostInterop, Feature.osProcesses, Feature.abstractSockets, Feature.network, Feature.executables]),
    processes: new NativeProcesses(),
    diagnostics: nativeDiagnostics,
  });
  return backend;
}
