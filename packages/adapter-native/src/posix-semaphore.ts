// PLACEHOLDER until this primitive is implemented.
import type { PosixSemaphores } from '@ipcx/core';

/** The native {@link PosixSemaphores} factory (not implemented yet). */
export class NativePosixSemaphores implements PosixSemaphores {}
