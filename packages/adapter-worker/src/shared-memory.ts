/**
 * Shared memory on the worker backend: System V segments, POSIX objects and emulated file
 * mappings (assembly/shared-memory.ts keeps their bookkeeping and futex wait queues).
 *
 * **Where the bytes live.** Not in the kernel's WebAssembly memory: a segment's `buffer` must be
 * an ArrayBuffer-like of exactly the segment's size that `new Uint8Array(buffer)` and `Atomics`
 * accept, and a slice of one SharedArrayBuffer cannot be a buffer of its own. So each segment's
 * bytes are one `SharedArrayBuffer` of its size (growable for POSIX objects and files, which
 * `ftruncate` can grow), shared by reference between threads:
 *
 * ```
 *   thread that made the kernel (owner 1)         any other thread (worker child)
 *   ┌──────────────────────────────────┐          ┌──────────────────────────────────┐
 *   │ store: serial → SharedArrayBuffer│◄─ 'get' ─│ cache: serial → SharedArrayBuffer│
 *   │ for every live segment (the      │── buffer►│ while this thread maps it        │
 *   │ kernel's memory for them)        │          │ (children inherit it in spawn)   │
 *   └──────────────────────────────────┘          └──────────────────────────────────┘
 *          BroadcastChannel `ipcx-shm-<kernel id>` (structured clone shares the buffer)
 * ```
 *
 * The kernel (wasm) decides everything else — keys, names, sizes, permissions, attachments,
 * removal — and the store creates a segment's buffer on first use and drops it once the kernel
 * has destroyed the segment, so a segment outlives the workers that made it, as in the kernel.
 * Mapping a segment that this thread does not hold yet asks the store (async: `openSysv` & co.
 * are), so the thread that made the kernel must keep its event loop turning.
 *
 * **wait/notify** are the kernel's futex: a waiter compares the cell under the segment's lock and
 * queues a waiter record in the kernel; `notify` wakes queued records, so it counts exactly whom it
 * woke, and a cancelled wait (timeout, abort, close) leaves the queue for real. They do not see
 * `Atomics.wait`/`Atomics.notify` on the buffer, as on the native backend.
 *
 * **Detaching.** A SharedArrayBuffer cannot be detached by any JS engine: after `close()` the
 * `buffer` getter throws `EBADF`, but views made before keep working on the memory (which is never
 * freed under them: the garbage collector keeps it alive), unlike the native backend where they
 * become empty.
 *
 * **Files.** There is no file system in the emulated kernel: `mapFile` paths name byte objects in
 * the kernel's own namespace of "files" (compared byte for byte, no folders), created by `mapFile`
 * with `create` and removed by {@link WorkerSharedMemory.removeFile} (deleting a host file does
 * nothing here). Like regular files on the native backend, they are not IPC objects and do not
 * appear in `kernelObjects()`.
 */
import {
  completedNow,
  Errno,
  IpcError,
  SHARED_CELL_BYTES,
  abortErrorFor,
  closedError,
  transferSymbol,
  type FileMapping,
  type FileMappingOptions,
  type PosixSegment,
  type PosixSegmentOptions,
  type SharedMemory,
  type SharedSegment,
  type SharedWaitOptions,
  type SharedWaitResult,
  type SysvSegment,
  type SysvSegmentOptions,
  type SysvSegmentStat,
  type TransferRecord,
} from '@ipcx/core';
import {
  checkInteger,
  checkOptionalBoolean,
  checkOptions,
  checkPosixSegmentName,
  checkPosixSegmentOpen,
  checkSegmentNotify,
  checkSegmentRead,
  checkSegmentSize,
  checkSegmentWait,
  checkSegmentWrite,
  checkString,
  checkSysvSegmentAttach,
  checkSysvSegmentId,
  checkSysvSegmentOpen,
  backendSlice,
} from '@ipcx/core/backend';
import { kernelError, registerReviver, type Kernel, type KernelObject } from './kernel.js';
import { KernelErrno, Kind, Layout, ShmLayout } from './layout.js';
import { watchCancellation, type CancelReason, cancellationError } from './wait.js';

const DEFAULT_MODE = 0o600;
const INT32_MAX = 2 ** 31 - 1;
const UINT32_MAX = 2 ** 32 - 1;
/**
 * How far a POSIX object's or file's buffer can grow: 16 times its creation size, at least 64 KiB,
 * at most 64 MiB (never less than its size). `maxByteLength` reserves address space only, but each
 * reservation is a mapping of the process, and V8 caps the address space its buffers reserve:
 * 64 MiB for every 64 KiB object made it run out after ~32k live ones (issue 10).
 */
function growableBytes(size: number): number {
  return Math.max(size, Math.min(GROWABLE_MAX_BYTES, Math.max(GROWABLE_MIN_BYTES, size * GROWTH_FACTOR)));
}
const GROWABLE_MAX_BYTES = 64 * 1024 * 1024;
const GROWABLE_MIN_BYTES = 64 * 1024;
const GROWTH_FACTOR = 16;
/** Most bytes of destroyed segments' buffers kept for reuse, and most buffers per size. */
const POOL_BYTES = 32 * 1024 * 1024;
const POOL_PER_SIZE = 8;
/** Loads of a waiter's state cell before sleeping. */
const SPIN_LOADS = 200;

/** Something placed inside a segment's memory (an unnamed semaphore) that must close before it unmaps. */
export interface SegmentDependent {
  close(): Promise<void>;
}

