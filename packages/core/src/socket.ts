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
import { DEFAULT_READ_BYTES, type ByteReader, type ByteWriter, type ReadOptions } from './byte-stream.js';
import { isForeignDescriptor, type DescriptorBacked, type DescriptorSource } from './descriptor.js';
import { isIpcError } from './errors.js';
import type { IpcObject } from './object.js';
import type { Credentials, NowaitOptions, WaitOptions } from './options.js';
import { isTransferable, type Transferable } from './transfer.js';
import { checkInteger, checkOptionalBoolean, checkOptionalInteger, checkOptions, checkString, checkWaitOptions, toBytes } from './validate.js';

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
export const UnixSockets: unique symbol = Symbol.for('ipcx.UnixSockets');

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
export const NetworkSockets: unique symbol = Symbol.for('ipcx.NetworkSockets');

// Argument checks of this primitive, shared by every backend (same TypeError/RangeError everywhere).

// Core runs in browsers too (worker backend): no Buffer here.
const utf8Length = (value: string): number => new TextEncoder().encode(value).length;

/** Throws `TypeError`/`RangeError` unless `value` is a {@link UnixAddress}. */
export function checkUnixAddress(name: string, value: unknown): UnixAddress {
  if (typeof value === 'string') {
    checkString(name, value);
    if (utf8Length(value) > UNIX_ADDRESS_MAX_BYTES) throw new RangeError(`${name} must be at most ${UNIX_ADDRESS_MAX_BYTES} bytes long`);
    return value;
  }
  if (value !== null && typeof value === 'object' && typeof (value as { abstract?: unknown }).abstract === 'string') {
    const abstract = (value as { abstract: string }).abstract;
    checkString(`${name}.abstract`, abstract);
    if (utf8Length(abstract) > UNIX_ADDRESS_MAX_BYTES - 1) throw new RangeError(`${name}.abstract must be at most ${UNIX_ADDRESS_MAX_BYTES - 1} bytes long`);
    return { abstract };
  }
  throw new TypeError(`${name} must be a path string or { abstract: string }`);
}

/** Throws `TypeError`/`RangeError` unless `value` is a {@link NetworkAddress}; `minPort` 0 or 1. */
export function checkNetworkAddress(name: string, value: unknown, minPort = 0): NetworkAddress {
  if (value === null || typeof value !== 'object') throw new TypeError(`${name} must be { host, port }`);
  const { host, port } = value as Partial<NetworkAddress>;
  checkString(`${name}.host`, host);
  checkInteger(`${name}.port`, port, minPort, 65535);
  return { host: host!, port: port! };
}

/** True if `value` looks like a {@link NetworkAddress} (has a `port`). */
export function isNetworkAddress(value: unknown): value is NetworkAddress {
  return value !== null && typeof value === 'object' && 'port' in value;
}

/** Throws `TypeError` unless `value` is one of `allowed`; returns it (or `fallback` when undefined). */
export function checkSocketType<T extends UnixSocketType>(name: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) throw new TypeError(`${name} must be one of ${allowed.map((t) => `'${t}'`).join(', ')}, received ${String(value)}`);
  return value as T;
}

/** Checks `options.transfer`; returns the objects (empty when none). */
export function checkTransfer(options: SocketSendOptions | undefined): readonly (Transferable | number | { readonly fd: number })[] {
  const { transfer } = checkOptions<SocketSendOptions>('options', options);
  if (transfer === undefined) return [];
  if (!Array.isArray(transfer)) throw new TypeError('options.transfer must be an array of ipcx objects');
  if (transfer.length > MAX_TRANSFER_OBJECTS) throw new RangeError(`options.transfer must hold at most ${MAX_TRANSFER_OBJECTS} objects`);
  for (const [index, item] of transfer.entries()) {
    if (!isTransferable(item) && !isForeignDescriptor(item)) throw new TypeError(`options.transfer[${index}] is not a transferable ipcx object, a FileHandle or a descriptor number`);
  }
  return transfer as readonly unknown[] as readonly (Transferable | number | { readonly fd: number })[];
}

