// PLACEHOLDER: the full contract for this primitive is being written; see the issue tracker.

/** Factory for this primitive (contract in progress). */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface UnixSockets {}

/** DI token for {@link UnixSockets}. */
export const UnixSockets: unique symbol = Symbol.for('ipcx.UnixSockets');

/** Factory for this primitive (contract in progress). */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface NetworkSockets {}

/** DI token for {@link NetworkSockets}. */
export const NetworkSockets: unique symbol = Symbol.for('ipcx.NetworkSockets');