/** A message on a kernel's shared-memory channel. */
type ChannelMessage =
  | { readonly op: 'get'; readonly from: number; readonly ticket: number; readonly id: number; readonly serial: number }
  | { readonly op: 'memory'; readonly to: number; readonly ticket: number; readonly buffer?: SharedArrayBuffer; readonly errno?: number }
  | { readonly op: 'sweep' }
  | { readonly op: 'port'; readonly port: MessagePort };

/** Where a thread talks to the store: the kernel's BroadcastChannel, or (a browser child) a MessagePort. */
type StoreLink = BroadcastChannel | MessagePort;

/**
 * Browser children reach the store over a MessagePort of their own: Chromium's BroadcastChannel
 * cannot carry a SharedArrayBuffer (it arrives as null), a MessagePort can. Set by the child's
 * bootstrap before anything maps memory; Node children keep the BroadcastChannel.
 */
const storePorts = new WeakMap<Kernel, MessagePort>();

/** A browser child's link to its kernel's store (see {@link newStorePort}). */
export function linkToStore(kernel: Kernel, port: MessagePort): void {
  storePorts.set(kernel, port);
}

/**
 * For a browser child about to start: a new MessageChannel whose one end the store serves (this
 * thread is the store, or hands the end to it over its own port) and whose other end, returned,
 * goes to the child.
 */
export function newStorePort(kernel: Kernel): MessagePort {
  const { port1, port2 } = new MessageChannel();
  memoryOf(kernel).accept(port1);
  return port2;
}

/** One thread's side of the segments' memory: the store (owner 1) or a cache, plus the channel between them. */
class SegmentMemory {
  /** True in the thread that made the kernel: it holds every live segment's buffer. */
  readonly isStore: boolean;
  /** The store's buffers, by creation serial (with the object id, to ask the kernel whether the segment lives). */
  private readonly held = new Map<number, { id: number; buffer: SharedArrayBuffer; exposed: boolean }>();
  /** Buffers of destroyed segments that nothing else can reach, by {@link poolKey}, for the next segment of that shape. */
  private readonly pool = new Map<string, SharedArrayBuffer[]>();
  private pooledBytes = 0;
  /** A child's buffers while it maps them, by serial, with how many of its mappings use each. */
  private readonly cached = new Map<number, { buffer: SharedArrayBuffer; users: number }>();
  private readonly waiting = new Map<number, { resolve: (buffer: SharedArrayBuffer) => void; reject: (error: Error) => void }>();
  private channel: StoreLink | undefined;
  private tickets = 0;

  constructor(private readonly kernel: Kernel) {
    // Owner 1 is the thread that made the kernel (kernel_init, then its first owner_create); it
    // lives as long as the kernel.
    this.isStore = kernel.owner === 1;
    if (this.isStore) this.open();
  }

  /** The buffer of segment `id` (creation `serial`) of `size` bytes, for one more mapping in this thread. */
  async acquire(id: number, serial: number, size: number): Promise<SharedArrayBuffer> {
    if (this.isStore) return this.serve(id, serial);
    const mine = this.cached.get(serial);
    if (mine !== undefined && mine.buffer.byteLength >= size) {
      mine.users++;
      return mine.buffer;
    }
    const buffer = await this.request(id, serial);
    this.adopt(serial, buffer);
    return buffer;
  }

  /** Counts a mapping whose buffer came with it (inherited by a worker). */
  adopt(serial: number, buffer: SharedArrayBuffer): void {
    if (this.isStore) return;
    const mine = this.cached.get(serial);
    if (mine === undefined) this.cached.set(serial, { buffer, users: 1 });
    else {
      mine.users++;
      mine.buffer = buffer;
    }
  }

  /** One mapping of this thread is gone: a child forgets the buffer with its last one; the store drops those of destroyed segments. */
  release(serial: number): void {
    if (this.isStore) {
      this.sweep();
      return;
    }
    const mine = this.cached.get(serial);
    if (mine !== undefined && --mine.users === 0) this.cached.delete(serial);
    this.post({ op: 'sweep' });
  }

  /** Asks the store to drop the buffers of destroyed segments (after a remove or unlink). */
  changed(): void {
    if (this.isStore) this.sweep();
    else this.post({ op: 'sweep' });
  }

  /**
   * The buffer of segment `serial` may be reached from outside this SegmentMemory (its `buffer`
   * was handed out, or it went to another thread): once the segment is destroyed it is left to the
   * garbage collector, never reused. Only the store thread tracks this; another thread's buffers
   * came from the store, which marked them when it sent them.
   */
  expose(serial: number): void {
    const entry = this.held.get(serial);
    if (entry !== undefined) entry.exposed = true;
  }

  /**
   * Store: the buffer of a live segment, made on first use and grown to the segment's size.
   *
   * Why a pool: a SharedArrayBuffer's memory goes back only after a full garbage collection that
   * an engine runs late (the JS heap barely grows meanwhile): a loop that makes and removes
   * segments grew by every segment's size until it ended. A destroyed segment's buffer that nobody
   * else can reach (never exposed, see {@link expose}; the segment objects of this thread that
   * held it are closed and answer EBADF) is as good as new once zeroed, so the next segment of
   * the same shape takes it instead.
   */
  private serve(id: number, serial: number, forAnotherThread = false): SharedArrayBuffer {
    const size = this.kernel.call(() => this.kernel.calls.shm_live_size(id, serial));
    if (size < 0) {
      this.held.delete(serial);
      throw kernelError(size, { syscall: 'mmap' });
    }
    let entry = this.held.get(serial);
    if (entry === undefined) {
      // System V segments never change size; POSIX objects and files grow with ftruncate.
      const maxBytes = this.kernel.calls.object_kind(id) === Kind.KIND_SHM ? 0 : growableBytes(size);
      let buffer = this.fromPool(size, maxBytes);
      if (buffer === undefined) {
        try {
          buffer = maxBytes === 0 ? new SharedArrayBuffer(size) : new SharedArrayBuffer(size, { maxByteLength: maxBytes });
        } catch {
          throw new IpcError('ENOMEM', { syscall: 'mmap', errno: Errno.ENOMEM });
        }
      }
      entry = { id, buffer, exposed: false };
      this.held.set(serial, entry);
    }
    if (forAnotherThread) entry.exposed = true;
    if (entry.buffer.byteLength < size) {
      try {
        entry.buffer.grow(size);
      } catch {
        throw new IpcError('ENOMEM', { syscall: 'mmap', errno: Errno.ENOMEM });
      }
    }
    return entry.buffer;
  }

