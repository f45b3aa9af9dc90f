/**
 * Sockets. Unix domain sockets over real descriptors (socket.cc) driven by the shared descriptor
 * engine: fast non-blocking call first, uv_poll only on EAGAIN, no thread per operation. TCP and
 * UDP over Node's `net` and `dgram`, behind the same interfaces.
 */
import dgram from 'node:dgram';
import { lstatSync, openSync, statSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import {
  completedNow,
  DEFAULT_READ_BYTES,
  IpcError,
  abortErrorFor,
  closedError,
  iterateReader,
  type IteratorOptions,
  readerToWebStream,
  transferSymbol,
  writerToWebStream,
  type Credentials,
  type DatagramSendOptions,
  type DatagramSocket,
  type MessageSocket,
  type NetworkAddress,
  type NetworkListenOptions,
  type NetworkSockets,
  type NowaitOptions,
  type ReadOptions,
  type ReceiveOptions,
  type ReceivedMessage,
  type SocketAddress,
  type SocketSendOptions,
  type SocketServer,
  type StreamSocket,
  type Transferable,
  type TransferRecord,
  type UnixAddress,
  type UnixBindOptions,
  type UnixConnectOptions,
  type UnixListenOptions,
  type UnixSocketType,
  type UnixSockets,
  type WaitOptions,
  type WriteOptions,
} from '@ipcx/core';
import {
  descriptorNumberOf,
  checkMessageSocketSend,
  checkNetworkAddress,
  checkNetworkSocketConnect,
  checkNetworkSocketListen,
  checkOptionalBoolean,
  checkSocketReceive,
  checkSocketWait,
  checkStreamSocketSend,
  checkSocketTransfer,
  checkUnixSocketBind,
  checkUnixSocketConnect,
  checkUnixSocketListen,
  checkUnixSocketPair,
  checkWaitOptions,
  iterateServer,
  checkBytes,
  backendSlice,
} from '@ipcx/core/backend';
import { addon, errorFromErrno, type WaitCallback } from './addon.js';
import { DescriptorObject, DescriptorStream, WOULD_BLOCK, type Attempt } from './descriptor-stream.js';
import { recordPath, recordRemoved } from './ledger.js';
import { track, untrack, type TrackedObject } from './registry.js';
import { reviveReceived, registerReviver } from './revive.js';
import { blockingWait, cancellationError, watchCancellation, type PendingWait, type WaitOwner } from './wait.js';

/** What `socketReceive` reports for one message. */
interface RawReceive {
  bytes: number;
  truncated: boolean;
  fds?: number[];
  from?: UnixAddress;
}

/** The addon functions of socket.cc (and `socketpair` of pipe.cc). Numbers are `-errno` on failure. */
interface SocketAddon {
  socketpair(type: number): [number, number];
  close(fd: number): number;
  socketOpen(type: number, nonblocking: boolean): number;
  /** `permissions`: the socket file's mode for a path (see SocketBind in socket.cc), -1 for the kernel's default. */
  socketBind(fd: number, name: string | null, mode: number, permissions?: number): number;
  socketListen(fd: number, backlog: number): number;
  socketAcceptWait(fd: number, callback: WaitCallback): number;
  socketConnect(fd: number, name: string | null, mode: number): number;
  socketConnectWait(type: number, name: string | null, mode: number, callback: WaitCallback): number;
  socketSend(fd: number, bytes: Uint8Array, offset: number, length: number, fds: number[] | null, name: string | null, mode: number): number;
  socketReceive(fd: number, bytes: Uint8Array, offset: number, length: number, message: boolean): number | RawReceive;
  socketPeerCredentials(fd: number): [number, number, number];
  socketName(fd: number, peer: boolean): UnixAddress | undefined;
  socketListening(fd: number): boolean;
}

const native = addon as unknown as SocketAddon;

const EAGAIN = 11;
const EADDRINUSE = 98;
const ECONNREFUSED = 111;
const SOCKET_TYPE = { stream: 1, datagram: 2, seqpacket: 5 } as const;
// How socket.cc reads an address argument.
const ADDRESS_MODE = { path: 0, abstract: 1, autobind: 2, none: 3 } as const;

function addressArgs(address: UnixAddress): [string, number] {
  return typeof address === 'string' ? [address, ADDRESS_MODE.path] : [address.abstract, ADDRESS_MODE.abstract];
}

function pathOf(address: UnixAddress): string | undefined {
  return typeof address === 'string' ? address : undefined;
}

function describeAddress(address: UnixAddress): string {
  return typeof address === 'string' ? `'${address}'` : `@${address.abstract}`;
}

/** What a send passes: the descriptors, and those opened for it alone (closed once it settles). */
interface OutgoingDescriptors {
  readonly fds: number[];
  readonly opened: number[];
}

/**
 * The file of a mapping that holds no descriptor of its own (a file mapping, a POSIX segment),
 * opened again by its path so that it can travel as a descriptor; `undefined` for other records.
 */
function openMappedFile(record: TransferRecord): number | undefined {
  const data = record.data as { path?: string; name?: string; readOnly?: boolean } | undefined;
  const filePath = record.kind === 'file-mapping' ? data?.path : record.kind === 'posix-segment' && data?.name !== undefined ? `/dev/shm/${data.name.replace(/^\//, '')}` : undefined;
  if (filePath === undefined) return undefined;
  return openSync(filePath, data?.readOnly === true ? 'r' : 'r+');
}

/**
 * The descriptors of objects to send (SCM_RIGHTS): an ipcx object's, a mapping's file (opened for
 * the send), a FileHandle's, a plain number; TypeError for an object that has none.
 */
function descriptorsOf(objects: readonly (Transferable | number | { readonly fd: number })[]): OutgoingDescriptors {
  const fds: number[] = [];
  const opened: number[] = [];
  try {
    for (const [index, object] of objects.entries()) {
      if (typeof object === 'number' || !(transferSymbol in object)) {
        const fd = descriptorNumberOf(`options.transfer[${index}]`, object);
        if (fd === undefined) throw new TypeError(`options.transfer[${index}] has no descriptor to pass`);
        fds.push(fd);
        continue;
      }
      const record = object[transferSymbol]();
      if (record.handles === undefined || record.handles.length === 0) {
        const file = openMappedFile(record);
        if (file === undefined) throw new TypeError(`options.transfer[${index}] (${record.kind}) has no descriptor to pass`);
        opened.push(file);
        fds.push(file);
        continue;
      }
      fds.push(...record.handles);
    }
  } catch (error) {
    for (const fd of opened) native.close(fd);
    throw error;
  }
  return { fds, opened };
}

/** Closes the descriptors opened for a send once it has settled. */
function afterSend<T>(sending: Promise<T>, outgoing: OutgoingDescriptors | undefined): Promise<T> {
  if (outgoing === undefined || outgoing.opened.length === 0) return sending;
  const release = () => {
    for (const fd of outgoing.opened) native.close(fd);
  };
  sending.then(release, release);
  return sending;
}

let receiveScratch = Buffer.allocUnsafeSlow(DEFAULT_READ_BYTES);

/** One non-blocking recvmsg: the message (copied out of a shared scratch buffer), WOULD_BLOCK, or the error. */
function receiveOnce(fd: number, maxBytes: number, message: boolean, objectName: string): (ReceivedMessage & { eof: boolean }) | Error | typeof WOULD_BLOCK {
  if (receiveScratch.length < maxBytes) receiveScratch = Buffer.allocUnsafeSlow(maxBytes);
  const result = native.socketReceive(fd, receiveScratch, 0, maxBytes, message);
  if (typeof result === 'number') return result === -EAGAIN ? WOULD_BLOCK : errorFromErrno(result, { syscall: 'recvmsg', object: objectName });
  const objects = (result.fds ?? []).map(reviveReceived);
  return {
    data: Buffer.from(receiveScratch.subarray(0, result.bytes)),
    truncated: result.truncated,
    ...(result.from !== undefined ? { from: result.from } : {}),
    objects,
    eof: result.bytes === 0 && !result.truncated && objects.length === 0,
  };
}

function strip(message: ReceivedMessage & { eof: boolean }): ReceivedMessage {
  const { eof: _eof, ...rest } = message;
  return rest;
}

/** Address getters and peer credentials that every Unix socket shares. */
function localAddressOf(object: { closed: boolean; fd: number }, peer: boolean): SocketAddress | undefined {
  return object.closed ? undefined : native.socketName(object.fd, peer);
}

function credentialsOf(fd: number, closed: boolean, objectName: string): Credentials {
  if (closed) throw closedError(objectName, 'getsockopt');
  const [pid, uid, gid] = native.socketPeerCredentials(fd);
  return { pid, uid, gid };
}

/** A connected Unix stream socket. */
export class NativeUnixStreamSocket extends DescriptorStream implements StreamSocket {
  constructor(fd: number) {
    super(fd, 'unix stream socket', 'unix-stream-socket', { read: true, write: true }, 'socket');
  }

  get localAddress(): SocketAddress | undefined {
    return localAddressOf(this, false);
  }

  get remoteAddress(): SocketAddress | undefined {
    return localAddressOf(this, true);
  }

  peerCredentials(): Credentials {
    return credentialsOf(this.fd, this.closed, this.objectName);
  }

  async end(): Promise<void> {
    this.shutdownWrite();
  }

  send(data: Uint8Array | string, options?: SocketSendOptions): Promise<number> {
    try {
      const { bytes, transfer, nowait, timeoutMs } = checkStreamSocketSend(data, options);
      if (this.closed) throw closedError(this.objectName, 'sendmsg');
      if (options?.signal?.aborted) throw abortErrorFor(options.signal);
      const outgoing = transfer.length > 0 ? descriptorsOf(transfer) : undefined;
      return afterSend(this.writeBytes(bytes, outgoing?.fds, options, nowait, timeoutMs, 'sendmsg'), outgoing);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  receive(options?: ReceiveOptions): Promise<ReceivedMessage | null> {
    try {
      const { maxBytes, nowait, timeoutMs } = checkSocketReceive(options);
      if (this.closed) throw closedError(this.objectName, 'recvmsg');
      if (options?.signal?.aborted) throw abortErrorFor(options.signal);
      const attempt: Attempt<ReceivedMessage | null> = () => {
        const result = receiveOnce(this.fd, maxBytes, false, this.objectName);
        if (result === WOULD_BLOCK || result instanceof Error) return result;
        // The peer's address is not news on a connected stream.
        const { from: _from, ...message } = strip(result);
        return result.eof ? null : message;
      };
      return this.perform('read', attempt, options, nowait, timeoutMs, 'recvmsg');
    } catch (error) {
      return Promise.reject(error);
    }
  }

  // send(MSG_NOSIGNAL) rather than write(2): a peer that is gone gives EPIPE, never SIGPIPE.
  protected override sysWrite(bytes: Uint8Array, offset: number, length: number, fds: number[] | undefined): number {
    return native.socketSend(this.fd, bytes, offset, length, fds ?? null, null, ADDRESS_MODE.none);
  }
}

/** What Unix datagram and seqpacket sockets share: whole messages, sent and received. */
class NativeUnixMessageEndpoint extends DescriptorObject {
  constructor(
    fd: number,
    private readonly type: 'datagram' | 'seqpacket',
  ) {
    super(fd, `unix ${type} socket`, `unix-${type}-socket`, 'socket');
  }

  get localAddress(): SocketAddress | undefined {
    return localAddressOf(this, false);
  }

  get remoteAddress(): SocketAddress | undefined {
    return localAddressOf(this, true);
  }

  send(data: Uint8Array | string, options?: DatagramSendOptions): Promise<number> {
    try {
      const { bytes, transfer, nowait, timeoutMs, to } = checkMessageSocketSend(this.type, data, options);
      if (this.closed) throw closedError(this.objectName, 'sendmsg');
      if (options?.signal?.aborted) throw abortErrorFor(options.signal);
      const outgoing = transfer.length > 0 ? descriptorsOf(transfer) : undefined;
      const fds = outgoing?.fds ?? null;
      const [name, mode] = to !== undefined ? addressArgs(to) : [null, ADDRESS_MODE.none];
      const details = { syscall: 'sendmsg', object: this.objectName, ...(to !== undefined && typeof to === 'string' ? { path: to } : {}) };
      const attempt: Attempt<number> = () => {
        const n = native.socketSend(this.fd, bytes, 0, bytes.length, fds, name, mode);
        if (n === -EAGAIN) return WOULD_BLOCK;
        return n < 0 ? errorFromErrno(n, details) : n;
      };
      if (to === undefined) return afterSend(this.perform('write', attempt, options, nowait, timeoutMs, 'sendmsg'), outgoing);
      return afterSend(this.sendToWithRetry(attempt, options, nowait, timeoutMs), outgoing);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * A `sendto` on an unconnected datagram socket whose receiver's queue is full. poll(2) cannot
   * announce room there (an unconnected socket always polls writable, so uv_poll would spin), so
   * the send is retried on a timer, backing off from 1 ms to 50 ms. Cancellation as usual.
   */
  private sendToWithRetry(attempt: Attempt<number>, options: WaitOptions | undefined, nowait: boolean, timeoutMs: number): Promise<number> {
    const first = attempt();
    if (first !== WOULD_BLOCK) return first instanceof Error ? Promise.reject(first) : completedNow(first);
    if (nowait) return Promise.reject(errorFromErrno(-EAGAIN, { syscall: 'sendmsg', object: this.objectName }));
    return new Promise((resolve, reject) => {
      let delay = 1;
      let timer: NodeJS.Timeout | undefined;
      const stopWatching = watchCancellation(options, timeoutMs, (reason) => {
        clearTimeout(timer);
        reject(cancellationError(reason, options, { syscall: 'sendmsg', object: this.objectName }));
      });
      const retry = () => {
        if (this.closed) {
          stopWatching();
          reject(closedError(this.objectName, 'sendmsg'));
          return;
        }
        const result = attempt();
        if (result === WOULD_BLOCK) {
          delay = Math.min(delay * 2, 50);
          timer = setTimeout(retry, delay);
          return;
        }
        stopWatching();
        if (result instanceof Error) reject(result);
        else resolve(result);
      };
      timer = setTimeout(retry, delay);
    });
  }

  /** Resolves with the next message; with `eofAsNull`, `null` for a seqpacket EOF. */
  protected receiveMessage(options: ReceiveOptions | undefined, eofAsNull: boolean): Promise<ReceivedMessage | null> {
    try {
      const { maxBytes, nowait, timeoutMs } = checkSocketReceive(options);
      if (this.closed) throw closedError(this.objectName, 'recvmsg');
      if (options?.signal?.aborted) throw abortErrorFor(options.signal);
      const attempt: Attempt<ReceivedMessage | null> = () => {
        const result = receiveOnce(this.fd, maxBytes, true, this.objectName);
        if (result === WOULD_BLOCK || result instanceof Error) return result;
        if (eofAsNull && result.eof) return null;
        // Only a datagram's sender is news; a seqpacket peer is always the connected one.
        if (this.type === 'seqpacket') {
          const { from: _from, ...message } = strip(result);
          return message;
        }
        return strip(result);
      };
      return this.perform('read', attempt, options, nowait, timeoutMs, 'recvmsg');
    } catch (error) {
      return Promise.reject(error);
    }
  }
}

/** A Unix seqpacket socket (connected). */
export class NativeUnixSeqpacketSocket extends NativeUnixMessageEndpoint implements MessageSocket {
  constructor(fd: number) {
    super(fd, 'seqpacket');
  }

  override send(data: Uint8Array | string, options?: SocketSendOptions): Promise<number> {
    return super.send(data, options);
  }

  receive(options?: ReceiveOptions): Promise<ReceivedMessage | null> {
    return this.receiveMessage(options, true);
  }

  peerCredentials(): Credentials {
    return credentialsOf(this.fd, this.closed, this.objectName);
  }

  async end(): Promise<void> {
    if (this.closed) throw closedError(this.objectName, 'shutdown');
    const result = addon.shutdown(this.fd, 1);
    if (result < 0) throw errorFromErrno(result, { syscall: 'shutdown', object: this.objectName });
  }
}

/** A Unix datagram socket. Closing one bound to a path removes its socket file. */
export class NativeUnixDatagramSocket extends NativeUnixMessageEndpoint implements DatagramSocket {
  constructor(
    fd: number,
    private readonly owned?: OwnedPath,
  ) {
    super(fd, 'datagram');
  }

  receive(options?: ReceiveOptions): Promise<ReceivedMessage> {
    return this.receiveMessage(options, false) as Promise<ReceivedMessage>;
  }

  protected override afterClose(): void {
    removeOwnedPath(this.owned);
  }

  protected override transferData(): unknown {
    return undefined;
  }
}

/** The socket file a server created, identified so that close() never removes someone else's. */
interface OwnedPath {
  readonly path: string;
  readonly dev: number;
  readonly ino: number;
}

function ownPath(address: UnixAddress): OwnedPath | undefined {
  if (typeof address !== 'string') return undefined;
  const stat = statSync(address);
  recordPath('unix-socket', address);
  return { path: address, dev: stat.dev, ino: stat.ino };
}

// Removes the socket file only if it is still the one we bound (not replaced by another server).
function removeOwnedPath(owned: OwnedPath | undefined): void {
  if (owned === undefined) return;
  try {
    const stat = lstatSync(owned.path);
    if (stat.isSocket() && stat.dev === owned.dev && stat.ino === owned.ino) {
      unlinkSync(owned.path);
      recordRemoved('unix-socket', owned.path);
    }
  } catch {
    // Already gone: nothing to remove.
  }
}

/** A listening Unix socket. */
export class NativeUnixServer<S> extends DescriptorObject implements SocketServer<S>, WaitOwner {
  readonly address: SocketAddress;
  /** Accepts in flight on waiter threads (closing the server cancels them). */
  readonly pendingWaits = new Set<PendingWait>();
  private readonly accepting = new Set<Promise<unknown>>();
  private closing: Promise<void> | undefined;

  constructor(
    fd: number,
    private readonly type: 'stream' | 'seqpacket',
    private readonly owned?: OwnedPath,
  ) {
    super(fd, `unix ${type} server`, `unix-${type}-socket`, 'none');
    this.address = native.socketName(fd, false) ?? '';
  }

  accept(options?: WaitOptions): Promise<S> {
    try {
      checkSocketWait(options);
      if (this.closed) throw closedError(this.objectName, 'accept4');
      if (options?.signal?.aborted) throw abortErrorFor(options.signal);
      // accept4 runs on a waiter thread (socket.cc, AcceptWait): the listening description may
      // be shared, and no per-call flag makes accept non-blocking.
      const fd = this.fd;
      const accepting = blockingWait<number>((callback) => native.socketAcceptWait(fd, callback), options, { syscall: 'accept4', object: this.objectName }, this);
      this.accepting.add(accepting);
      const forget = () => this.accepting.delete(accepting);
      accepting.then(forget, forget);
      return accepting.then((accepted) => (this.type === 'stream' ? new NativeUnixStreamSocket(accepted) : new NativeUnixSeqpacketSocket(accepted)) as S);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<S> {
    return iterateServer(this);
  }

  /**
   * Cancels the accepts in flight and closes the descriptor once their threads have let go of the
   * listening socket: when this resolves, nobody can connect any more.
   */
  /** True once close() has been called (the descriptor itself goes once pending accepts let go). */
  override get closed(): boolean {
    return super.closed || this.closing !== undefined;
  }

  override close(): Promise<void> {
    if (this.handle < 0) return Promise.resolve();
    if (this.closing === undefined) {
      const accepting = [...this.accepting];
      for (const pending of [...this.pendingWaits]) pending.cancel('close');
      this.closing = Promise.allSettled(accepting).then(() => super.close());
    }
    return this.closing;
  }

  protected override afterClose(): void {
    removeOwnedPath(this.owned);
  }
}

/** True if `path` is a socket file that nobody listens on (its server died without removing it). */
function isStaleSocketPath(path: string): boolean {
  try {
    if (!lstatSync(path).isSocket()) return false;
  } catch {
    return false;
  }
  const probe = native.socketOpen(SOCKET_TYPE.stream, true);
  try {
    return native.socketConnect(probe, path, ADDRESS_MODE.path) === -ECONNREFUSED;
  } finally {
    native.close(probe);
  }
}

function wrapConnected(fd: number, type: UnixSocketType): StreamSocket | MessageSocket | DatagramSocket {
  if (type === 'stream') return new NativeUnixStreamSocket(fd);
  if (type === 'seqpacket') return new NativeUnixSeqpacketSocket(fd);
  return new NativeUnixDatagramSocket(fd);
}

/** The native {@link UnixSockets} factory. */
export class NativeUnixSockets implements UnixSockets {
  listen(address: UnixAddress, options?: UnixListenOptions & { readonly type?: 'stream' }): Promise<SocketServer<StreamSocket>>;
  listen(address: UnixAddress, options: UnixListenOptions & { readonly type: 'seqpacket' }): Promise<SocketServer<MessageSocket>>;
  async listen(address: UnixAddress, options?: UnixListenOptions): Promise<SocketServer<StreamSocket> | SocketServer<MessageSocket>> {
    const { address: checked, type, backlog, replaceStale, mode: permissions } = checkUnixSocketListen(address, options);
    const [name, mode] = addressArgs(checked);
    const path = pathOf(checked);
    const fd = native.socketOpen(SOCKET_TYPE[type], false);
    try {
      let result = native.socketBind(fd, name, mode, permissions);
      if (result === -EADDRINUSE && replaceStale && path !== undefined && isStaleSocketPath(path)) {
        unlinkSync(path);
        result = native.socketBind(fd, name, mode, permissions);
      }
      if (result < 0) throw errorFromErrno(result, { syscall: 'bind', path, object: `unix ${type} server ${describeAddress(checked)}` });
      result = native.socketListen(fd, backlog);
      if (result < 0) throw errorFromErrno(result, { syscall: 'listen', path });
    } catch (error) {
      native.close(fd);
      throw error;
    }
    return new NativeUnixServer(fd, type, ownPath(checked));
  }

  connect(address: UnixAddress, options?: UnixConnectOptions & { readonly type?: 'stream' }): Promise<StreamSocket>;
  connect(address: UnixAddress, options: UnixConnectOptions & { readonly type: 'seqpacket' }): Promise<MessageSocket>;
  connect(address: UnixAddress, options: UnixConnectOptions & { readonly type: 'datagram' }): Promise<DatagramSocket>;
  async connect(address: UnixAddress, options?: UnixConnectOptions): Promise<StreamSocket | MessageSocket | DatagramSocket> {
    const { address: checked, type, timeoutMs } = checkUnixSocketConnect(address, options);
    if (options?.signal?.aborted) throw abortErrorFor(options.signal);
    const [name, mode] = addressArgs(checked);
    const details = { syscall: 'connect', path: pathOf(checked), object: `unix ${type} socket to ${describeAddress(checked)}` };
    // Fast path: AF_UNIX connects at once, or says EAGAIN when the server's backlog is full
    // (never EINPROGRESS). Only then does a waiter thread make a blocking connect. The new socket
    // is ours alone until connected, so its O_NONBLOCK is too (socketConnect clears it after).
    const fd = native.socketOpen(SOCKET_TYPE[type], true);
    const result = native.socketConnect(fd, name, mode);
    if (result === 0) return wrapConnected(fd, type);
    native.close(fd);
    if (result !== -EAGAIN || timeoutMs === 0) throw errorFromErrno(result, details);
    const connected = await blockingWait<number>((callback) => native.socketConnectWait(SOCKET_TYPE[type], name, mode, callback), options, details);
    return wrapConnected(connected, type);
  }

  async bind(address?: UnixAddress, options?: UnixBindOptions): Promise<DatagramSocket> {
    const { address: checked, autobind, mode: permissions } = checkUnixSocketBind(address, options);
    const fd = native.socketOpen(SOCKET_TYPE.datagram, false);
    if (checked === undefined && !autobind) return new NativeUnixDatagramSocket(fd);
    const [name, mode] = checked !== undefined ? addressArgs(checked) : [null, ADDRESS_MODE.autobind];
    const result = native.socketBind(fd, name, mode, permissions);
    if (result < 0) {
      native.close(fd);
      throw errorFromErrno(result, { syscall: 'bind', path: checked === undefined ? undefined : pathOf(checked) });
    }
    return new NativeUnixDatagramSocket(fd, checked === undefined ? undefined : ownPath(checked));
  }

  pair(type?: 'stream'): Promise<[StreamSocket, StreamSocket]>;
  pair(type: 'seqpacket'): Promise<[MessageSocket, MessageSocket]>;
  pair(type: 'datagram'): Promise<[DatagramSocket, DatagramSocket]>;
  async pair(type?: UnixSocketType): Promise<[StreamSocket, StreamSocket] | [MessageSocket, MessageSocket] | [DatagramSocket, DatagramSocket]> {
    const checked = checkUnixSocketPair(type);
    const [a, b] = native.socketpair(SOCKET_TYPE[checked]);
    return [wrapConnected(a, checked), wrapConnected(b, checked)] as [StreamSocket, StreamSocket];
  }
}

// A descriptor that arrives (spawn args or SCM_RIGHTS) may be a listening socket: revive a server.
registerReviver('unix-stream-socket', (record) => {
  const fd = record.handles![0]!;
  return native.socketListening(fd) ? new NativeUnixServer<StreamSocket>(fd, 'stream') : new NativeUnixStreamSocket(fd);
});
registerReviver('unix-seqpacket-socket', (record) => {
  const fd = record.handles![0]!;
  return native.socketListening(fd) ? new NativeUnixServer<MessageSocket>(fd, 'seqpacket') : new NativeUnixSeqpacketSocket(fd);
});
registerReviver('unix-datagram-socket', (record) => new NativeUnixDatagramSocket(record.handles![0]!));

// ---------------------------------------------------------------------------------------------
// TCP and UDP over Node's net and dgram.

/** An IpcError from a Node error: its errno code where it has one. */
function fromNodeError(error: unknown, syscall: string, object: string): Error {
  if (error instanceof IpcError) return error;
  const nodeError = error as NodeJS.ErrnoException;
  let code = typeof nodeError?.code === 'string' ? nodeError.code : 'EIO';
  // Writing after end() is EPIPE in the kernel's terms; Node names it differently.
  if (code === 'ERR_STREAM_WRITE_AFTER_END') code = 'EPIPE';
  else if (code === 'ERR_STREAM_DESTROYED') code = 'EBADF';
  else if (!/^E[A-Z0-9]+$/.test(code)) code = 'EIO';
  return new IpcError(code as IpcError['code'], { syscall: nodeError?.syscall ?? syscall, object });
}

function noTransfer(options: SocketSendOptions | undefined): void {
  if (checkSocketTransfer(options).length > 0) throw new TypeError('network sockets cannot carry ipcx objects (options.transfer)');
}

interface PendingNetworkRead<T> {
  take(): T | typeof WOULD_BLOCK | Error;
  resolve(value: T): void;
  reject(error: Error): void;
  stopWatching(): void;
}

// Above this many buffered bytes a TCP socket stops reading, so the kernel's flow control works.
const TCP_HIGH_WATER = 1 << 20;

/** A connected TCP socket over `net.Socket`, with the {@link StreamSocket} interface. */
export class NetworkStreamSocket implements StreamSocket, TrackedObject {
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  private failure: Error | undefined;
  private isClosed = false;
  private readonly reads: PendingNetworkRead<unknown>[] = [];
  private readonly objectName: string;

  constructor(private readonly socket: net.Socket) {
    this.objectName = `tcp socket ${socket.remoteAddress}:${socket.remotePort}`;
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      if (this.buffered >= TCP_HIGH_WATER) socket.pause();
      this.serve();
    });
    socket.on('end', () => {
      this.ended = true;
      this.serve();
    });
    socket.on('error', (error) => {
      this.failure ??= fromNodeError(error, 'read', this.objectName);
      this.serve();
    });
    socket.resume();
    track(this, { fds: [], polls: [] });
  }

  get closed(): boolean {
    return this.isClosed;
  }

  get localAddress(): SocketAddress | undefined {
    return this.isClosed || this.socket.localPort === undefined ? undefined : { host: this.socket.localAddress!, port: this.socket.localPort };
  }

  get remoteAddress(): SocketAddress | undefined {
    return this.isClosed || this.socket.remotePort === undefined ? undefined : { host: this.socket.remoteAddress!, port: this.socket.remotePort };
  }

  [transferSymbol](): never {
    throw new TypeError(`${this.objectName} cannot be transferred: only Unix sockets travel to other processes`);
  }

  describe(): string {
    return this.objectName;
  }

  peerCredentials(): Credentials {
    if (this.isClosed) throw closedError(this.objectName, 'getsockopt');
    throw new IpcError('ENOPROTOOPT', { syscall: 'getsockopt', object: this.objectName, message: 'ENOPROTOOPT: TCP sockets have no peer credentials' });
  }

  read(options?: ReadOptions): Promise<Uint8Array | null> {
    try {
      const { maxBytes, nowait, timeoutMs } = checkSocketReceive(options);
      if (this.isClosed) throw closedError(this.objectName, 'read');
      if (options?.signal?.aborted) throw abortErrorFor(options.signal);
      return this.queueRead(() => this.take(maxBytes), options, nowait, timeoutMs, 'read');
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** See {@link ByteReader.readInto}: Node delivers TCP data in its own buffers, so this copies. */
  async readInto(buffer: Uint8Array, options?: NowaitOptions): Promise<number> {
    if (!(buffer instanceof Uint8Array)) throw new TypeError('buffer must be a Uint8Array');
    if (buffer.length === 0) throw new RangeError('buffer must not be empty');
    const data = await this.read({ ...options, maxBytes: buffer.length });
    if (data === null) return 0;
    buffer.set(data);
    return data.length;
  }

  async receive(options?: ReceiveOptions): Promise<ReceivedMessage | null> {
    const data = await this.read(options);
    return data === null ? null : { data, truncated: false, objects: [] };
  }

  write(data: Uint8Array | string, options?: WriteOptions): Promise<number> {
    try {
      const bytes = checkBytes('data', data);
      const nowait = checkOptionalBoolean('options.nowait', options?.nowait);
      const timeoutMs = checkWaitOptions(options);
      if (this.isClosed) throw closedError(this.objectName, 'write');
      if (options?.signal?.aborted) throw abortErrorFor(options.signal);
      if (nowait && this.socket.writableNeedDrain) throw new IpcError('EAGAIN', { syscall: 'write', object: this.objectName });
      return new Promise((resolve, reject) => {
        // Node queues the bytes at once; cancelling stops the wait for the flush, not the bytes.
        const stopWatching = watchCancellation(options, timeoutMs, (reason) => reject(cancellationError(reason, options, { syscall: 'write', object: this.objectName })));
        this.socket.write(bytes, (error) => {
          stopWatching();
          if (error) reject(this.isClosed ? closedError(this.objectName, 'write') : fromNodeError(error, 'write', this.objectName));
          else resolve(bytes.length);
        });
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  send(data: Uint8Array | string, options?: SocketSendOptions): Promise<number> {
    try {
      noTransfer(options);
      return this.write(data, options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  end(): Promise<void> {
    if (this.isClosed) return Promise.reject(closedError(this.objectName, 'shutdown'));
    return new Promise((resolve) => this.socket.end(() => resolve()));
  }

  close(): Promise<void> {
    if (this.isClosed) return Promise.resolve();
    this.isClosed = true;
    for (const pending of this.reads.splice(0)) {
      pending.stopWatching();
      pending.reject(closedError(this.objectName, 'read'));
    }
    this.socket.destroy();
    untrack(this);
    return Promise.resolve();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return iterateReader(this, undefined, true);
  }

  /** See `ByteReader.iterator` in `@ipcx/core`. */
  iterator(options?: IteratorOptions): AsyncIterableIterator<Uint8Array> {
    return iterateReader(this, options, true);
  }

  readableStream(): ReadableStream<Uint8Array> {
    return readerToWebStream(this);
  }

  writableStream(): WritableStream<Uint8Array> {
    return writerToWebStream(this);
  }

  private take(maxBytes: number): Uint8Array | null | typeof WOULD_BLOCK | Error {
    if (this.buffered > 0) {
      const parts: Buffer[] = [];
      let size = 0;
      while (size < maxBytes && this.chunks.length > 0) {
        const chunk = this.chunks[0]!;
        const part = chunk.length <= maxBytes - size ? chunk : chunk.subarray(0, maxBytes - size);
        if (part === chunk) this.chunks.shift();
        else this.chunks[0] = chunk.subarray(part.length);
        parts.push(part);
        size += part.length;
      }
      this.buffered -= size;
      if (this.buffered < TCP_HIGH_WATER && this.socket.isPaused() && !this.isClosed) this.socket.resume();
      return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    }
    if (this.failure !== undefined) return this.failure;
    if (this.ended) return null;
    return WOULD_BLOCK;
  }

  private queueRead<T>(take: () => T | typeof WOULD_BLOCK | Error, options: WaitOptions | undefined, nowait: boolean, timeoutMs: number, syscall: string): Promise<T> {
    if (this.reads.length === 0) {
      const result = take();
      if (result !== WOULD_BLOCK) return result instanceof Error ? Promise.reject(result) : completedNow(result);
    }
    if (nowait) return Promise.reject(new IpcError('EAGAIN', { syscall, object: this.objectName }));
    return new Promise<T>((resolve, reject) => {
      const pending: PendingNetworkRead<T> = { take, resolve, reject, stopWatching: () => {} };
      pending.stopWatching = watchCancellation(options, timeoutMs, (reason) => {
        this.reads.splice(this.reads.indexOf(pending as PendingNetworkRead<unknown>), 1);
        reject(cancellationError(reason, options, { syscall, object: this.objectName }));
      });
      this.reads.push(pending as PendingNetworkRead<unknown>);
    });
  }

  private serve(): void {
    while (this.reads.length > 0) {
      const pending = this.reads[0]!;
      const result = pending.take();
      if (result === WOULD_BLOCK) return;
      this.reads.shift();
      pending.stopWatching();
      if (result instanceof Error) pending.reject(result);
      else pending.resolve(result);
    }
  }
}

/** A listening TCP socket over `net.Server`. */
export class NetworkServer implements SocketServer<StreamSocket>, TrackedObject {
  readonly address: NetworkAddress;
  private readonly incoming: net.Socket[] = [];
  private readonly waiters: PendingNetworkRead<StreamSocket>[] = [];
  private isClosed = false;
  private readonly objectName: string;

  constructor(private readonly server: net.Server) {
    const bound = server.address() as net.AddressInfo;
    this.address = { host: bound.address, port: bound.port };
    this.objectName = `tcp server ${bound.address}:${bound.port}`;
    server.on('connection', (socket) => {
      this.incoming.push(socket);
      this.serve();
    });
    track(this, { fds: [], polls: [] });
  }

  get closed(): boolean {
    return this.isClosed;
  }

  [transferSymbol](): never {
    throw new TypeError(`${this.objectName} cannot be transferred: only Unix sockets travel to other processes`);
  }

  describe(): string {
    return this.objectName;
  }

  accept(options?: WaitOptions): Promise<StreamSocket> {
    try {
      const timeoutMs = checkSocketWait(options);
      if (this.isClosed) throw closedError(this.objectName, 'accept');
      if (options?.signal?.aborted) throw abortErrorFor(options.signal);
      const socket = this.incoming.shift();
      if (socket !== undefined && this.waiters.length === 0) return completedNow(new NetworkStreamSocket(socket));
      if (socket !== undefined) this.incoming.unshift(socket);
      return new Promise((resolve, reject) => {
        const pending: PendingNetworkRead<StreamSocket> = { take: () => WOULD_BLOCK, resolve, reject, stopWatching: () => {} };
        pending.stopWatching = watchCancellation(options, timeoutMs, (reason) => {
          this.waiters.splice(this.waiters.indexOf(pending), 1);
          reject(cancellationError(reason, options, { syscall: 'accept', object: this.objectName }));
        });
        this.waiters.push(pending);
        this.serve();
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<StreamSocket> {
    return iterateServer(this);
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const pending of this.waiters.splice(0)) {
      pending.stopWatching();
      pending.reject(closedError(this.objectName, 'accept'));
    }
    for (const socket of this.incoming.splice(0)) socket.destroy();
    untrack(this);
    // Stops listening at once. Not awaiting the callback: Node calls it only once every accepted
    // connection has ended, whereas a kernel listener's close leaves accepted sockets alone.
    this.server.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private serve(): void {
    while (this.waiters.length > 0 && this.incoming.length > 0) {
      const pending = this.waiters.shift()!;
      pending.stopWatching();
      pending.resolve(new NetworkStreamSocket(this.incoming.shift()!));
    }
  }
}

// Datagrams a UDP socket keeps for receive() at most; later ones are dropped, as a full kernel
// receive buffer drops them.
const UDP_QUEUE_LIMIT = 4096;

/** A UDP socket over `dgram.Socket`, with the {@link DatagramSocket} interface. */
export class NetworkDatagramSocket implements DatagramSocket, TrackedObject {
  private readonly messages: { data: Buffer; from: NetworkAddress }[] = [];
  private readonly waiters: PendingNetworkRead<ReceivedMessage>[] = [];
  private isClosed = false;
  private readonly objectName: string;
  private readonly bound: NetworkAddress;

  constructor(private readonly socket: dgram.Socket) {
    const info = socket.address();
    this.bound = { host: info.address, port: info.port };
    this.objectName = `udp socket ${info.address}:${info.port}`;
    socket.on('message', (data, remote) => {
      if (this.messages.length >= UDP_QUEUE_LIMIT) return;
      this.messages.push({ data, from: { host: remote.address, port: remote.port } });
      this.serve();
    });
    // An ICMP error or the like: UDP reports it on a later call; nothing to keep here.
    socket.on('error', () => {});
    track(this, { fds: [], polls: [] });
  }

  get closed(): boolean {
    return this.isClosed;
  }

  get localAddress(): SocketAddress | undefined {
    return this.isClosed ? undefined : this.bound;
  }

  get remoteAddress(): SocketAddress | undefined {
    return undefined;
  }

  [transferSymbol](): never {
    throw new TypeError(`${this.objectName} cannot be transferred: only Unix sockets travel to other processes`);
  }

  describe(): string {
    return this.objectName;
  }

  send(data: Uint8Array | string, options?: DatagramSendOptions): Promise<number> {
    try {
      const bytes = checkBytes('data', data);
      noTransfer(options);
      checkOptionalBoolean('options.nowait', options?.nowait);
      checkWaitOptions(options);
      const to = options?.to === undefined ? undefined : checkNetworkAddress('options.to', options.to, 1);
      if (this.isClosed) throw closedError(this.objectName, 'sendto');
      if (options?.signal?.aborted) throw abortErrorFor(options.signal);
      if (to === undefined) throw new IpcError('EDESTADDRREQ', { syscall: 'sendto', object: this.objectName });
      return new Promise((resolve, reject) => {
        this.socket.send(bytes, to.port, to.host, (error) => {
          if (error) reject(fromNodeError(error, 'sendto', this.objectName));
          else resolve(bytes.length);
        });
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  receive(options?: ReceiveOptions): Promise<ReceivedMessage> {
    try {
      const { maxBytes, nowait, timeoutMs } = checkSocketReceive(options);
      if (this.isClosed) throw closedError(this.objectName, 'recvmsg');
      if (options?.signal?.aborted) throw abortErrorFor(options.signal);
      const take = (): ReceivedMessage | typeof WOULD_BLOCK => {
        const message = this.messages.shift();
        if (message === undefined) return WOULD_BLOCK;
        const truncated = message.data.length > maxBytes;
        return { data: truncated ? message.data.subarray(0, maxBytes) : message.data, truncated, from: message.from, objects: [] };
      };
      if (this.waiters.length === 0) {
        const result = take();
        if (result !== WOULD_BLOCK) return completedNow(result);
      }
      if (nowait) throw new IpcError('EAGAIN', { syscall: 'recvmsg', object: this.objectName });
      return new Promise((resolve, reject) => {
        const pending: PendingNetworkRead<ReceivedMessage> = { take, resolve, reject, stopWatching: () => {} };
        pending.stopWatching = watchCancellation(options, timeoutMs, (reason) => {
          this.waiters.splice(this.waiters.indexOf(pending), 1);
          reject(cancellationError(reason, options, { syscall: 'recvmsg', object: this.objectName }));
        });
        this.waiters.push(pending);
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const pending of this.waiters.splice(0)) {
      pending.stopWatching();
      pending.reject(closedError(this.objectName, 'recvmsg'));
    }
    untrack(this);
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private serve(): void {
    while (this.waiters.length > 0 && this.messages.length > 0) {
      const pending = this.waiters.shift()!;
      const result = pending.take();
      pending.stopWatching();
      if (result !== WOULD_BLOCK && !(result instanceof Error)) pending.resolve(result);
    }
  }
}

/** Settles when `emitter` emits `event`, or rejects with its 'error' as an IpcError. */
function once(emitter: net.Server | dgram.Socket, event: string, syscall: string, object: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      emitter.off(event, onEvent);
      reject(fromNodeError(error, syscall, object));
    };
    const onEvent = () => {
      emitter.off('error', onError);
      resolve();
    };
    emitter.once(event, onEvent);
    emitter.once('error', onError);
  });
}

/** The native {@link NetworkSockets} factory (Node's `net` and `dgram`). */
export class NativeNetworkSockets implements NetworkSockets {
  async listen(address: NetworkAddress, options?: NetworkListenOptions): Promise<SocketServer<StreamSocket>> {
    const { host, port, backlog } = checkNetworkSocketListen(address, options);
    // pauseOnConnect: bytes stay in the kernel until accept() wraps the connection.
    const server = net.createServer({ pauseOnConnect: true });
    const listening = once(server, 'listening', 'listen', `tcp server ${host}:${port}`);
    server.listen({ host, port, backlog, exclusive: true });
    await listening;
    return new NetworkServer(server);
  }

  async connect(address: NetworkAddress, options?: WaitOptions): Promise<StreamSocket> {
    const { address: { host, port }, timeoutMs } = checkNetworkSocketConnect(address, options);
    if (options?.signal?.aborted) throw abortErrorFor(options.signal);
    const object = `tcp socket to ${host}:${port}`;
    const socket = net.connect({ host, port });
    await new Promise<void>((resolve, reject) => {
      const stopWatching = watchCancellation(options, timeoutMs, (reason) => {
        socket.destroy();
        reject(cancellationError(reason, options, { syscall: 'connect', object }));
      });
      socket.once('connect', () => {
        stopWatching();
        resolve();
      });
      socket.once('error', (error) => {
        stopWatching();
        reject(fromNodeError(error, 'connect', object));
      });
    });
    socket.removeAllListeners('error');
    return new NetworkStreamSocket(socket);
  }

  async bind(address: NetworkAddress): Promise<DatagramSocket> {
    const { host, port } = checkNetworkAddress('address', address);
    const socket = dgram.createSocket({ type: net.isIPv6(host) ? 'udp6' : 'udp4' });
    const listening = once(socket, 'listening', 'bind', `udp socket ${host}:${port}`);
    socket.bind({ address: host, port, exclusive: true });
    try {
      await listening;
    } catch (error) {
      socket.close();
      throw error;
    }
    return new NetworkDatagramSocket(socket);
  }
}

/** Unix sockets: this file's part of the native backend (backend.ts lists it). */
export const unixSocketSlice = backendSlice('unixSockets', ['unix-socket'], () => new NativeUnixSockets());

/** TCP and UDP sockets: this file's part of the native backend (backend.ts lists it). */
export const networkSocketSlice = backendSlice('networkSockets', ['network-socket'], () => new NativeNetworkSockets());
