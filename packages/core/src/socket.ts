/**
 * Sockets: Unix domain sockets (`AF_UNIX`: stream, datagram, seqpacket; paths and the Linux
 * abstract namespace; peer credentials; passing open descriptors) and TCP/UDP sockets, behind the
 * same interfaces.
 *
 * - A {@link StreamSocket} is a byte stream ({@link ByteReader} + {@link ByteWriter}): bytes in
 *   order, no message boundaries, `end()` is `shutdown(SHUT_WR)`.
 * - A {@link MessageSocket} (seqpacket) and a {@link DatagramSocket} keep message boundaries: each
 *   `send` arrives as one `receive`.
 * - A {@link SocketServer} accepts connections of a listening socket.
 *
 * Nothing here blocks the event loop: accepting, connecting, receiving and sending to a full
 * socket wait through Promises that take `signal` and `timeout`. Writing to a socket whose peer is
 * gone rejects with `EPIPE` (or `ECONNRESET`); the process never dies of `SIGPIPE`.
 */
import type { ByteReader, ByteWriter } from './byte-stream.js';
import type { DescriptorBacked, DescriptorSource } from './descriptor.js';
import type { IpcObject } from './object.js';
import type { Credentials, NowaitOptions, WaitOptions } from './options.js';
import { factoryToken } from './primitives.js';

/** The type of a Unix domain socket: `SOCK_STREAM`, `SOCK_DGRAM` or `SOCK_SEQPACKET`. */
export type UnixSocketType = 'stream' | 'datagram' | 'seqpacket';

/**
 * The address of a Unix domain socket: a file-system path (the socket file that `bind` creates),
 * or a name in the Linux abstract namespace (`{ abstract: 'name' }`: no file, gone with the last
 * socket bound to it). At most {@link UNIX_ADDRESS_MAX_BYTES} UTF-8 bytes either way.
 */
export type UnixAddress = string | { readonly abstract: string };

/** The address of a TCP or UDP socket: a numeric host (`'127.0.0.1'`, `'::1'`) or a name, and a port. */
export interface NetworkAddress {
  /** IP address or host name. */
  readonly host: string;
  /** Port number; `0` when binding or listening means "any free port" (the real one is reported). */
  readonly port: number;
}

/** Any socket address: Unix ({@link UnixAddress}) or network ({@link NetworkAddress}). */
export type SocketAddress = UnixAddress | NetworkAddress;

/** The longest Unix address in bytes (`sun_path` holds 108 bytes including a terminating NUL). */
export const UNIX_ADDRESS_MAX_BYTES = 107;

/** The most objects one `send` can carry (`SCM_MAX_FD`). */
export const MAX_TRANSFER_OBJECTS = 253;

/** Options of a `send` on a connected socket. */
export interface SocketSendOptions extends NowaitOptions {
  /**
   * ipcx objects whose descriptors travel with this message (`SCM_RIGHTS`, Unix sockets only):
   * pipe ends, FIFO ends, sockets, anything transferable whose record has handles. The receiver
   * gets equivalent, independent objects in {@link ReceivedMessage.objects}; the sender keeps its
   * own (close them when no longer needed). At most {@link MAX_TRANSFER_OBJECTS}. On a stream
   * socket `data` must not be empty, since descriptors ride on bytes. A network socket rejects a
   * non-empty `transfer` with `TypeError`, as does any object that cannot travel (one without
   * descriptors, such as a System V queue: pass its key instead). Any other descriptor can travel
   * too on a backend with OS descriptors: a Node `FileHandle` or a plain descriptor number (a
   * regular file, a memfd, an eventfd, ...); the receiver gets it as a generic `Descriptor`.
   */
  readonly transfer?: readonly (IpcObject | DescriptorSource)[];
}

/** Options of {@link DatagramSocket.send}. */
export interface DatagramSendOptions extends SocketSendOptions {
  /** Where to send (`sendto`). Omitted: to the connected peer (`ENOTCONN`/`EDESTADDRREQ` if none). */
  readonly to?: SocketAddress;
}

/** Options of a `receive`. */
export interface ReceiveOptions extends NowaitOptions {
  /**
   * Most bytes to receive (default 65536). A datagram or seqpacket message longer than this is
   * cut to this size and the rest is discarded (`truncated: true`), as `recvmsg` does.
   */
  readonly maxBytes?: number;
}

/** What one `receive` gives. */
export interface ReceivedMessage {
  /** The message's bytes (a stream socket: the bytes available now, up to `maxBytes`). */
  readonly data: Uint8Array;
  /** True when the message was longer than `maxBytes` and its tail was discarded (`MSG_TRUNC`). */
  readonly truncated: boolean;
  /** Datagram sockets: the sender's address; `undefined` when the sender is not bound. */
  readonly from?: SocketAddress;
  /** ipcx objects revived from the descriptors that came with the message (`SCM_RIGHTS`). */
  readonly objects: readonly unknown[];
}

/** What every socket has. */
export interface Socket extends IpcObject, DescriptorBacked {
  /** The address this socket is bound to (`getsockname`), `undefined` if unnamed. */
  readonly localAddress: SocketAddress | undefined;
  /** The connected peer's address (`getpeername`), `undefined` if not connected or unnamed. */
  readonly remoteAddress: SocketAddress | undefined;
}

