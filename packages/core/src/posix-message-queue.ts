// PLACEHOLDER: the full contract for this primitive is being written; see the issue tracker.

/** Factory for this primitive (contract in progress). */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface PosixMessageQueues {}

/** DI token for {@link PosixMessageQueues}. */
export const PosixMessageQueues: unique symbol = Symbol.for('ipcx.PosixMessageQueues');