// The largest `maxBytes` of a receive: one allocation of the receiver's, whatever the backend.
const MAX_RECEIVE_BYTES = 1 << 30;
// Permission bits of a Unix socket file when none are given: like every other ipcx object, only
// its owner's (without it, bind's 0777 & ~umask lets any local user connect under umask 0).
const DEFAULT_SOCKET_MODE = 0o600;
// `listen` backlog when none is given (Linux caps it at `somaxconn` anyway).
const DEFAULT_BACKLOG = 128;
const ANY_UNIX_TYPE = ['stream', 'datagram', 'seqpacket'] as const;

/** Validated options of a socket `receive` (or a TCP socket's `read`). */
export interface CheckedSocketReceive {
  /** Most bytes to take (default {@link DEFAULT_READ_BYTES}, at least 1). */
  readonly maxBytes: number;
  /** Do not wait: `EAGAIN` when nothing is there. */
  readonly nowait: boolean;
  /** Milliseconds, `Infinity` for none. */
  readonly timeoutMs: number;
}

/** Validated arguments of a `send` on a connected Unix socket. */
export interface CheckedSocketSend {
  /** The payload. */
  readonly bytes: Uint8Array;
  /** The objects of `options.transfer` (empty when none): ipcx objects, FileHandles, descriptor numbers. */
  readonly transfer: readonly (Transferable | number | { readonly fd: number })[];
  /** Do not wait: `EAGAIN` when the socket is full. */
  readonly nowait: boolean;
  /** Milliseconds, `Infinity` for none. */
  readonly timeoutMs: number;
}

/** Validated arguments of a datagram or seqpacket `send`. */
export interface CheckedMessageSocketSend extends CheckedSocketSend {
  /** The destination (`sendto`, datagram sockets only); `undefined`: the connected peer. */
  readonly to: UnixAddress | undefined;
}

/**
 * For backends: checks the options of a socket `receive` (also a TCP `read`): `maxBytes` from 1
 * to 2^30, `nowait`, `signal`, `timeout`. Throws `TypeError`/`RangeError`.
 */
export function checkSocketReceive(options: ReceiveOptions | ReadOptions | undefined): CheckedSocketReceive {
  checkOptions('options', options);
  const maxBytes = checkOptionalInteger('options.maxBytes', options?.maxBytes, 1, MAX_RECEIVE_BYTES, DEFAULT_READ_BYTES);
  const nowait = checkOptionalBoolean('options.nowait', options?.nowait);
  return { maxBytes, nowait, timeoutMs: checkWaitOptions(options) };
}

/**
 * For backends: checks a {@link StreamSocket.send}: the data, `options.transfer`, `nowait`,
 * `signal` and `timeout`. Objects ride on bytes, so transferring them with empty data is a
 * `RangeError`.
 */
export function checkStreamSocketSend(data: unknown, options: SocketSendOptions | undefined): CheckedSocketSend {
  const bytes = toBytes('data', data);
  const transfer = checkTransfer(options);
  const nowait = checkOptionalBoolean('options.nowait', options?.nowait);
  const timeoutMs = checkWaitOptions(options);
  if (transfer.length > 0 && bytes.length === 0) throw new RangeError('data must not be empty when objects are transferred over a stream socket');
  return { bytes, transfer, nowait, timeoutMs };
}

/**
 * For backends: checks a `send` on a Unix datagram or seqpacket socket. `options.to` is for
 * datagram sockets only (`TypeError` on a seqpacket socket); a seqpacket message must not be
 * empty (`RangeError`).
 */
export function checkMessageSocketSend(type: 'datagram' | 'seqpacket', data: unknown, options: DatagramSendOptions | undefined): CheckedMessageSocketSend {
  const bytes = toBytes('data', data);
  const transfer = checkTransfer(options);
  const nowait = checkOptionalBoolean('options.nowait', options?.nowait);
  const timeoutMs = checkWaitOptions(options);
  let to: UnixAddress | undefined;
  if (options?.to !== undefined) {
    if (type !== 'datagram') throw new TypeError('options.to is only for datagram sockets');
    to = checkUnixAddress('options.to', options.to);
  }
  // recvmsg returns 0 both for an empty seqpacket message and at EOF: refuse the ambiguity.
  if (type === 'seqpacket' && bytes.length === 0) throw new RangeError('data must not be empty on a seqpacket socket');
  return { bytes, transfer, nowait, timeoutMs, to };
}

/** For backends: checks the options of {@link SocketServer.accept} (or a TCP `connect`); returns the timeout in ms. */
export function checkSocketWait(options: WaitOptions | undefined): number {
  checkOptions('options', options);
  return checkWaitOptions(options);
}

