/**
 * Which transport an object of this package uses, chosen from what the backend declares
 * (`backend.capabilities`), never by probing: shared memory when the backend has it (the ring,
 * shared values), else System V message queues and semaphore sets (the Redis backend, or a native
 * or worker backend whose shared memory is unavailable). Objects that only exist over shared
 * memory or pipes fail on a backend without them with an `ENOSYS` {@link IpcError}, before
 * anything is made.
 */
import { IpcError, Primitive, type IpcBackend, type PrimitiveName } from '@ipcx/core';

/** True if `backend` declares shared memory (the ring and shared values can be used). */
export function hasSharedMemory(backend: IpcBackend): boolean {
  return backend.capabilities.primitives.has(Primitive.sharedMemory);
}

/** True if `backend` can carry a pair of ends over shared-memory rings (shared memory and the rings' semaphore sets). */
export function hasSharedRings(backend: IpcBackend): boolean {
  return hasSharedMemory(backend) && backend.capabilities.primitives.has(Primitive.semaphore);
}

/**
 * Throws `ENOSYS` unless `backend` declares every primitive of `needs`: `what` (say, `'Value'`)
 * needs them and has no fallback.
 */
export function requirePrimitives(backend: IpcBackend, what: string, needs: readonly PrimitiveName[]): void {
  const missing = needs.filter((primitive) => !backend.capabilities.primitives.has(primitive));
  if (missing.length === 0) return;
  throw new IpcError('ENOSYS', {
    syscall: what,
    message: `ENOSYS: ${what} needs ${missing.join(' and ')}, which the ${backend.name} backend does not have`,
  });
}

/** The primitives a queue's fallback transport needs (message queues and semaphore sets). */
export const FALLBACK_PRIMITIVES: readonly PrimitiveName[] = [Primitive.messageQueue, Primitive.semaphore];