  /** Store: forgets the buffers of segments the kernel has destroyed (pooling those nothing else reaches). */
  private sweep(): void {
    for (const [serial, entry] of this.held) {
      if (this.kernel.calls.shm_live_size(entry.id, serial) !== -Errno.EIDRM) continue;
      this.held.delete(serial);
      if (!entry.exposed) this.toPool(entry.buffer);
    }
  }

  /** A pooled buffer of exactly `size` bytes (and `maxBytes` of reservation, 0: not growable), zeroed; or undefined. */
  private fromPool(size: number, maxBytes: number): SharedArrayBuffer | undefined {
    const key = poolKey(size, maxBytes);
    const buffer = this.pool.get(key)?.pop();
    if (buffer === undefined) return undefined;
    this.pooledBytes -= size;
    // A new segment reads zeros, as a fresh shmget/ftruncate gives.
    new Uint8Array(buffer).fill(0);
    return buffer;
  }

  private toPool(buffer: SharedArrayBuffer): void {
    const size = buffer.byteLength;
    if (this.pooledBytes + size > POOL_BYTES) return;
    const maxBytes = buffer.growable ? buffer.maxByteLength : 0;
    // A grown buffer reserves more than a new one of its size would: it would never be taken.
    if (maxBytes !== 0 && maxBytes !== growableBytes(size)) return;
    const key = poolKey(size, maxBytes);
    let list = this.pool.get(key);
    if (list === undefined) this.pool.set(key, (list = []));
    if (list.length >= POOL_PER_SIZE) return;
    list.push(buffer);
    this.pooledBytes += size;
  }

  private request(id: number, serial: number): Promise<SharedArrayBuffer> {
    const ticket = ++this.tickets;
    return new Promise<SharedArrayBuffer>((resolve, reject) => {
      // The answer comes as a message, which alone would not keep a worker's event loop alive.
      this.kernel.holdAlive();
      const done = () => this.kernel.releaseAlive();
      this.waiting.set(ticket, {
        resolve: (buffer) => (done(), resolve(buffer)),
        reject: (error) => (done(), reject(error)),
      });
      this.post({ op: 'get', from: this.kernel.owner, ticket, id, serial });
    });
  }

  /** Store: serves requests arriving on `port`, answering on it. Elsewhere: passes the port on to the store. */
  accept(port: MessagePort): void {
    if (!this.isStore) {
      (this.open() as MessagePort).postMessage({ op: 'port', port } satisfies ChannelMessage, [port]);
      return;
    }
    port.onmessage = (event: MessageEvent<ChannelMessage>) => this.receive(event.data, port);
  }

  private post(message: ChannelMessage): void {
    this.open().postMessage(message);
  }

  private open(): StoreLink {
    if (this.channel === undefined) {
      const port = storePorts.get(this.kernel);
      if (port !== undefined) {
        port.onmessage = (event: MessageEvent<ChannelMessage>) => this.receive(event.data);
        this.channel = port;
        return port;
      }
      const channel = new BroadcastChannel(`ipcx-shm-${this.kernel.id}`);
      channel.onmessage = (event: MessageEvent<ChannelMessage>) => this.receive(event.data);
      // Node: an idle channel must not keep a thread alive (pending requests hold it, see request()).
      (channel as unknown as { unref?: () => void }).unref?.();
      this.channel = channel;
    }
    return this.channel;
  }

  private receive(message: ChannelMessage, replyTo?: MessagePort): void {
    if (message.op === 'port' && this.isStore) {
      this.accept(message.port);
    } else if (message.op === 'get' && this.isStore) {
      let reply: ChannelMessage;
      try {
        reply = { op: 'memory', to: message.from, ticket: message.ticket, buffer: this.serve(message.id, message.serial, true) };
      } catch (error) {
        reply = { op: 'memory', to: message.from, ticket: message.ticket, errno: (error as IpcError).errno ?? Errno.ENOMEM };
      }
      if (replyTo !== undefined) replyTo.postMessage(reply);
      else this.post(reply);
    } else if (message.op === 'memory' && message.to === this.kernel.owner) {
      const waiter = this.waiting.get(message.ticket);
      if (waiter === undefined) return;
      this.waiting.delete(message.ticket);
      if (message.buffer !== undefined) waiter.resolve(message.buffer);
      else waiter.reject(kernelError(-(message.errno ?? Errno.ENOMEM), { syscall: 'mmap' }));
    } else if (message.op === 'sweep' && this.isStore) {
      this.sweep();
    }
  }
}

/** The pool's key of a buffer of `size` bytes reserving `maxBytes` (0: not growable). */
function poolKey(size: number, maxBytes: number): string {
  return `${size}/${maxBytes}`;
}

const memories = new WeakMap<Kernel, SegmentMemory>();

