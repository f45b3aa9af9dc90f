/**
 * Unix domain sockets over the emulated kernel (assembly/socket.ts): stream sockets are byte rings
 * driven by the shared stream engine, datagram and seqpacket sockets exchange whole messages,
 * listeners queue connections, paths are socket files in the kernel's namespace (no file system
 * is touched) and abstract names live there too. Peer credentials are the emulated pid (a worker's
 * thread id) and uid/gid of the owner on the other side. Passing objects (`send({ transfer })`)
 * carries their handles in the kernel, in flight with the message, to the receiving worker.
 *
 * Network sockets (TCP/UDP) are not emulated: see {@link WorkerNetworkSockets}.
 */
import {
  completedNow,
  Errno,
  IpcError,
  abortErrorFor,
  closedError,
  isTransferable,
  transferSymbol,
  type Credentials,
  type DatagramSendOptions,
  type DatagramSocket,
  type MessageSocket,
  type NetworkAddress,
  type NetworkListenOptions,
  type NetworkSockets,
  type ReceiveOptions,
  type ReceivedMessage,
  type SocketAddress,
  type SocketSendOptions,
  type SocketServer,
  type StreamSocket,
  type TransferRecord,
  type Transferable,
  type UnixAddress,
  type UnixBindOptions,
  type UnixConnectOptions,
  type UnixListenOptions,
  type UnixSocketType,
  type UnixSockets,
  type WaitOptions,
} from '@ipcx/core';
import {
  checkInteger,
  checkMessageSocketSend,
  checkNetworkAddress,
  checkNetworkSocketConnect,
  checkNetworkSocketListen,
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
import { kernelError, registerReviver, type Kernel, type KernelObject } from './kernel.js';
import { End, KernelErrno, Kind, SocketLayout as S } from './layout.js';
import { KernelStream } from './stream.js';
import { cancellationError, wakeCell, waitForChange, watchCancellation } from './wait.js';

const { EAGAIN, EINTR, ENOMEM } = KernelErrno;
const SOCKET_TYPE = { stream: S.SOCK_STREAM, datagram: S.SOCK_DGRAM, seqpacket: S.SOCK_SEQPACKET } as const;
const TYPE_NAME: Record<number, UnixSocketType> = { [S.SOCK_STREAM]: 'stream', [S.SOCK_DGRAM]: 'datagram', [S.SOCK_SEQPACKET]: 'seqpacket' };
// Where a send puts its parts in the scratch buffer: rights, the destination, then the data.
const SCRATCH_TO = 1024;
const SCRATCH_DATA = S.SOCKET_META_BYTES;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The kernel's bytes for an address: a path as is, an abstract name after a NUL (as `sun_path`). */
function encodeAddress(address: UnixAddress): Uint8Array {
  if (typeof address === 'string') return encoder.encode(address);
  const name = encoder.encode(address.abstract);
  const bytes = new Uint8Array(name.length + 1);
  bytes.set(name, 1);
  return bytes;
}

function decodeAddress(bytes: Uint8Array): UnixAddress | undefined {
  if (bytes.length === 0) return undefined;
  if (bytes[0] === 0) return { abstract: decoder.decode(bytes.subarray(1)) };
  return decoder.decode(bytes);
}

function describeAddress(address: UnixAddress): string {
  return typeof address === 'string' ? `'${address}'` : `@${address.abstract}`;
}

const pathOf = (address: UnixAddress | undefined): string | undefined => (typeof address === 'string' ? address : undefined);

/** Copies `address` to the scratch buffer at `offset`; returns its length. */
function putAddress(kernel: Kernel, address: UnixAddress, offset = 0): number {
  const bytes = encodeAddress(address);
  kernel.bytes.set(bytes, kernel.scratch + offset);
  return bytes.length;
}

/** An attempt that cannot complete now: wait on `cell` (for `busy`, at most 1 ms: the kernel was locked). */
class Blocked {
  constructor(
    readonly cell: number,
    readonly busy = false,
  ) {}
}

type Attempt<T> = () => T | Blocked | Error;

/**
 * Pending operations of one socket: each tries its kernel call, and while it cannot complete sleeps
 * on the wait cell the kernel named (its own socket's, or the receiver's for a datagram sent to a
 * full socket, or a listener's for a connect). Abort, timeout and close wake that cell.
 */
class SocketWaits {
  private readonly closers = new Set<() => void>();

  constructor(
    private readonly kernel: Kernel,
    private readonly objectName: string,
  ) {}

  run<T>(attempt: Attempt<T>, options: WaitOptions | undefined, nowait: boolean, timeoutMs: number, syscall: string, path?: string): Promise<T> {
    let first = attempt();
    for (let tries = 0; first instanceof Blocked && first.busy && tries < 4; tries++) first = attempt();
    if (!(first instanceof Blocked)) return first instanceof Error ? Promise.reject(first) : completedNow(first);
    if (nowait) return Promise.reject(kernelError(-EAGAIN, { syscall, object: this.objectName, path }));
    const { kernel } = this;
    return new Promise<T>((resolve, reject) => {
      let done = false;
      let cell = first.cell;
      const finish = () => {
        done = true;
        stopWatching();
        this.closers.delete(onClose);
      };
      const onClose = () => {
        if (done) return;
        finish();
        wakeCell(kernel, cell);
        reject(closedError(this.objectName, syscall));
      };
      const stopWatching = watchCancellation(options, timeoutMs, (reason) => {
        if (done) return;
        done = true;
        this.closers.delete(onClose);
        wakeCell(kernel, cell);
        reject(cancellationError(reason, options, { syscall, object: this.objectName, path }));
      });
      this.closers.add(onClose);
      const step = (blocked: Blocked): void => {
        if (done) return;
        cell = blocked.cell;
        // Read the cell before trying again: a change after this load ends the sleep at once.
        const seen = Atomics.load(kernel.cells, cell >>> 2);
        let result: T | Blocked | Error;
        try {
          result = attempt();
        } catch (error) {
          finish();
          reject(error);
          return;
        }
        if (result instanceof Blocked) {
          // Told to watch another cell: look again shortly rather than sleep on a value read from the old one.
          const timeout = result.busy || result.cell !== cell ? 1 : Infinity;
          void waitForChange(kernel, cell, seen, timeout).then(() => step(result as Blocked));
          return;
        }
        finish();
        if (result instanceof Error) reject(result);
        else resolve(result);
      };
      step(first);
    });
  }

  /** Rejects every pending operation with `EBADF` (the socket is closing). */
  closeAll(): void {
    for (const close of [...this.closers]) close();
  }
}

/** The handles of objects to pass; TypeError for one of another kernel or without a handle. */
function handlesOf(kernel: Kernel, objects: readonly (Transferable | number | { readonly fd: number })[]): number[] {
  const handles: number[] = [];
  for (const [index, object] of objects.entries()) {
    if (!isTransferable(object)) throw new TypeError(`options.transfer[${index}] is an OS descriptor: the worker backend has none to pass`);
    const record = object[transferSymbol]();
    if ((record.data as { kernel?: unknown } | undefined)?.kernel !== kernel.id) {
      throw new TypeError(`options.transfer[${index}] (${record.kind}) does not belong to this worker backend's kernel`);
    }
    if (record.handles === undefined || record.handles.length === 0) throw new TypeError(`options.transfer[${index}] (${record.kind}) has no handle to pass`);
    handles.push(...record.handles);
  }
  if (handles.length > S.SOCKET_MAX_RIGHTS) throw new RangeError(`options.transfer must carry at most ${S.SOCKET_MAX_RIGHTS} handles`);
  return handles;
}

/** Writes the rights to the start of the scratch buffer. */
function putRights(kernel: Kernel, handles: readonly number[]): void {
  const base = kernel.scratch >>> 2;
  for (const [i, handle] of handles.entries()) kernel.cells[base + i] = handle;
}

/** The transfer kind and data of a received handle, from what the kernel knows of its object. */
function recordOf(kernel: Kernel, handle: number): TransferRecord | undefined {
  const { calls } = kernel;
  const kind = calls.object_kind(calls.handle_object(handle));
  const end = calls.handle_end(handle);
  if (kind === Kind.KIND_PIPE) return { kind: end === End.END_READ ? 'pipe-reader' : 'pipe-writer', handles: [handle] };
  if (kind === Kind.KIND_DUPLEX) return { kind: 'duplex-pipe', handles: [handle] };
  if (kind === Kind.KIND_EVENTFD) return { kind: 'eventfd', handles: [handle] };
  if (kind === Kind.KIND_FIFO) {
    const length = kernel.call(() => calls.object_name(calls.handle_object(handle), kernel.scratch, 4095));
    const path = length > 0 ? kernel.getString(kernel.scratch, length) : '';
    return { kind: end === End.END_READ ? 'fifo-reader' : 'fifo-writer', data: { path }, handles: [handle] };
  }
  if (kind === Kind.KIND_SOCKET) {
    const info = kernel.call(() => calls.socket_info(handle));
    const type = TYPE_NAME[info & 255];
    if (type !== undefined) return { kind: `unix-${type}-socket`, handles: [handle] };
  }
  return undefined;
}

/** The ipcx objects of handles received with a message; one that cannot be revived is closed (never leaked) and given as `null`. */
function reviveRights(kernel: Kernel, handles: readonly number[]): unknown[] {
  return handles.map((handle) => {
    const record = recordOf(kernel, handle);
    try {
      if (record !== undefined) return kernel.revive(record);
    } catch {
      // Fall through: close it.
    }
    kernel.call(() => kernel.calls.handle_close(handle));
    return null;
  });
}

/** What `socket_recv` left in the scratch buffer's metadata and data area. */
function readReceived(kernel: Kernel, n: number): { data: Uint8Array; flags: number; from: UnixAddress | undefined; objects: unknown[] } {
  const { scratch, bytes, cells } = kernel;
  const base = scratch >>> 2;
  const flags = cells[base + S.META_FLAGS / 4]!;
  const fromLength = cells[base + S.META_FROM_LEN / 4]!;
  const rightsCount = cells[base + S.META_RIGHTS / 4]!;
  // A copy: browsers' TextDecoder refuses views of shared memory.
  const from = decodeAddress(bytes.slice(scratch + S.META_FROM, scratch + S.META_FROM + fromLength));
  const handles = Array.from({ length: rightsCount }, (_, i) => cells[base + S.META_RIGHTS_AT / 4 + i]!);
  const data = bytes.slice(scratch + SCRATCH_DATA, scratch + SCRATCH_DATA + n);
  return { data, flags, from, objects: reviveRights(kernel, handles) };
}

/** `getsockname` / `getpeername` of a handle (undefined once closed or unnamed). */
function addressOf(kernel: Kernel, handle: number, peer: boolean): UnixAddress | undefined {
  if (handle === 0) return undefined;
  const length = kernel.call(() => kernel.calls.socket_name(handle, peer ? 1 : 0, kernel.scratch));
  if (length <= 0) return undefined;
  return decodeAddress(kernel.bytes.slice(kernel.scratch, kernel.scratch + length));
}

/** `SO_PEERCRED` of a handle; `EBADF` once closed. */
function credentialsOf(kernel: Kernel, handle: number, objectName: string): Credentials {
  if (handle === 0) throw closedError(objectName, 'getsockopt');
  const result = kernel.call(() => kernel.calls.socket_peer_cred(handle, kernel.scratch));
  if (result < 0) throw kernelError(result, { syscall: 'getsockopt', object: objectName });
  const cell = (offset: number) => kernel.cells[(kernel.scratch + offset) >>> 2]!;
  // uid/gid are u32 in the kernel: read them unsigned.
  return { pid: cell(S.CRED_PID) >>> 0, uid: cell(S.CRED_UID) >>> 0, gid: cell(S.CRED_GID) >>> 0 };
}

/** A connected Unix stream socket: the stream engine over the socket's receive ring and its peer's. */
export class WorkerUnixStreamSocket extends KernelStream implements StreamSocket {
  private readonly waits: SocketWaits;
  private readonly ownCell: number;

  /** Wraps a socket handle of this thread (from connect, accept, pair, or received). */
  constructor(kernel: Kernel, handle: number) {
    super(kernel, handle, 'unix stream socket', 'unix-stream-socket', { read: true, write: true });
    this.waits = new SocketWaits(kernel, this.objectName);
    this.ownCell = kernel.calls.handle_wait_cell(handle);
  }

  /** The address this socket is bound to (`getsockname`): the listener's for an accepted socket; `undefined` if unnamed. */
  get localAddress(): SocketAddress | undefined {
    return addressOf(this.kernel, this.handle, false);
  }

  /** The peer's address (`getpeername`): the listener's for a client; `undefined` if the peer is unnamed. */
  get remoteAddress(): SocketAddress | undefined {
    return addressOf(this.kernel, this.handle, true);
  }

  /** The peer's emulated pid, uid and gid as of the connection (`SO_PEERCRED`). Throws `EBADF` after close. */
  peerCredentials(): Credentials {
    return credentialsOf(this.kernel, this.handle, this.objectName);
  }

  /** `shutdown(SHUT_WR)`: the peer reads EOF after what is buffered; this side can still read. `EBADF` after close. */
  async end(): Promise<void> {
    await this.shutdownWrite();
  }

  /**
   * Writes all of `data`, the objects of `options.transfer` riding on its first bytes (their
   * handles go in flight in the kernel and reach whoever `receive`s those bytes). Waits while the
   * peer's ring is full; `EPIPE` when the peer is gone, `EBADF` after close.
   */
  send(data: Uint8Array | string, options?: SocketSendOptions): Promise<number> {
    try {
      const { bytes, transfer, nowait, timeoutMs } = checkStreamSocketSend(data, options);
      if (this.closed) throw closedError(this.objectName, 'sendmsg');
      if (options?.signal?.aborted) throw abortErrorFor(options.signal);
      if (transfer.length === 0) return this.write(bytes, options);
      const handles = handlesOf(this.kernel, transfer);
      const { kernel } = this;
      const attempt: Attempt<number> = () => {
        if (this.closed) return closedError(this.objectName, 'sendmsg');
        const chunk = Math.min(bytes.length, kernel.scratchBytes - SCRATCH_DATA);
        putRights(kernel, handles);
        kernel.bytes.set(bytes.subarray(0, chunk), kernel.scratch + SCRATCH_DATA);
        const n = kernel.calls.socket_send(this.handle, kernel.scratch + SCRATCH_DATA, chunk, kernel.scratch, handles.length, 0, 0);
        if (n === -EAGAIN) return new Blocked(this.ownCell);
        if (n === -EINTR) return new Blocked(this.ownCell, true);
        return n < 0 ? kernelError(n, { syscall: 'sendmsg', object: this.objectName }) : n;
      };
      return this.waits.run(attempt, options, nowait, timeoutMs, 'sendmsg').then(async (first) => {
        if (first === bytes.length) return first;
        return first + (await this.write(bytes.subarray(first), options));
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * The bytes available now (up to `maxBytes`) and the objects that came with them, or `null` at
   * EOF; stops at bytes that carry objects. Waits until bytes arrive (`nowait`: `EAGAIN`).
   */
  receive(options?: ReceiveOptions): Promise<ReceivedMessage | null> {
    try {
      const { maxBytes, nowait, timeoutMs } = checkSocketReceive(options);
      if (this.closed) throw closedError(this.objectName, 'recvmsg');
      if (options?.signal?.aborted) throw abortErrorFor(options.signal);
      const { kernel } = this;
      const attempt: Attempt<ReceivedMessage | null> = () => {
        if (this.closed) return closedError(this.objectName, 'recvmsg');
        const max = Math.min(maxBytes, kernel.scratchBytes - SCRATCH_DATA);
        const n = kernel.calls.socket_recv(this.handle, kernel.scratch, kernel.scratch + SCRATCH_DATA, max, S.RECV_RIGHTS);
        if (n === -EAGAIN) return new Blocked(this.ownCell);
        if (n === -EINTR) return new Blocked(this.ownCell, true);
        if (n < 0) return kernelError(n, { syscall: 'recvmsg', object: this.objectName });
        const { data, flags, objects } = readReceived(kernel, n);
        if ((flags & S.RECV_EOF) !== 0) return null;
        return { data, truncated: false, objects };
      };
      return this.waits.run(attempt, options, nowait, timeoutMs, 'recvmsg');
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Closes the handle: pending operations reject with `EBADF`; with the last handle the peer reads EOF and its writes get `EPIPE`. */
  override async close(): Promise<void> {
    this.waits.closeAll();
    await super.close();
  }

  // A stream socket's bytes are messages of its own records, not a pipe ring: through sysRead/sysWrite.
  protected override usesRingIo(): boolean {
    return false;
  }

  protected override sysRead(dst: number, max: number): number {
    return this.kernel.calls.socket_recv(this.handle, 0, dst, max, 0);
  }

  protected override sysWrite(src: number, len: number, _more: number, _continued: number): number {
    return this.kernel.calls.socket_send(this.handle, src, len, 0, 0, 0, 0);
  }

  protected override sysShutdown(): number {
    return this.kernel.calls.socket_shutdown(this.handle);
  }
}

/** What the message sockets and the listener share: a handle, pending waits, close, transfer. */
abstract class WorkerSocketHandle implements KernelObject {
  protected handle: number;
  /** The kernel object id (diagnostics and transfer records). */
  readonly objectId: number;
  protected readonly ownCell: number;
  protected readonly waits: SocketWaits;

  constructor(
    protected readonly kernel: Kernel,
    handle: number,
    protected readonly objectName: string,
    private readonly kind: string,
    /** True when this object bound a path: closing it removes the socket file (if still its own). */
    private readonly ownsPath: boolean,
  ) {
    this.handle = handle;
    this.objectId = kernel.calls.handle_object(handle);
    this.ownCell = kernel.calls.handle_wait_cell(handle);
    this.waits = new SocketWaits(kernel, objectName);
    kernel.track(this, handle);
  }

  /** True once closed. */
  get closed(): boolean {
    return this.handle === 0;
  }

  /** What `JSON.stringify` gives: a short description (not the kernel or its memory, which would never finish as JSON). */
  toJSON(): { object: string; closed: boolean } {
    return { object: this.describe(), closed: this.closed };
  }

  /** A short description for leak reports. */
  describe(): string {
    return `${this.objectName} (handle ${this.handle}, object ${this.objectId})`;
  }

  /**
   * Gives up the handle: pending operations reject with `EBADF`; a path this object bound is
   * removed; with the last handle the socket is released (its peer reads EOF, queued messages and
   * connections are dropped). A second close does nothing.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    const handle = this.handle;
    this.handle = 0;
    this.waits.closeAll();
    this.kernel.untrack(this);
    if (this.ownsPath) await this.kernel.callAsync(() => this.kernel.calls.socket_unlink(handle));
    await this.kernel.callAsync(() => this.kernel.calls.handle_close(handle));
  }

  /** `await using` support: closes the handle. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** The record that carries this socket to a worker child or over another socket. `EBADF` after close. */
  [transferSymbol](): TransferRecord {
    if (this.closed) throw closedError(this.objectName, 'transfer');
    return { kind: this.kind, data: { kernel: this.kernel.id, object: this.objectId }, handles: [this.handle] };
  }
}

/** What Unix datagram and seqpacket sockets share: whole messages, sent and received. */
class WorkerUnixMessageEndpoint extends WorkerSocketHandle {
  constructor(
    kernel: Kernel,
    handle: number,
    private readonly type: 'datagram' | 'seqpacket',
    ownsPath = false,
  ) {
    super(kernel, handle, `unix ${type} socket`, `unix-${type}-socket`, ownsPath);
  }

  /** The address this socket is bound to (`getsockname`), `undefined` if unnamed. */
  get localAddress(): SocketAddress | undefined {
    return addressOf(this.kernel, this.handle, false);
  }

  /** The connected peer's address (`getpeername`), `undefined` if not connected or unnamed. */
  get remoteAddress(): SocketAddress | undefined {
    return addressOf(this.kernel, this.handle, true);
  }

  /**
   * Sends one message whole (to `options.to`, or the peer), with the objects of
   * `options.transfer`. Waits while the receiver's buffer is full (`nowait`: `EAGAIN`);
   * `EMSGSIZE` above the socket buffer, `EPIPE` (seqpacket) / `ECONNREFUSED` (datagram) when the
   * peer is gone, `ENOENT`/`ECONNREFUSED` for a missing or dead destination, `EBADF` after close.
   */
  send(data: Uint8Array | string, options?: DatagramSendOptions): Promise<number> {
    try {
      const { bytes, transfer, nowait, timeoutMs, to } = checkMessageSocketSend(this.type, data, options);
      if (this.closed) throw closedError(this.objectName, 'sendmsg');
      if (options?.signal?.aborted) throw abortErrorFor(options.signal);
      const handles = transfer.length > 0 ? handlesOf(this.kernel, transfer) : [];
      const { kernel } = this;
      const path = pathOf(to);
      const details = { syscall: 'sendmsg', object: this.objectName, ...(path !== undefined ? { path } : {}) };
      const attempt: Attempt<number> = () => {
        if (this.closed) return closedError(this.objectName, 'sendmsg');
        // A message larger than any socket can take is refused by the kernel before it looks at the bytes.
        const fits = bytes.length <= S.SOCKET_MESSAGE_MAX;
        if (fits && !kernel.ensureScratch(SCRATCH_DATA + bytes.length)) return kernelError(-ENOMEM, details);
        putRights(kernel, handles);
        const toLength = to === undefined ? 0 : putAddress(kernel, to, SCRATCH_TO);
        if (fits) kernel.bytes.set(bytes, kernel.scratch + SCRATCH_DATA);
        const n = kernel.calls.socket_send(this.handle, kernel.scratch + SCRATCH_DATA, bytes.length, kernel.scratch, handles.length, kernel.scratch + SCRATCH_TO, toLength);
        if (n === -EAGAIN) return new Blocked(kernel.calls.second_result());
        if (n === -EINTR) return new Blocked(this.ownCell, true);
        return n < 0 ? kernelError(n, details) : n;
      };
      return this.waits.run(attempt, options, nowait, timeoutMs, 'sendmsg', path);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** The next message; with `eofAsNull` (seqpacket), `null` once the peer is gone or ended and the queue is empty. */
  protected receiveMessage(options: ReceiveOptions | undefined, eofAsNull: boolean): Promise<ReceivedMessage | null> {
    try {
      const { maxBytes, nowait, timeoutMs } = checkSocketReceive(options);
      if (this.closed) throw closedError(this.objectName, 'recvmsg');
      if (options?.signal?.aborted) throw abortErrorFor(options.signal);
      const { kernel } = this;
      const want = Math.min(maxBytes, S.SOCKET_MESSAGE_MAX);
      const attempt: Attempt<ReceivedMessage | null> = () => {
        if (this.closed) return closedError(this.objectName, 'recvmsg');
        if (!kernel.ensureScratch(SCRATCH_DATA + want)) return kernelError(-ENOMEM, { syscall: 'recvmsg', object: this.objectName });
        const n = kernel.calls.socket_recv(this.handle, kernel.scratch, kernel.scratch + SCRATCH_DATA, want, S.RECV_RIGHTS);
        if (n === -EAGAIN) return new Blocked(this.ownCell);
        if (n === -EINTR) return new Blocked(this.ownCell, true);
        if (n < 0) return kernelError(n, { syscall: 'recvmsg', object: this.objectName });
        const { data, flags, from, objects } = readReceived(kernel, n);
        if (eofAsNull && (flags & S.RECV_EOF) !== 0) return null;
        const truncated = (flags & S.RECV_TRUNCATED) !== 0;
        // Only a datagram's sender is news; a seqpacket peer is always the connected one.
        if (this.type === 'datagram' && from !== undefined) return { data, truncated, from, objects };
        return { data, truncated, objects };
      };
      return this.waits.run(attempt, options, nowait, timeoutMs, 'recvmsg');
    } catch (error) {
      return Promise.reject(error);
    }
  }
}

/** A connected Unix seqpacket socket: whole messages both ways, `null` after the peer is done. */
export class WorkerUnixSeqpacketSocket extends WorkerUnixMessageEndpoint implements MessageSocket {
  /** Wraps a socket handle of this thread. */
  constructor(kernel: Kernel, handle: number) {
    super(kernel, handle, 'seqpacket');
  }

  /** The next message, or `null` once the peer has closed or ended and every message was read. `EBADF` after close. */
  receive(options?: ReceiveOptions): Promise<ReceivedMessage | null> {
    return this.receiveMessage(options, true);
  }

  /** The peer's emulated pid, uid and gid as of the connection (`SO_PEERCRED`). Throws `EBADF` after close. */
  peerCredentials(): Credentials {
    return credentialsOf(this.kernel, this.handle, this.objectName);
  }

  /** `shutdown(SHUT_WR)`: the peer's `receive` gives `null` after the last message. `EBADF` after close. */
  async end(): Promise<void> {
    if (this.closed) throw closedError(this.objectName, 'shutdown');
    const result = await this.kernel.callAsync(() => this.kernel.calls.socket_shutdown(this.handle));
    if (result < 0) throw kernelError(result, { syscall: 'shutdown', object: this.objectName });
  }
}

/** A Unix datagram socket. Closing one that bound a path removes its socket file. */
export class WorkerUnixDatagramSocket extends WorkerUnixMessageEndpoint implements DatagramSocket {
  /** Wraps a socket handle of this thread; `ownsPath` when this object bound a path. */
  constructor(kernel: Kernel, handle: number, ownsPath = false) {
    super(kernel, handle, 'datagram', ownsPath);
  }

  /** The next datagram and its sender's address (`from`, if bound); cut to `maxBytes` with `truncated`. `EBADF` after close. */
  receive(options?: ReceiveOptions): Promise<ReceivedMessage> {
    return this.receiveMessage(options, false) as Promise<ReceivedMessage>;
  }
}

/** A listening Unix socket. Closing the one that bound a path removes its socket file. */
export class WorkerUnixServer<S> extends WorkerSocketHandle implements SocketServer<S> {
  /** The address it listens on. */
  readonly address: SocketAddress;

  /** Wraps a listening handle of this thread. */
  constructor(
    kernel: Kernel,
    handle: number,
    private readonly type: 'stream' | 'seqpacket',
    ownsPath = false,
  ) {
    super(kernel, handle, `unix ${type} server`, `unix-${type}-socket`, ownsPath);
    this.address = addressOf(kernel, handle, false) ?? '';
  }

  /**
   * The next connection (`accept4`), waiting until one comes; `signal` and `timeout`
   * (`ETIMEDOUT`) end the wait, `close()` rejects it with `EBADF`.
   */
  accept(options?: WaitOptions): Promise<S> {
    try {
      const timeoutMs = checkSocketWait(options);
      if (this.closed) throw closedError(this.objectName, 'accept4');
      if (options?.signal?.aborted) throw abortErrorFor(options.signal);
      const { kernel } = this;
      const attempt: Attempt<S> = () => {
        if (this.closed) return closedError(this.objectName, 'accept4');
        const handle = kernel.calls.socket_accept(this.handle);
        if (handle === -EAGAIN) return new Blocked(this.ownCell);
        if (handle === -EINTR) return new Blocked(this.ownCell, true);
        if (handle < 0) return kernelError(handle, { syscall: 'accept4', object: this.objectName });
        return (this.type === 'stream' ? new WorkerUnixStreamSocket(kernel, handle) : new WorkerUnixSeqpacketSocket(kernel, handle)) as S;
      };
      return this.waits.run(attempt, options, false, timeoutMs, 'accept4');
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Each accepted connection until the server is closed. */
  [Symbol.asyncIterator](): AsyncIterator<S> {
    return iterateServer(this);
  }
}

function wrapConnected(kernel: Kernel, handle: number, type: UnixSocketType): StreamSocket | MessageSocket | DatagramSocket {
  if (type === 'stream') return new WorkerUnixStreamSocket(kernel, handle);
  if (type === 'seqpacket') return new WorkerUnixSeqpacketSocket(kernel, handle);
  return new WorkerUnixDatagramSocket(kernel, handle);
}

/** The permission bits of a bound path's socket file: `options.mode`, default 0o600 (as every other object). */
function socketFileMode(options: { readonly mode?: number } | undefined): number {
  return options?.mode === undefined ? 0o600 : checkInteger('options.mode', options.mode, 0, 0o7777);
}

/** The worker backend's {@link UnixSockets} factory. */
export class WorkerUnixSockets implements UnixSockets {
  /** A factory over `kernel`. */
  constructor(private readonly kernel: Kernel) {}

  /**
   * Binds and listens. A path becomes a socket file in the kernel's namespace (removed by the
   * server's `close()`): `EADDRINUSE` when the path or abstract name is taken (a stale path is
   * replaced with `replaceStale`), `ENOSPC`/`ENOMEM`/`ENFILE` when the kernel is full.
   */
  listen(address: UnixAddress, options?: UnixListenOptions & { readonly type?: 'stream' }): Promise<SocketServer<StreamSocket>>;
  listen(address: UnixAddress, options: UnixListenOptions & { readonly type: 'seqpacket' }): Promise<SocketServer<MessageSocket>>;
  async listen(address: UnixAddress, options?: UnixListenOptions): Promise<SocketServer<StreamSocket> | SocketServer<MessageSocket>> {
    const { address: checked, type, backlog, replaceStale } = checkUnixSocketListen(address, options);
    const { kernel } = this;
    const path = pathOf(checked);
    const handle = await this.open(type, `unix ${type} server ${describeAddress(checked)}`);
    try {
      const flags = replaceStale ? S.BIND_REPLACE_STALE : 0;
      const mode = socketFileMode(options);
      let result = await kernel.callAsync(() => kernel.calls.socket_bind(handle, kernel.scratch, putAddress(kernel, checked), flags, mode));
      if (result < 0) throw kernelError(result, { syscall: 'bind', path, object: `unix ${type} server ${describeAddress(checked)}` });
      result = await kernel.callAsync(() => kernel.calls.socket_listen(handle, backlog));
      if (result < 0) throw kernelError(result, { syscall: 'listen', path });
    } catch (error) {
      await kernel.callAsync(() => kernel.calls.handle_close(handle));
      throw error;
    }
    return new WorkerUnixServer(kernel, handle, type, path !== undefined) as SocketServer<StreamSocket>;
  }

  /**
   * Connects to a listener (stream, seqpacket) or sets a datagram socket's destination. Waits
   * while the listener's backlog is full; `signal` and `timeout` (`ETIMEDOUT`) end the wait.
   * `ENOENT` for a missing path, `ECONNREFUSED` when nobody listens, `EPROTOTYPE` on a type mismatch.
   */
  connect(address: UnixAddress, options?: UnixConnectOptions & { readonly type?: 'stream' }): Promise<StreamSocket>;
  connect(address: UnixAddress, options: UnixConnectOptions & { readonly type: 'seqpacket' }): Promise<MessageSocket>;
  connect(address: UnixAddress, options: UnixConnectOptions & { readonly type: 'datagram' }): Promise<DatagramSocket>;
  async connect(address: UnixAddress, options?: UnixConnectOptions): Promise<StreamSocket | MessageSocket | DatagramSocket> {
    const { address: checked, type, timeoutMs } = checkUnixSocketConnect(address, options);
    if (options?.signal?.aborted) throw abortErrorFor(options.signal);
    const { kernel } = this;
    const object = `unix ${type} socket to ${describeAddress(checked)}`;
    const path = pathOf(checked);
    const handle = await this.open(type, object);
    const ownCell = kernel.calls.handle_wait_cell(handle);
    const attempt: Attempt<number> = () => {
      const result = kernel.calls.socket_connect(handle, kernel.scratch, putAddress(kernel, checked));
      if (result === -EAGAIN) return new Blocked(kernel.calls.second_result());
      if (result === -EINTR) return new Blocked(ownCell, true);
      return result < 0 ? kernelError(result, { syscall: 'connect', path, object }) : handle;
    };
    try {
      // A timeout of 0 cannot wait: EAGAIN at once, as a non-blocking connect says.
      await new SocketWaits(kernel, object).run(attempt, options, timeoutMs === 0, timeoutMs, 'connect', path);
    } catch (error) {
      await kernel.callAsync(() => kernel.calls.handle_close(handle));
      throw error;
    }
    return wrapConnected(kernel, handle, type);
  }

  /**
   * A datagram socket bound to `address` (`EADDRINUSE` if taken), unnamed, or autobound to a
   * unique abstract name. A path becomes a socket file that `close()` removes.
   */
  async bind(address?: UnixAddress, options?: UnixBindOptions): Promise<DatagramSocket> {
    const { address: checked, autobind } = checkUnixSocketBind(address, options);
    const mode = socketFileMode(options);
    const { kernel } = this;
    const handle = await this.open('datagram', 'unix datagram socket');
    if (checked === undefined && !autobind) return new WorkerUnixDatagramSocket(kernel, handle);
    const path = pathOf(checked);
    const result = await kernel.callAsync(() =>
      checked === undefined ? kernel.calls.socket_bind(handle, kernel.scratch, 0, S.BIND_AUTOBIND, 0) : kernel.calls.socket_bind(handle, kernel.scratch, putAddress(kernel, checked), 0, mode),
    );
    if (result < 0) {
      await kernel.callAsync(() => kernel.calls.handle_close(handle));
      throw kernelError(result, { syscall: 'bind', path });
    }
    return new WorkerUnixDatagramSocket(kernel, handle, path !== undefined);
  }

  /** Two connected sockets (`socketpair`); both name this thread's process as peer. */
  pair(type?: 'stream'): Promise<[StreamSocket, StreamSocket]>;
  pair(type: 'seqpacket'): Promise<[MessageSocket, MessageSocket]>;
  pair(type: 'datagram'): Promise<[DatagramSocket, DatagramSocket]>;
  async pair(type?: UnixSocketType): Promise<[StreamSocket, StreamSocket] | [MessageSocket, MessageSocket] | [DatagramSocket, DatagramSocket]> {
    const checked = checkUnixSocketPair(type);
    const { kernel } = this;
    let second = 0;
    const first = await kernel.callAsync(() => {
      const result = kernel.calls.socket_pair(SOCKET_TYPE[checked]);
      second = kernel.calls.second_result();
      return result;
    });
    if (first < 0) throw kernelError(first, { syscall: 'socketpair', object: `unix ${checked} socket pair` });
    return [wrapConnected(kernel, first, checked), wrapConnected(kernel, second, checked)] as [StreamSocket, StreamSocket];
  }

  /** `socket(AF_UNIX, type)`: a new handle. */
  private async open(type: UnixSocketType, object: string): Promise<number> {
    const handle = await this.kernel.callAsync(() => this.kernel.calls.socket_create(SOCKET_TYPE[type]));
    if (handle < 0) throw kernelError(handle, { syscall: 'socket', object });
    return handle;
  }
}

/**
 * Network sockets are the host's network stack, which an emulated kernel inside one process
 * does not have: every member rejects with `ENOSYS` (after the same argument checks as the native
 * backend). The backend does not declare `network-socket`; use the native backend for TCP/UDP.
 */
export class WorkerNetworkSockets implements NetworkSockets {
  /** Rejects with `ENOSYS`: no TCP in the emulated kernel. */
  async listen(address: NetworkAddress, options?: NetworkListenOptions): Promise<SocketServer<StreamSocket>> {
    checkNetworkSocketListen(address, options);
    throw notEmulated('listen');
  }

  /** Rejects with `ENOSYS`: no TCP in the emulated kernel. */
  async connect(address: NetworkAddress, options?: WaitOptions): Promise<StreamSocket> {
    checkNetworkSocketConnect(address, options);
    throw notEmulated('connect');
  }

  /** Rejects with `ENOSYS`: no UDP in the emulated kernel. */
  async bind(address: NetworkAddress): Promise<DatagramSocket> {
    checkNetworkAddress('address', address);
    throw notEmulated('bind');
  }
}

function notEmulated(syscall: string): IpcError {
  return new IpcError('ENOSYS', {
    syscall,
    errno: Errno.ENOSYS,
    object: 'network socket',
    message: `ENOSYS: the worker backend has no network sockets (TCP/UDP are the host's network; use the native backend) (${syscall})`,
  });
}

/** Revives a socket handle of this thread: a listener becomes a server, anything else a connected or datagram socket. */
function reviveSocket(kernel: Kernel, handle: number): unknown {
  const info = kernel.call(() => kernel.calls.socket_info(handle));
  if (info < 0) throw kernelError(info, { syscall: 'getsockopt', object: 'unix socket' });
  const type = TYPE_NAME[info & 255];
  if (type === undefined) throw new TypeError('not a Unix socket');
  if (info >= 256 && type !== 'datagram') return new WorkerUnixServer(kernel, handle, type);
  return wrapConnected(kernel, handle, type);
}

registerReviver('unix-stream-socket', (kernel, record) => reviveSocket(kernel, record.handles![0]!));
registerReviver('unix-seqpacket-socket', (kernel, record) => reviveSocket(kernel, record.handles![0]!));
registerReviver('unix-datagram-socket', (kernel, record) => reviveSocket(kernel, record.handles![0]!));

/** Unix sockets: this file's part of the worker backend (backend.ts lists it; made over the backend's kernel). */
export const unixSocketSlice = backendSlice('unixSockets', ['unix-socket'], (kernel: Kernel) => new WorkerUnixSockets(kernel));

/**
 * Network sockets: this file's part of the worker backend (backend.ts lists it). It declares no
 * primitive: the factory is here so that every call rejects with `ENOSYS` after the usual
 * argument checks (see {@link WorkerNetworkSockets}).
 */
export const networkSocketSlice = backendSlice('networkSockets', [], () => new WorkerNetworkSockets());
