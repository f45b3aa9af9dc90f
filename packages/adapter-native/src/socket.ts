// PLACEHOLDER until this primitive is implemented.
import type { UnixSockets, NetworkSockets } from '@ipcx/core';

/** The native {@link UnixSockets} factory (not implemented yet). */
export class NativeUnixSockets implements UnixSockets {}

/** The native {@link NetworkSockets} factory (not implemented yet). */
export class NativeNetworkSockets implements NetworkSockets {}