/** What a connected Unix socket (stream or seqpacket, or one of a pair) can tell about its peer. */
export interface ConnectedSocket extends Socket {
  /**
   * The process on the other end (`SO_PEERCRED`): its pid, uid and gid as of `connect` (for an
   * accepted socket: of the connecting process; for a pair: of the process that made the pair).
   * Does not wait. Network sockets reject it with `ENOPROTOOPT` (TCP has no peer credentials).
   */
  peerCredentials(): Credentials;
}

/**
 * A connected stream socket (Unix `SOCK_STREAM` or TCP): a byte stream in both directions.
 *
 * `read()`/`write()` behave as for pipes (`EPIPE` or `ECONNRESET` when the peer is gone; `read()`
 * gives `null` after the peer ended its writing side). `send`/`receive` do the same with
 * descriptors attached: descriptors sent along with bytes are delivered only to `receive()`;
 * a plain `read()` of those bytes drops them (the kernel closes them).
 */
export interface StreamSocket extends ByteReader, ByteWriter, ConnectedSocket {
  /** Stops writing (`shutdown(SHUT_WR)`): the peer reads EOF; this side can still read. */
  end(): Promise<void>;
  /**
   * Writes all of `data`, the objects of `options.transfer` riding on its first bytes; resolves
   * with the number of bytes written. Waits while the socket buffer is full (as `write`).
   */
  send(data: Uint8Array | string, options?: SocketSendOptions): Promise<number>;
  /**
   * Resolves with the bytes available now (at least one, up to `maxBytes`) and the objects that
   * came with them, or `null` at EOF. A receive stops at the bytes that carried descriptors, so
   * objects are never merged into an unrelated chunk. `truncated` is always false.
   */
  receive(options?: ReceiveOptions): Promise<ReceivedMessage | null>;
}

/**
 * A connected message socket (Unix `SOCK_SEQPACKET`): reliable, ordered, and message boundaries
 * are kept: each `send` arrives as exactly one `receive`.
 */
export interface MessageSocket extends ConnectedSocket {
  /**
   * Sends one message, whole or not at all; resolves with its size. Waits while the peer's buffer
   * is full (with `nowait`: `EAGAIN`). `EMSGSIZE` if the message can never fit; `EPIPE` when
   * the peer is gone. A seqpacket message must not be empty (`RangeError`: `recvmsg` could not
   * tell it from EOF).
   */
  send(data: Uint8Array | string, options?: SocketSendOptions): Promise<number>;
  /**
   * Resolves with the next message, or `null` once the peer has closed (or ended) and every
   * message has been read. Waits until one arrives (with `nowait`: `EAGAIN`).
   */
  receive(options?: ReceiveOptions): Promise<ReceivedMessage | null>;
  /** Stops sending (`shutdown(SHUT_WR)`): the peer's `receive` gives `null` after the last message. */
  end(): Promise<void>;
}

/**
 * A datagram socket (Unix `SOCK_DGRAM` or UDP): each `send` is one datagram and arrives whole as
 * one `receive` (or not at all, for UDP), boundaries kept. Unix datagrams are reliable and ordered.
 */
export interface DatagramSocket extends Socket {
  /**
   * Sends one datagram to `options.to` (or the connected peer); resolves with its size. A Unix
   * datagram socket waits while the receiver's queue is full (with `nowait`: `EAGAIN`).
   * `EMSGSIZE` when it is larger than the socket can ever send, `ECONNREFUSED` when nobody is
   * bound at `to`, `ENOENT` for a missing path.
   */
  send(data: Uint8Array | string, options?: DatagramSendOptions): Promise<number>;
  /**
   * Resolves with the next datagram and its sender's address (`from`); a datagram larger than
   * `maxBytes` is cut (`truncated: true`, the rest is discarded). Waits until one arrives
   * (with `nowait`: `EAGAIN`). Zero-length datagrams are valid.
   */
  receive(options?: ReceiveOptions): Promise<ReceivedMessage>;
}

/**
 * A listening socket. Async iteration yields each accepted connection until the server is closed.
 * Closing a Unix server bound to a path also removes its socket file.
 */
export interface SocketServer<S> extends IpcObject, AsyncIterable<S>, DescriptorBacked {
  /** The address it listens on; for TCP with port 0, the port the kernel chose. */
  readonly address: SocketAddress;
  /**
   * Resolves with the next incoming connection (`accept4`), waiting until one comes. `signal` and
   * `timeout` (`ETIMEDOUT`) end the wait; closing the server rejects it with `EBADF`.
   */
  accept(options?: WaitOptions): Promise<S>;
}