/** This thread's {@link SegmentMemory} for `kernel`. */
function memoryOf(kernel: Kernel): SegmentMemory {
  let memory = memories.get(kernel);
  if (memory === undefined) {
    memory = new SegmentMemory(kernel);
    memories.set(kernel, memory);
  }
  return memory;
}

/** Closes the mapping handles of segments dropped without close() (held: kernel, handle, serial). */
const forgotten = new FinalizationRegistry<{ kernel: Kernel; handle: number; serial: number; tracker: KernelObject }>((held) => {
  held.kernel.open.delete(held.tracker);
  // Never dropped: a detach refused while another thread holds the lock is made later, and the
  // buffer is let go only after it (see Kernel.callEventually).
  held.kernel.callEventually(() => {
    const result = held.kernel.calls.shm_detach(held.handle, Date.now(), held.kernel.pid);
    if (result !== -KernelErrno.EINTR) memoryOf(held.kernel).release(held.serial);
    return result;
  });
});

/** A pending futex wait, ended by close. */
interface PendingWait {
  cancel(reason: CancelReason): void;
  readonly settled: Promise<unknown>;
}

/**
 * What closing a mapping needs, apart from the segment object: the leak report's entry closes
 * the mapping through it. The entry must not reach the segment (a forgotten segment would then
 * never be collected), and it must not use a WeakRef either: V8 keeps every WeakRef's target
 * alive until the current job ends, and a loop of `await`s that never waits is one job, so a
 * tight create/close loop kept every segment and its memory until the loop ended (issue 10: ~24
 * KiB of RSS per System V cycle). Pending waits and dependents do reach the segment, which is
 * right: they keep it in use.
 */
interface MappingState {
  /** The mapping's handle; 0 once closed. */
  handle: number;
  readonly pendingWaits: Set<PendingWait>;
  readonly dependents: Set<SegmentDependent>;
}

/** Unmaps: dependents close first, pending waits end with EBADF, then the handle leaves the kernel. Once. */
async function closeMapping(kernel: Kernel, state: MappingState, serial: number, tracker: KernelObject, syscall: string, object: string): Promise<void> {
  if (state.handle === 0) return;
  const dependents = [...state.dependents];
  state.dependents.clear();
  await Promise.allSettled(dependents.map((dependent) => dependent.close()));
  if (state.handle === 0) return;
  const handle = state.handle;
  const waits = [...state.pendingWaits];
  for (const pending of waits) pending.cancel('close');
  await Promise.all(waits.map((pending) => pending.settled));
  if (state.handle === 0) return;
  state.handle = 0;
  forgotten.unregister(tracker);
  kernel.open.delete(tracker);
  const result = await kernel.callAsync(() => kernel.calls.shm_detach(handle, Date.now(), kernel.pid));
  memoryOf(kernel).release(serial);
  if (result < 0) throw kernelError(result, { syscall, object });
}

/** What a mapping is made from. */
interface Mapping {
  readonly kernel: Kernel;
  readonly handle: number;
  readonly serial: number;
  readonly size: number;
  readonly readOnly: boolean;
  readonly memory: SharedArrayBuffer;
}

/** A mapped segment of any kind (System V, POSIX, file). */
export abstract class WorkerSegment implements SharedSegment {
  abstract readonly kind: 'sysv' | 'posix' | 'file';
  readonly size: number;
  readonly readOnly: boolean;
  /** The kernel this mapping belongs to. */
  readonly kernel: Kernel;
  private readonly state: MappingState;
  private readonly serial: number;
  private readonly memory: SharedArrayBuffer;
  private readonly cells: Int32Array;
  private readonly tracker: KernelObject;

  protected constructor(mapping: Mapping, description: string, unmapSyscall: 'shmdt' | 'munmap') {
    this.kernel = mapping.kernel;
    const state: MappingState = { handle: mapping.handle, pendingWaits: new Set(), dependents: new Set() };
    this.state = state;
    this.serial = mapping.serial;
    this.size = mapping.size;
    this.readOnly = mapping.readOnly;
    this.memory = mapping.memory;
    this.cells = new Int32Array(mapping.memory, 0, Math.floor(mapping.size / SHARED_CELL_BYTES));
    // The leak-report entry reaches the mapping's state, not the segment (see MappingState).
    const { kernel, serial } = this;
    const tracker: KernelObject = { describe: () => description, close: () => closeMapping(kernel, state, serial, tracker, unmapSyscall, description) };
    this.tracker = tracker;
    this.kernel.open.add(this.tracker);
    // Keyed on the segment, not its buffer (unlike the native backend): this thread's SegmentMemory
    // holds every buffer it maps, so a buffer never becomes unreachable first. Views that outlive
    // a forgotten segment keep valid memory; only the attachment ends.
    forgotten.register(this, { kernel: this.kernel, handle: mapping.handle, serial: this.serial, tracker: this.tracker }, this.tracker);
  }

  /** Description for errors, e.g. `'System V segment 65536'`. */
  protected abstract get objectName(): string;
  /** Transfer kind and data (besides the handle and buffer). */
  protected abstract transferKind(): { kind: string; data: Record<string, unknown> };

  /** True after `close()`. */
  get closed(): boolean {
    return this.state.handle === 0;
  }

  /** What `JSON.stringify` gives: a short description (not the segment's bytes or the kernel's memory). */
  toJSON(): { object: string; size: number; closed: boolean } {
    return { object: this.objectName, size: this.size, closed: this.closed };
  }

