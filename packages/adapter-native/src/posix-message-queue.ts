// PLACEHOLDER until this primitive is implemented.
import type { PosixMessageQueues } from '@ipcx/core';

/** The native {@link PosixMessageQueues} factory (not implemented yet). */
export class NativePosixMessageQueues implements PosixMessageQueues {}