/** Options of {@link UnixSockets.listen}. */
export interface UnixListenOptions {
  /** `'stream'` (default) or `'seqpacket'`. */
  readonly type?: 'stream' | 'seqpacket';
  /** Length of the queue of connections not yet accepted (default 128; capped by `somaxconn`). */
  readonly backlog?: number;
  /**
   * When the path exists and is a socket that nobody listens on (connecting to it gives
   * `ECONNREFUSED`: its server died without removing it), remove it and bind again. A path that
   * is not a socket, or one with a live listener, still rejects with `EADDRINUSE`. Default false.
   */
  readonly replaceStale?: boolean;
  /**
   * Permission bits of the socket file of a path address (default `0o600`: only this user may
   * connect), whatever the process's umask, and at no instant more open than this while it is
   * created. Connecting to the path (and sending a datagram to it) needs write permission, else
   * `EACCES`. Ignored for abstract names, which have no file and no permissions.
   */
  readonly mode?: number;
}

/** Options of {@link UnixSockets.connect}. */
export interface UnixConnectOptions extends WaitOptions {
  /** `'stream'` (default), `'seqpacket'`, or `'datagram'` (sets the default destination). */
  readonly type?: UnixSocketType;
}

/** Options of {@link UnixSockets.bind}. */
export interface UnixBindOptions {
  /**
   * With no address: let the kernel choose a unique abstract name (autobind), so receivers see a
   * sender address and can reply. Default false: the socket stays unnamed.
   */
  readonly autobind?: boolean;
  /**
   * Permission bits of the socket file of a path address (default `0o600`: only this user may
   * send to it), whatever the umask, and at no instant more open than this. Sending a datagram to
   * the path needs write permission, else `EACCES`. Ignored for abstract names and autobind.
   */
  readonly mode?: number;
}

/**
 * Unix domain sockets (`socket(AF_UNIX, ...)`): named by a path, or by a name in the Linux
 * abstract namespace, and usable by unrelated processes (including non-ipcx ones). Sockets reach
 * children in `processes.spawn` args, and each other's processes over `send({ transfer })`.
 */
export interface UnixSockets {
  /**
   * Binds and listens (`socket`, `bind`, `listen`). A path gets a socket file (removed by the
   * server's `close()`). Rejects with `EADDRINUSE` when the path or name is taken (see
   * `replaceStale`), `ENOENT` when the path's folder does not exist, `EACCES` without permission.
   */
  listen(address: UnixAddress, options?: UnixListenOptions & { readonly type?: 'stream' }): Promise<SocketServer<StreamSocket>>;
  listen(address: UnixAddress, options: UnixListenOptions & { readonly type: 'seqpacket' }): Promise<SocketServer<MessageSocket>>;
  /**
   * Connects to a listening socket (`connect`). Waits without blocking the event loop while the
   * server's backlog is full; `signal` and `timeout` (`ETIMEDOUT`) end the wait. Rejects with
   * `ENOENT` for a missing path, `ECONNREFUSED` when nobody listens there, `EPROTOTYPE` on a type
   * mismatch.
   */
  connect(address: UnixAddress, options?: UnixConnectOptions & { readonly type?: 'stream' }): Promise<StreamSocket>;
  connect(address: UnixAddress, options: UnixConnectOptions & { readonly type: 'seqpacket' }): Promise<MessageSocket>;
  connect(address: UnixAddress, options: UnixConnectOptions & { readonly type: 'datagram' }): Promise<DatagramSocket>;
  /**
   * A datagram socket bound to `address` (`EADDRINUSE` if taken), or, with no address, unnamed
   * (or autobound, see {@link UnixBindOptions}). A path gets a socket file that `close()` removes.
   */
  bind(address?: UnixAddress, options?: UnixBindOptions): Promise<DatagramSocket>;
  /** Two connected sockets (`socketpair`) of the type: both ends send and receive. */
  pair(type?: 'stream'): Promise<[StreamSocket, StreamSocket]>;
  pair(type: 'seqpacket'): Promise<[MessageSocket, MessageSocket]>;
  pair(type: 'datagram'): Promise<[DatagramSocket, DatagramSocket]>;
}

/** DI token for {@link UnixSockets}. */
export const UnixSockets: symbol = factoryToken('unixSockets');

/** Options of {@link NetworkSockets.listen}. */
export interface NetworkListenOptions {
  /** Length of the queue of connections not yet accepted (default 128). */
  readonly backlog?: number;
}

/**
 * TCP and UDP sockets with `{ host, port }` addresses, behind the same {@link StreamSocket},
 * {@link DatagramSocket} and {@link SocketServer} interfaces as Unix sockets. They cannot carry
 * descriptors, have no peer credentials, and cannot be passed to children or over Unix sockets
 * (`TypeError`): a child connects by address instead.
 */
export interface NetworkSockets {
  /** A TCP server (`EADDRINUSE` when the port is taken). Port 0: any free port, see `address`. */
  listen(address: NetworkAddress, options?: NetworkListenOptions): Promise<SocketServer<StreamSocket>>;
  /** Connects over TCP, waiting for the handshake (`ECONNREFUSED` when nothing listens). */
  connect(address: NetworkAddress, options?: WaitOptions): Promise<StreamSocket>;
  /** A UDP socket bound to the address (`EADDRINUSE` when taken; port 0: any free port). */
  bind(address: NetworkAddress): Promise<DatagramSocket>;
}

/** DI token for {@link NetworkSockets}. */
export const NetworkSockets: symbol = factoryToken('networkSockets');
