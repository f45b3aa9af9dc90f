/**
 * Unix domain sockets (stream, seqpacket, datagram; paths, the abstract namespace, socketpair) over
 * real descriptors (socket.cc) driven by the shared descriptor engine: fast non-blocking call
 * first, uv_poll only on EAGAIN, no thread per operation. Descriptors and ipcx objects travel over
 * them with SCM_RIGHTS. TCP and UDP are network-socket.ts.
 */
import { lstatSync, openSync, statSync, unlinkSync } from 'node:fs';
import {
  Errno,
  completedNow,
  abortErrorFor,
  closedError,
  transferSymbol,
  type Credentials,
  type DatagramSendOptions,
  type DatagramSocket,
  type MessageSocket,
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
} from '@ipcx/core';
import {
  descriptorNumberOf,
  checkMessageSocketSend,
  checkSocketReceive,
  checkSocketWait,
  checkStreamSocketSend,
  checkUnixSocketBind,
  checkUnixSocketConnect,
  checkUnixSocketListen,
  checkUnixSocketPair,
  iterateServer,
  backendSlice,
} from '@ipcx/core/backend';
import { addon, errorFromErrno, type WaitCallback } from './addon.js';
import { DescriptorObject, DescriptorStream, READ_CHUNK_BYTES, WOULD_BLOCK, copyOut, readScratch, readSized, type Attempt } from './descriptor-stream.js';
import { recordPath, recordRemoved } from './ledger.js';
import { reviveReceived, registerReviver } from './revive.js';
import { blockingWait, bufferGoneError, cancellationError, watchCancellation, type PendingWait, type WaitOwner } from './wait.js';

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
  /** The length of the next message (datagram, seqpacket) without receiving it, or -errno (-EAGAIN: none). */
  socketNextLength(fd: number): number;
  socketPeerCredentials(fd: number): [number, number, number];
  socketName(fd: number, peer: boolean): UnixAddress | undefined;
  socketListening(fd: number): boolean;
}

const native = addon as unknown as SocketAddon;

const { EAGAIN, EADDRINUSE, ECONNREFUSED, ENOMEM } = Errno;
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

/** One received message or stream chunk, before the caller's view of it (see receiveOnce). */
type Received = (ReceivedMessage & { eof: boolean }) | Error | typeof WOULD_BLOCK;

/**
 * One non-blocking recvmsg: the message (copied out), WOULD_BLOCK, or the error. Buffers are sized
 * by what the kernel delivers, never by `maxBytes` alone (a caller's 2**30 used to grow a shared
 * scratch to 1 GiB for the life of the process): a stream reads like a pipe (readSized), a message
 * socket by the length of the message it is about to receive.
 */
function receiveOnce(fd: number, maxBytes: number, message: boolean, objectName: string): Received {
  return message ? receiveMessageOnce(fd, maxBytes, objectName) : receiveStreamOnce(fd, maxBytes, objectName);
}

// The stream receive in progress (receiveStreamOnce): module state rather than closures, so that
// a receive that spins allocates nothing per attempt. A receive runs to its end synchronously.
let streamFd = -1;
let streamFds: number[] | undefined;

function streamRead(buffer: Uint8Array, offset: number, length: number): number {
  const result = native.socketReceive(streamFd, buffer, offset, length, false);
  if (typeof result === 'number') return result;
  if (result.fds !== undefined) streamFds = result.fds;
  return result.bytes;
}

function streamNoFdsYet(): boolean {
  return streamFds === undefined;
}

/**
 * A stream socket: bytes up to maxBytes as readSized reads them, each call a recvmsg. The kernel
 * ends a recvmsg after the bytes that carried descriptors, so the read goes on only while none came
 * (as one large recvmsg would have stopped there too).
 */
function receiveStreamOnce(fd: number, maxBytes: number, objectName: string): Received {
  streamFd = fd;
  streamFds = undefined;
  const data = readSized(streamRead, maxBytes, streamNoFdsYet);
  const fds = streamFds;
  streamFd = -1;
  streamFds = undefined;
  if (typeof data === 'number' && data < 0) return data === -EAGAIN ? WOULD_BLOCK : errorFromErrno(data, { syscall: 'recvmsg', object: objectName });
  const bytes = typeof data === 'number' ? new Uint8Array(0) : data;
  const objects = (fds ?? []).map(reviveReceived);
  return { data: bytes, truncated: false, objects, eof: bytes.length === 0 && objects.length === 0 };
}

/**
 * A datagram or seqpacket socket: a message is received whole or cut at maxBytes, so its buffer
 * must hold min(its length, maxBytes). Up to READ_CHUNK_BYTES that is the scratch buffer, received
 * into at once (the default maxBytes: the common case costs one call). Beyond, the next message's
 * length is asked first (recv with MSG_PEEK | MSG_TRUNC) and the buffer made for it, at least
 * READ_CHUNK_BYTES; a buffer that cannot be had is ENOMEM and the message stays queued. Only a
 * message that another reader of the same socket takes between the two calls can let a longer one
 * be cut shorter than maxBytes (and only if it is longer than READ_CHUNK_BYTES too).
 */
function receiveMessageOnce(fd: number, maxBytes: number, objectName: string): Received {
  let length = Math.min(maxBytes, READ_CHUNK_BYTES);
  let own: Buffer | undefined;
  if (maxBytes > READ_CHUNK_BYTES) {
    const next = native.socketNextLength(fd);
    if (next === -EAGAIN) return WOULD_BLOCK;
    // Any other failure is the receive's to report (a pending socket error, say).
    if (next > READ_CHUNK_BYTES) {
      length = Math.min(maxBytes, next);
      try {
        own = Buffer.allocUnsafe(length);
      } catch {
        return errorFromErrno(-ENOMEM, { syscall: 'recvmsg', object: objectName });
      }
    }
  }
  const buffer = own ?? readScratch();
  if (buffer === undefined) return errorFromErrno(-ENOMEM, { syscall: 'recvmsg', object: objectName });
  const result = native.socketReceive(fd, buffer, 0, length, true);
  if (typeof result === 'number') return result === -EAGAIN ? WOULD_BLOCK : errorFromErrno(result, { syscall: 'recvmsg', object: objectName });
  // A buffer made for this message is the caller's as it is; the scratch is copied out of.
  const data = own !== undefined && result.bytes === own.length ? own : copyOut(buffer, result.bytes);
  const objects = (result.fds ?? []).map(reviveReceived);
  return {
    data,
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
      // A send queued behind others must not send what the caller's view has left once its buffer
      // was detached (an empty message), see bufferGoneError.
      const length = bytes.length;
      const attempt: Attempt<number> = () => {
        const gone = bufferGoneError('data', bytes, length, 'send', 'nothing was sent');
        if (gone !== undefined) return gone;
        const n = native.socketSend(this.fd, bytes, 0, length, fds, name, mode);
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

/** Unix sockets: this file's part of the native backend (backend.ts lists it). */
export const unixSocketSlice = backendSlice('unixSockets', ['unix-socket'], () => new NativeUnixSockets());
