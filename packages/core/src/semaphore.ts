// PLACEHOLDER: the full contract for this primitive is being written; see the issue tracker.

/** Factory for this primitive (contract in progress). */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface Semaphores {}

/** DI token for {@link Semaphores}. */
export const Semaphores: unique symbol = Symbol.for('ipcx.Semaphores');
