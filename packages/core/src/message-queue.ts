// PLACEHOLDER: the full contract for this primitive is being written; see the issue tracker.

/** Factory for this primitive (contract in progress). */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface MessageQueues {}

/** DI token for {@link MessageQueues}. */
export const MessageQueues: unique symbol = Symbol.for('ipcx.MessageQueues');