  /** The segment's memory (a SharedArrayBuffer). `EACCES` when mapped read-only, `EBADF` after close. */
  get buffer(): ArrayBuffer {
    if (this.closed) throw closedError(this.objectName, 'shmat');
    if (this.readOnly) {
      throw new IpcError('EACCES', { syscall: 'mmap', object: this.objectName, message: `EACCES: ${this.objectName} is mapped read-only and has no writable buffer; use read()` });
    }
    // Views of it may outlive the segment: its memory must never be reused (see SegmentMemory).
    memoryOf(this.kernel).expose(this.serial);
    return this.memory as unknown as ArrayBuffer;
  }

  /** A copy of `length` bytes from `offset`. `RangeError` outside the mapping, `EBADF` after close. Never blocks. */
  read(offset?: number, length?: number): Uint8Array {
    const { start, count } = checkSegmentRead(this.size, offset, length);
    if (this.closed) throw closedError(this.objectName, 'read');
    return new Uint8Array(this.memory, start, count).slice();
  }

  /** Copies `bytes` in at `offset`; the count. `RangeError` if it does not fit, `EACCES` read-only, `EBADF` after close. */
  write(bytes: Uint8Array | string, offset?: number): number {
    const { data, start } = checkSegmentWrite(this.size, bytes, offset);
    if (this.closed) throw closedError(this.objectName, 'write');
    if (this.readOnly) throw new IpcError('EACCES', { syscall: 'write', object: this.objectName, message: `EACCES: ${this.objectName} is mapped read-only` });
    new Uint8Array(this.memory, start, data.length).set(data);
    return data.length;
  }

