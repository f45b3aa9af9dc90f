// PLACEHOLDER until this primitive is implemented.
import type { SharedMemory } from '@ipcx/core';

/** The native {@link SharedMemory} factory (not implemented yet). */
export class NativeSharedMemory implements SharedMemory {}
