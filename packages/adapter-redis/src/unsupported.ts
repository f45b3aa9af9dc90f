/**
 * The factories this backend does not implement: pipes, FIFOs, shared memory and sockets have no
 * honest equivalent on Redis (byte streams with kernel semantics, shared bytes), so every method
 * rejects with `ENOSYS` instead of half-emulating them. They are absent from the capabilities.
 */
import { IpcError } from '@ipcx/core';

/** A factory whose every method rejects (or, if called synchronously, throws) `ENOSYS`. */
export function unsupported<T extends object>(primitive: string): T {
  return new Proxy({} as T, {
    get(_target, property) {
      if (typeof property === 'symbol' || property === 'then') return undefined;
      return () => Promise.reject(new IpcError('ENOSYS', { syscall: String(property), message: `ENOSYS: the redis backend has no ${primitive} (${String(property)})` }));
    },
  });
}