  /**
   * The kernel's futex wait on cell `index`: `'not-equal'` at once if it does not hold `value`,
   * else `'ok'` when a `notify` wakes it or `'timed-out'`. Aborting rejects with `AbortError`,
   * closing with `EBADF`; both take the waiter out of the kernel's queue.
   */
  wait(index: number, value: number, options?: SharedWaitOptions): Promise<SharedWaitResult> {
    try {
      const { cell, timeoutMs } = checkSegmentWait(this.size, index, value, options);
      if (this.closed) throw closedError(this.objectName, 'futex');
      if (options?.signal?.aborted) throw abortErrorFor(options.signal);
      if (Atomics.load(this.cells, cell) !== value) return completedNow('not-equal');
      if (timeoutMs === 0) return completedNow('timed-out');
      return this.sleep(cell, value, options, timeoutMs);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private async sleep(cell: number, value: number, options: SharedWaitOptions | undefined, timeoutMs: number): Promise<SharedWaitResult> {
    const { kernel } = this;
    const details = { syscall: 'futex', object: this.objectName };
    const handle = this.state.handle;
    // Step 1: a waiter record, with the segment's lock held until step 2 (see shmWaitPrepare).
    // Steps 1 and 2 run in one synchronous stretch: nothing else of this thread may run (and
    // want the lock) in between. Only a busy lock is waited out, between tasks.
    let waiter = kernel.call(() => kernel.calls.shm_wait_prepare(handle, cell));
    while (waiter === -Errno.EINTR && !this.closed) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      waiter = kernel.call(() => kernel.calls.shm_wait_prepare(handle, cell));
    }
    if (this.closed) {
      if (waiter > 0) {
        kernel.calls.shm_wait_abandon(handle);
        await kernel.callAsync(() => kernel.calls.shm_wait_free(handle, waiter));
      }
      throw closedError(this.objectName, 'futex');
    }
    if (waiter < 0) throw kernelError(waiter, details);
    // Step 2, under that lock: compare, then queue or give up.
    if (Atomics.load(this.cells, cell) !== value || this.closed) {
      kernel.calls.shm_wait_abandon(handle);
      await kernel.callAsync(() => kernel.calls.shm_wait_free(handle, waiter));
      if (this.closed) throw closedError(this.objectName, 'futex');
      return 'not-equal';
    }
    kernel.calls.shm_wait_commit(handle, waiter);
    const state = (waiter + ShmLayout.WAITER_STATE) >>> 2;
    let settle!: () => void;
    const settled = new Promise<void>((resolve) => (settle = resolve));
    return new Promise<SharedWaitResult>((resolve, reject) => {
      let finished = false;
      const finish = async (reason: CancelReason | 'woken') => {
        if (finished) return;
        finished = true;
        stop();
        this.state.pendingWaits.delete(pending);
        // Out of the queue first (a notify may still get there first: then it counted us, and we were woken).
        const before = reason === 'woken' ? ShmLayout.WAITER_WOKEN : await kernel.callAsync(() => kernel.calls.shm_wait_cancel(handle, waiter));
        // Ends our own Atomics.waitAsync (nobody else sleeps on this record's cell).
        Atomics.notify(kernel.cells, state);
        await kernel.callAsync(() => kernel.calls.shm_wait_free(handle, waiter));
        settle();
        if (before === ShmLayout.WAITER_WOKEN) resolve('ok');
        else if (reason === 'timeout') resolve('timed-out');
        else reject(cancellationError(reason === 'woken' ? 'close' : reason, options, details));
      };
      const pending: PendingWait = { cancel: (reason) => void finish(reason), settled };
      this.state.pendingWaits.add(pending);
      // The kernel's timeout is a JS timer here: an expired wait leaves the queue like an aborted one.
      const stop = watchCancellation(options, timeoutMs, (reason) => void finish(reason));
      const sleepOnce = (): void => {
        if (finished) return;
        for (let i = 0; i < SPIN_LOADS; i++) {
          if (Atomics.load(kernel.cells, state) === ShmLayout.WAITER_WOKEN) return void finish('woken');
        }
        const result = Atomics.waitAsync(kernel.cells, state, ShmLayout.WAITER_WAITING);
        if (!result.async) return void (Atomics.load(kernel.cells, state) === ShmLayout.WAITER_WOKEN ? finish('woken') : sleepOnce());
        kernel.holdAlive();
        void result.value.then(() => {
          kernel.releaseAlive();
          // Re-check: the record's cell is only ever notified by a wake or by our own cancel.
          if (Atomics.load(kernel.cells, state) === ShmLayout.WAITER_WOKEN) void finish('woken');
          else sleepOnce();
        });
      };
      sleepOnce();
    });
  }

  /** `FUTEX_WAKE`: wakes up to `count` (default all) waiters of cell `index` in every thread; how many it woke. Never blocks. */
  notify(index: number, count?: number): number {
    const { cell, most } = checkSegmentNotify(this.size, index, count);
    if (this.closed) throw closedError(this.objectName, 'futex');
    if (most === 0) return 0;
    const woken = this.kernel.call(() => this.kernel.calls.shm_notify(this.state.handle, cell, Math.min(most, INT32_MAX)));
    if (woken < 0) throw kernelError(woken, { syscall: 'futex', object: this.objectName });
    return woken;
  }

  /**
   * Unmaps (`shmdt`/`munmap`): semaphores placed in the memory close first, pending waits reject
   * with `EBADF`, then the mapping leaves the kernel (a removed segment with no mapping left is
   * destroyed). The segment itself is not removed.
   */
  async close(): Promise<void> {
    await closeMapping(this.kernel, this.state, this.serial, this.tracker, this.kind === 'sysv' ? 'shmdt' : 'munmap', this.objectName);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Registers something placed in this memory, closed before the memory is unmapped. `EBADF` once closed. */
  addDependent(dependent: SegmentDependent): void {
    if (this.closed) throw closedError(this.objectName, 'attach');
    this.state.dependents.add(dependent);
  }

  /** Forgets a dependent that closed on its own. */
  removeDependent(dependent: SegmentDependent): void {
    this.state.dependents.delete(dependent);
  }

  /** The mapping travels as a handle (inherited: the child's attachment) plus the buffer itself. */
  [transferSymbol](): TransferRecord {
    if (this.closed) throw closedError(this.objectName, 'transfer');
    const { kind, data } = this.transferKind();
    memoryOf(this.kernel).expose(this.serial);
    return { kind, handles: [this.state.handle], data: { ...data, kernel: this.kernel.id, serial: this.serial, size: this.size, readOnly: this.readOnly, buffer: this.memory } };
  }
}

/** A System V segment attached by this thread. */
export class WorkerSysvSegment extends WorkerSegment implements SysvSegment {
  readonly kind = 'sysv' as const;

  /** Wraps a mapping of segment `id`. */
  constructor(mapping: Mapping, /** The segment's id (`shmid`). */ readonly id: number) {
    super(mapping, `System V segment ${id}${mapping.readOnly ? ' (read-only)' : ''}`, 'shmdt');
  }

  protected get objectName(): string {
    return `System V segment ${this.id}`;
  }

  /** `shmctl(IPC_STAT)`; works after close. `EINVAL` once the segment is gone. */
  stat(): Promise<SysvSegmentStat> {
    return statSysv(this.kernel, this.id);
  }

  /** `shmctl(IPC_RMID)`; works after close. */
  remove(): Promise<void> {
    return removeSysv(this.kernel, this.id);
  }

  protected transferKind(): { kind: string; data: Record<string, unknown> } {
    return { kind: 'sysv-segment', data: { id: this.id } };
  }
}

/** A POSIX shared-memory object mapped by this thread. */
export class WorkerPosixSegment extends WorkerSegment implements PosixSegment {
  readonly kind = 'posix' as const;

  /** Wraps a mapping of the object `name`. */
  constructor(mapping: Mapping, /** Its name. */ readonly name: string) {
    super(mapping, `POSIX segment '${name}'${mapping.readOnly ? ' (read-only)' : ''}`, 'munmap');
  }

  protected get objectName(): string {
    return `POSIX segment '${this.name}'`;
  }

  /** `shm_unlink`: removes the name; mappings stay valid. `ENOENT` if already gone. */
  unlink(): Promise<void> {
    return unlinkNamed(this.kernel, Kind.KIND_POSIX_SHM, this.name, 'shm_unlink');
  }

  protected transferKind(): { kind: string; data: Record<string, unknown> } {
    return { kind: 'posix-segment', data: { name: this.name } };
  }
}

/** An emulated file mapped by this thread (see the file's header: no host file is involved). */
export class WorkerFileMapping extends WorkerSegment implements FileMapping {
  readonly kind = 'file' as const;

  /** Wraps a mapping of the emulated file `path`. */
  constructor(mapping: Mapping, /** The file's path. */ readonly path: string) {
    super(mapping, `file mapping '${path}'${mapping.readOnly ? ' (read-only)' : ''}`, 'munmap');
  }

  protected get objectName(): string {
    return `file mapping '${this.path}'`;
  }

  protected transferKind(): { kind: string; data: Record<string, unknown> } {
    return { kind: 'file-mapping', data: { path: this.path } };
  }
}

/** Makes the mapping object for a new handle: finds the segment's buffer, or detaches again on failure. */
async function mapped<T>(kernel: Kernel, handle: number, size: number, readOnly: boolean, make: (mapping: Mapping) => T): Promise<T> {
  const serial = kernel.calls.shm_serial(handle);
  const id = kernel.calls.handle_object(handle);
  try {
    const memory = await memoryOf(kernel).acquire(id, serial, size);
    return make({ kernel, handle, serial, size, readOnly, memory });
  } catch (error) {
    await kernel.callAsync(() => kernel.calls.shm_detach(handle, Date.now(), kernel.pid));
    throw error;
  }
}

async function attachSysv(kernel: Kernel, id: number, readOnly: boolean): Promise<WorkerSysvSegment> {
  let size = 0;
  const handle = await kernel.callAsync(() => {
    const result = kernel.calls.shm_attach(id, readOnly ? 1 : 0, Date.now(), kernel.pid);
    size = kernel.calls.second_result();
    return result;
  });
  if (handle < 0) throw kernelError(handle, { syscall: 'shmat', key: id, object: `System V segment ${id}` });
  return mapped(kernel, handle, size, readOnly, (mapping) => new WorkerSysvSegment(mapping, id));
}

/** Opens (creating if asked) the POSIX object or emulated file `name` of `kind` and maps it. */
async function openNamed(kernel: Kernel, kind: number, name: string, flags: number, mode: number, size: number, syscall: string): Promise<{ handle: number; size: number }> {
  let mappedSize = 0;
  const handle = await kernel.callAsync(() => {
    const length = kernel.putString(name);
    if (length < 0) return -Errno.ENAMETOOLONG;
    const result = kernel.calls.shm_open(kind, kernel.scratch, length, flags, mode, size, Date.now(), kernel.pid);
    mappedSize = kernel.calls.second_result();
    return result;
  });
  if (handle < 0) throw kernelError(handle, { syscall, path: name });
  return { handle, size: mappedSize };
}

async function unlinkNamed(kernel: Kernel, kind: number, name: string, syscall: string): Promise<void> {
  const result = await kernel.callAsync(() => {
    const length = kernel.putString(name);
    return length < 0 ? -Errno.ENAMETOOLONG : kernel.calls.shm_unlink(kind, kernel.scratch, length);
  });
  if (result < 0) throw kernelError(result, { syscall, path: name });
  memoryOf(kernel).changed();
}

async function statSysv(kernel: Kernel, id: number): Promise<SysvSegmentStat> {
  const result = await kernel.callAsync(() => kernel.calls.shm_stat(id, kernel.scratch));
  if (result < 0) throw kernelError(result, { syscall: 'shmctl', object: `System V segment ${id}` });
  const view = new DataView(kernel.memory.buffer, kernel.scratch, ShmLayout.STAT_BYTES);
  const u32 = (at: number) => view.getUint32(at, true);
  const time = (at: number) => {
    const ms = view.getFloat64(at, true);
    return ms === 0 ? null : ms;
  };
  return {
    key: u32(ShmLayout.STAT_KEY),
    size: u32(ShmLayout.STAT_SIZE),
    attachments: view.getInt32(ShmLayout.STAT_NATTCH, true),
    creatorPid: view.getInt32(ShmLayout.STAT_CPID, true),
    lastPid: view.getInt32(ShmLayout.STAT_LPID, true),
    mode: u32(ShmLayout.STAT_MODE),
    removed: view.getInt32(ShmLayout.STAT_REMOVED, true) !== 0,
    uid: u32(ShmLayout.STAT_UID),
    gid: u32(ShmLayout.STAT_GID),
    creatorUid: u32(ShmLayout.STAT_CUID),
    creatorGid: u32(ShmLayout.STAT_CGID),
    attachTime: time(ShmLayout.STAT_ATIME),
    detachTime: time(ShmLayout.STAT_DTIME),
    changeTime: time(ShmLayout.STAT_CTIME),
  };
}

async function removeSysv(kernel: Kernel, id: number): Promise<void> {
  const result = await kernel.callAsync(() => kernel.calls.shm_remove(id, Date.now()));
  if (result < 0) throw kernelError(result, { syscall: 'shmctl', object: `System V segment ${id}` });
  memoryOf(kernel).changed();
}

/** The worker backend's {@link SharedMemory} factory. */
export class WorkerSharedMemory implements SharedMemory {
  /** A factory over `kernel`. */
  constructor(private readonly kernel: Kernel) {
    // The thread that made the kernel starts serving segment memory to the others now.
    memoryOf(kernel);
  }

  /**
   * `shmget` + `shmat`. `ENOENT` (no segment for the key, no `create`), `EEXIST`, `EACCES`,
   * `EINVAL` (size 0, above 1 GiB, or larger than the existing segment), `ENOSPC` (object table
   * full), `ENOMEM`.
   */
  async openSysv(key: number | 'private', options?: SysvSegmentOptions): Promise<SysvSegment> {
    const { key: numeric, size: bytes, create, exclusive, mode, readOnly: ro } = checkSysvSegmentOpen(key, options);
    const flags = (create ? ShmLayout.IPC_CREAT : 0) | (exclusive ? ShmLayout.IPC_EXCL : 0) | mode;
    const { kernel } = this;
    const id = await kernel.callAsync(() => kernel.calls.shm_get(numeric, Math.min(bytes, UINT32_MAX), flags, kernel.scratch, Date.now(), kernel.pid));
    if (id < 0) throw kernelError(id, { syscall: 'shmget', key: numeric >>> 0 });
    return attachSysv(kernel, id, ro);
  }

  /** `shmat` by id. `EINVAL` if there is no such segment, `EACCES` if not allowed. */
  async attachSysv(id: number, options?: { readonly readOnly?: boolean }): Promise<SysvSegment> {
    const readOnly = checkSysvSegmentAttach(id, options);
    return attachSysv(this.kernel, id, readOnly);
  }

  /** `shmctl(IPC_STAT)` by id. `EINVAL` if there is none, `EACCES` without read permission. */
  async statSysv(id: number): Promise<SysvSegmentStat> {
    return statSysv(this.kernel, checkSysvSegmentId(id));
  }

  /** `shmctl(IPC_RMID)` by id. `EINVAL` if there is none, `EPERM` if neither owner nor creator. */
  async removeSysv(id: number): Promise<void> {
    return removeSysv(this.kernel, checkSysvSegmentId(id));
  }

  /** `shm_open` + `mmap`. `ENOENT`, `EEXIST`, `EACCES`, `EINVAL` (size 0, or larger than the object without create + read-write). */
  async openPosix(name: string, options?: PosixSegmentOptions): Promise<PosixSegment> {
    const { size, create: doCreate, exclusive: doExclusive, mode: permissions, readOnly: ro } = checkPosixSegmentOpen(name, options);
    const bytes = size < 0 ? size : Math.min(size, INT32_MAX);
    const flags = (doCreate ? ShmLayout.OPEN_CREATE : 0) | (doExclusive ? ShmLayout.OPEN_EXCLUSIVE : 0) | (ro ? ShmLayout.OPEN_READ_ONLY : 0);
    const opened = await openNamed(this.kernel, Kind.KIND_POSIX_SHM, name, flags, permissions, bytes, 'shm_open');
    return mapped(this.kernel, opened.handle, opened.size, ro, (mapping) => new WorkerPosixSegment(mapping, name));
  }

  /** `shm_unlink`. `ENOENT` if missing, `EACCES` if not its owner. */
  async unlinkPosix(name: string): Promise<void> {
    return unlinkNamed(this.kernel, Kind.KIND_POSIX_SHM, checkPosixSegmentName(name), 'shm_unlink');
  }

  /**
   * Maps the emulated file `path` (see the header of this file: a namespace of byte objects in the
   * emulated kernel, not the host's files). `ENOENT` if missing without `create`, `EINVAL` for an
   * empty file or a read-only mapping past its end, `EACCES` by its mode.
   */
  async mapFile(path: string, options?: FileMappingOptions): Promise<FileMapping> {
    checkString('path', path);
    const { size, mode, create, readOnly } = checkOptions<FileMappingOptions>('options', options);
    const bytes = size === undefined ? -1 : Math.min(checkSegmentSize('options.size', size), INT32_MAX);
    const permissions = mode === undefined ? DEFAULT_MODE : checkInteger('options.mode', mode, 0, 0o7777);
    const doCreate = checkOptionalBoolean('options.create', create);
    const ro = checkOptionalBoolean('options.readOnly', readOnly);
    if (doCreate && size === undefined) throw new TypeError('options.size is required with options.create');
    const flags = (doCreate ? ShmLayout.OPEN_CREATE : 0) | (ro ? ShmLayout.OPEN_READ_ONLY : 0);
    const opened = await openNamed(this.kernel, Kind.KIND_SHM_FILE, path, flags, permissions & 0o777, bytes, 'open');
    return mapped(this.kernel, opened.handle, opened.size, ro, (mapping) => new WorkerFileMapping(mapping, path));
  }

  /**
   * Deletes the emulated file `path` (`unlink`), which only this backend has: existing mappings
   * keep working, the bytes go with the last one. `ENOENT` if missing, `EACCES` if not its owner.
   */
  async removeFile(path: string): Promise<void> {
    checkString('path', path);
    return unlinkNamed(this.kernel, Kind.KIND_SHM_FILE, path, 'unlink');
  }
}

/** Live System V segments and POSIX objects, for the leak check (emulated files are not IPC objects). */
export function segmentObjects(kernel: Kernel): string[] {
  const found: string[] = [];
  for (let id = kernel.calls.shm_next(0); id > 0; id = kernel.calls.shm_next(id)) {
    const result = kernel.call(() => kernel.calls.shm_describe(id, kernel.scratch, Layout.NAME_MAX_BYTES));
    if (result < 0) continue;
    const second = kernel.calls.second_result();
    if (second !== -1) found.push(`sysv segment key 0x${(second >>> 0).toString(16).padStart(8, '0')} id ${result}`);
    else found.push(result > 0 ? `POSIX segment '${kernel.getString(kernel.scratch, result)}'` : `POSIX segment (unlinked, object ${id})`);
  }
  return found;
}

/** A child's inherited mapping: the handle is its attachment; the buffer came along. */
function inherited<T>(kernel: Kernel, record: TransferRecord, make: (mapping: Mapping, data: Record<string, unknown>) => T): T {
  const data = record.data as { serial: number; size: number; readOnly: boolean; buffer: SharedArrayBuffer } & Record<string, unknown>;
  const handle = record.handles![0]!;
  kernel.call(() => kernel.calls.shm_inherited(handle, Date.now(), kernel.pid));
  memoryOf(kernel).adopt(data.serial, data.buffer);
  return make({ kernel, handle, serial: data.serial, size: data.size, readOnly: data.readOnly, memory: data.buffer }, data);
}

registerReviver('sysv-segment', (kernel, record) => inherited(kernel, record, (mapping, data) => new WorkerSysvSegment(mapping, data.id as number)));
registerReviver('posix-segment', (kernel, record) => inherited(kernel, record, (mapping, data) => new WorkerPosixSegment(mapping, String(data.name))));
registerReviver('file-mapping', (kernel, record) => inherited(kernel, record, (mapping, data) => new WorkerFileMapping(mapping, String(data.path))));

/** Shared memory: this file's part of the worker backend (backend.ts lists it; made over the backend's kernel). */
export const sharedMemorySlice = backendSlice('sharedMemory', ['shared-memory'], (kernel: Kernel) => new WorkerSharedMemory(kernel));