/** For backends: checks the arguments of {@link UnixSockets.listen} (backlog 0 to 65535, default 128). */
export function checkUnixListen(
  address: unknown,
  options: UnixListenOptions | undefined,
): { address: UnixAddress; type: 'stream' | 'seqpacket'; backlog: number; replaceStale: boolean; mode: number } {
  const checked = checkUnixAddress('address', address);
  const { type: rawType, backlog: rawBacklog, replaceStale: rawReplace, mode: rawMode } = checkOptions<UnixListenOptions>('options', options);
  const type = checkSocketType('options.type', rawType, ['stream', 'seqpacket'] as const, 'stream');
  const backlog = checkOptionalInteger('options.backlog', rawBacklog, 0, 65535, DEFAULT_BACKLOG);
  const replaceStale = checkOptionalBoolean('options.replaceStale', rawReplace);
  const mode = checkOptionalInteger('options.mode', rawMode, 0, 0o777, DEFAULT_SOCKET_MODE);
  return { address: checked, type, backlog, replaceStale, mode };
}

/** For backends: checks the arguments of {@link UnixSockets.connect} (type default `'stream'`). */
export function checkUnixConnect(address: unknown, options: UnixConnectOptions | undefined): { address: UnixAddress; type: UnixSocketType; timeoutMs: number } {
  const checked = checkUnixAddress('address', address);
  const { type: rawType } = checkOptions<UnixConnectOptions>('options', options);
  const type = checkSocketType('options.type', rawType, ANY_UNIX_TYPE, 'stream');
  return { address: checked, type, timeoutMs: checkWaitOptions(options) };
}

/**
 * For backends: checks the arguments of {@link UnixSockets.bind}; `autobind` with an address is a
 * `TypeError`.
 */
export function checkUnixBind(address: unknown, options: UnixBindOptions | undefined): { address: UnixAddress | undefined; autobind: boolean; mode: number } {
  const checked = address === undefined ? undefined : checkUnixAddress('address', address);
  const { autobind: rawAutobind, mode: rawMode } = checkOptions<UnixBindOptions>('options', options);
  const autobind = checkOptionalBoolean('options.autobind', rawAutobind);
  if (checked !== undefined && autobind) throw new TypeError('options.autobind is only for a socket bound without an address');
  const mode = checkOptionalInteger('options.mode', rawMode, 0, 0o777, DEFAULT_SOCKET_MODE);
  return { address: checked, autobind, mode };
}

/** For backends: checks the type of {@link UnixSockets.pair} (default `'stream'`). */
export function checkUnixPairType(type: unknown): UnixSocketType {
  return checkSocketType('type', type, ANY_UNIX_TYPE, 'stream');
}

/** For backends: checks the arguments of {@link NetworkSockets.listen} (port 0 allowed; backlog 0 to 65535, default 128). */
export function checkNetworkListen(address: unknown, options: NetworkListenOptions | undefined): { host: string; port: number; backlog: number } {
  const { host, port } = checkNetworkAddress('address', address);
  const { backlog: rawBacklog } = checkOptions<NetworkListenOptions>('options', options);
  const backlog = checkOptionalInteger('options.backlog', rawBacklog, 0, 65535, DEFAULT_BACKLOG);
  return { host, port, backlog };
}

/** For backends: checks the arguments of {@link NetworkSockets.connect} (port 1 to 65535); returns the address and the timeout in ms. */
export function checkNetworkConnect(address: unknown, options: WaitOptions | undefined): { address: NetworkAddress; timeoutMs: number } {
  const checked = checkNetworkAddress('address', address, 1);
  return { address: checked, timeoutMs: checkSocketWait(options) };
}

/**
 * Async iteration over a server's accepted connections until it is closed: `close()` ends the
 * iteration rather than failing it (the `EBADF` of a pending accept). Backends use it for
 * `[Symbol.asyncIterator]`.
 */
export async function* iterateServer<S>(server: Pick<SocketServer<S>, 'accept' | 'closed'>): AsyncGenerator<S, void, undefined> {
  while (!server.closed) {
    try {
      yield await server.accept();
    } catch (error) {
      if (server.closed && isIpcError(error, 'EBADF')) return;
      throw error;
    }
  }
}
