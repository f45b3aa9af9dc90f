/**
 * TCP and UDP sockets over Node's `net` and `dgram`, behind the same interfaces as Unix sockets
 * (unix-socket.ts): nothing here goes through the addon, and no ipcx object can travel over them.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import {
  completedNow,
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
  type WaitOptions,
  type WriteOptions,
} from '@ipcx/core';
import {
  checkNetworkAddress,
  checkNetworkSocketConnect,
  checkNetworkSocketListen,
  checkOptionalBoolean,
  checkSocketReceive,
  checkSocketWait,
  checkSocketTransfer,
  checkWaitOptions,
  iterateServer,
  checkBytes,
  backendSlice,
} from '@ipcx/core/backend';
import { WOULD_BLOCK } from './descriptor-stream.js';
import { track, untrack, type TrackedObject } from './registry.js';
import { cancellationError, watchCancellation } from './wait.js';

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

/** TCP and UDP sockets: this file's part of the native backend (backend.ts lists it). */
export const networkSocketSlice = backendSlice('networkSockets', ['network-socket'], () => new NativeNetworkSockets());
