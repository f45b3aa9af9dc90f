// PLACEHOLDER until this primitive is implemented.
import type { Semaphores } from '@ipcx/core';

/** The native {@link Semaphores} factory (not implemented yet). */
export class NativeSemaphores implements Semaphores {}
