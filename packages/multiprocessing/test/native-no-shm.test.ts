/**
 * The multiprocessing suites on the native backend as a machine without shared memory would
 * offer it: the real backend, every kernel object real, with shared memory left out of its
 * declared capabilities (and its factory refusing with ENOSYS, as on such a machine). Queues and
 * barriers then take their fallback over System V message queues and semaphore sets, and what
 * needs shared memory fails with ENOSYS. Test names carry "native-no-shm".
 */
import { capabilities, IpcError, Primitive, type IpcBackend } from '@ipcx/core';
import { createNativeBackend } from '@ipcx/adapter-native';
import { registerMultiprocessingSuites } from '@ipcx/testkit/multiprocessing';

const native = createNativeBackend();
const refuse = new Proxy({} as IpcBackend['sharedMemory'], {
  get: (_target, property) =>
    typeof property === 'symbol' ? undefined : () => Promise.reject(new IpcError('ENOSYS', { syscall: String(property), message: 'ENOSYS: no shared memory on this machine' })),
});
const backend: IpcBackend = Object.assign(Object.create(Object.getPrototypeOf(native) as object) as IpcBackend, native, {
  name: 'native-no-shm',
  capabilities: capabilities(
    [...native.capabilities.primitives].filter((primitive) => primitive !== Primitive.sharedMemory),
    native.capabilities.features,
  ),
  sharedMemory: refuse,
});

registerMultiprocessingSuites(backend);
