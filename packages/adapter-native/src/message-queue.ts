// PLACEHOLDER until this primitive is implemented.
import type { MessageQueues } from '@ipcx/core';

/** The native {@link MessageQueues} factory (not implemented yet). */
export class NativeMessageQueues implements MessageQueues {}
