/** The native backend: every factory over real Linux kernel objects. */
import { Feature, Primitive, capabilities, type IpcBackend } from '@ipcx/core';
import { defineBackend } from '@ipcx/core/backend';
import './descriptor.js';
import { nativeDiagnostics } from './diagnostics.js';
import { NativeFifos } from './fifo.js';
import { NativeFileLocks } from './file-lock.js';
import { NativeMessageQueues } from './message-queue.js';
import { NativePipes } from './pipe.js';
import { NativePosixMessageQueues } from './posix-message-queue.js';
import { NativePosixSemaphores } from './posix-semaphore.js';
import { NativeProcesses } from './process.js';
import { NativeSemaphores } from './semaphore.js';
import { NativeSharedMemory } from './shared-memory.js';
import { NativeNetworkSockets, NativeUnixSockets } from './socket.js';

let backend: IpcBackend | undefined;

/**
 * The native backend of this environment (one per process or worker; its factories hold no state
 * of their own, so every call returns the same object).
 */
export function createNativeBackend(): IpcBackend {
  backend ??= defineBackend({
    name: 'native',
    capabilities: capabilities(
      [
        Primitive.pipe,
        Primitive.duplexPipe,
        Primitive.fifo,
        Primitive.posixMessageQueue,
        Primitive.messageQueue,
        Primitive.sharedMemory,
        Primitive.unixSocket,
        Primitive.networkSocket,
        Primitive.semaphore,
        Primitive.posixSemaphore,
        Primitive.fileLock,
      ],
      [Feature.hostInterop, Feature.osProcesses, Feature.abstractSockets, Feature.network, Feature.executables],
    ),
    pipes: new NativePipes(),
    fifos: new NativeFifos(),
    messageQueues: new NativeMessageQueues(),
    posixMessageQueues: new NativePosixMessageQueues(),
    semaphores: new NativeSemaphores(),
    posixSemaphores: new NativePosixSemaphores(),
    sharedMemory: new NativeSharedMemory(),
    fileLocks: new NativeFileLocks(),
    unixSockets: new NativeUnixSockets(),
    networkSockets: new NativeNetworkSockets(),
    processes: new NativeProcesses(),
    diagnostics: nativeDiagnostics,
  });
  return backend;
}
