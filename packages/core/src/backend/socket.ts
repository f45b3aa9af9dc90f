/**
 * Argument checks of Unix and network sockets, and the server iterator every backend shares.
 *
 * For backends only (`@ipcx/core/backend`): every backend validates through these, so misuse
 * raises the same `TypeError`/`RangeError` with the same message before any system call.
 */
import { isForeignDescriptor } from './descriptor.js';
import { checkInteger, checkOptionalBoolean, checkOptionalInteger, checkOptions, checkString, checkWaitOptions, checkBytes } from './validate.js';
import { DEFAULT_READ_BYTES, type ReadOptions } from '../byte-stream.js';
import { isIpcError } from '../errors.js';
import type { WaitOptions } from '../options.js';
import { type DatagramSendOptions, MAX_TRANSFER_OBJECTS, type NetworkAddress, type NetworkListenOptions, type ReceiveOptions, type SocketSendOptions, type SocketServer, UNIX_ADDRESS_MAX_BYTES, type UnixAddress, type UnixBindOptions, type UnixConnectOptions, type UnixListenOptions, type UnixSocketType } from '../socket.js';
import { isTransferable, type Transferable } from '../transfer.js';
import type { NetworkSockets, StreamSocket, UnixSockets } from '../socket.js';

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
export function checkSocketTransfer(options: SocketSendOptions | undefined): readonly (Transferable | number | { readonly fd: number })[] {
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
  const bytes = checkBytes('data', data);
  const transfer = checkSocketTransfer(options);
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
  const bytes = checkBytes('data', data);
  const transfer = checkSocketTransfer(options);
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
export function checkUnixSocketListen(
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
export function checkUnixSocketConnect(address: unknown, options: UnixConnectOptions | undefined): { address: UnixAddress; type: UnixSocketType; timeoutMs: number } {
  const checked = checkUnixAddress('address', address);
  const { type: rawType } = checkOptions<UnixConnectOptions>('options', options);
  const type = checkSocketType('options.type', rawType, ANY_UNIX_TYPE, 'stream');
  return { address: checked, type, timeoutMs: checkWaitOptions(options) };
}

/**
 * For backends: checks the arguments of {@link UnixSockets.bind}; `autobind` with an address is a
 * `TypeError`.
 */
export function checkUnixSocketBind(address: unknown, options: UnixBindOptions | undefined): { address: UnixAddress | undefined; autobind: boolean; mode: number } {
  const checked = address === undefined ? undefined : checkUnixAddress('address', address);
  const { autobind: rawAutobind, mode: rawMode } = checkOptions<UnixBindOptions>('options', options);
  const autobind = checkOptionalBoolean('options.autobind', rawAutobind);
  if (checked !== undefined && autobind) throw new TypeError('options.autobind is only for a socket bound without an address');
  const mode = checkOptionalInteger('options.mode', rawMode, 0, 0o777, DEFAULT_SOCKET_MODE);
  return { address: checked, autobind, mode };
}

/** For backends: checks the type of {@link UnixSockets.pair} (default `'stream'`). */
export function checkUnixSocketPair(type: unknown): UnixSocketType {
  return checkSocketType('type', type, ANY_UNIX_TYPE, 'stream');
}

/** For backends: checks the arguments of {@link NetworkSockets.listen} (port 0 allowed; backlog 0 to 65535, default 128). */
export function checkNetworkSocketListen(address: unknown, options: NetworkListenOptions | undefined): { host: string; port: number; backlog: number } {
  const { host, port } = checkNetworkAddress('address', address);
  const { backlog: rawBacklog } = checkOptions<NetworkListenOptions>('options', options);
  const backlog = checkOptionalInteger('options.backlog', rawBacklog, 0, 65535, DEFAULT_BACKLOG);
  return { host, port, backlog };
}

/** For backends: checks the arguments of {@link NetworkSockets.connect} (port 1 to 65535); returns the address and the timeout in ms. */
export function checkNetworkSocketConnect(address: unknown, options: WaitOptions | undefined): { address: NetworkAddress; timeoutMs: number } {
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
