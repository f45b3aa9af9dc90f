// The socket factories under the name backend.ts imports them by: Unix sockets are
// unix-socket.ts (over the addon), TCP and UDP network-socket.ts (over node:net and node:dgram).
export { NativeUnixSockets } from './unix-socket.js';
export { NativeNetworkSockets } from './network-socket.js';
