// PLACEHOLDER: the full contract for this primitive is being written; see the issue tracker.

/** Factory for this primitive (contract in progress). */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface PosixSemaphores {}

/** DI token for {@link PosixSemaphores}. */
export const PosixSemaphores: unique symbol = Symbol.for('ipcx.PosixSemaphores');
