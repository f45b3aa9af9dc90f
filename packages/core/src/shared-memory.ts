// PLACEHOLDER: the full contract for this primitive is being written; see the issue tracker.

/** Factory for this primitive (contract in progress). */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface SharedMemory {}

/** DI token for {@link SharedMemory}. */
export const SharedMemory: unique symbol = Symbol.for('ipcx.SharedMemory');
