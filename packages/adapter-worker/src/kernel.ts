/**
 * The emulated kernel as one thread sees it: the shared `WebAssembly.Memory`, this thread's
 * instance of the kernel module over it, this thread's owner id and scratch buffer, and the
 * objects this thread has open. No Node-only API here: it runs in browsers' workers as well.
 */
import { IpcError, errnoName, type IpcErrorDetails, type TransferRecord } from '@ipcx/core';
import type { CancelReason } from '@ipcx/core/backend';
import type { KernelExports } from './generated/kernel.js';
import { DEFAULT_MEMORY_BYTES, KernelErrno, Kind, Layout, PAGE_BYTES } from './layout.js';
import { pauseThread } from './wait.js';

/** The entry points of `assembly/index.ts`, generated from the compiled module (numbers in, numbers out). */
export type { KernelExports } from './generated/kernel.js';

/** An open object of this thread (for diagnostics and for closing what a child left open). */
export interface KernelObject {
  /** A short description for leak reports, e.g. `'pipe reader (handle 3, object 2)'`. */
  describe(): string;
  close(): Promise<void>;
}

/** One pending wait of an object, so that its close() can end it. */
export interface PendingWait {
  cancel(reason: CancelReason): void;
}

/** Builds an object of one kind from a record whose handles belong to this thread. */
export type Reviver = (kernel: Kernel, record: TransferRecord) => unknown;

const revivers = new Map<string, Reviver>();

/** Describes the live object `id` of one kind for leak reports, or `undefined` to leave it out. */
export type Describer = (kernel: Kernel, id: number) => string | undefined;

const describers = new Map<number, Describer>();

/**
 * Registers how {@link Kernel.namedObjects} lists objects of `kind`: every live one is offered to
 * `describer`, linked or not (a System V queue made with IPC_PRIVATE outlives its handles too).
 */
export function registerDescriber(kind: number, describer: Describer): void {
  describers.set(kind, describer);
}

/** Registers how to revive `kind` (each primitive's file registers its kinds). */
export function registerReviver(kind: string, reviver: Reviver): void {
  revivers.set(kind, reviver);
}

/** The `IpcError` for a negative kernel result. */
export function kernelError(result: number, details: IpcErrorDetails): IpcError {
  return new IpcError(errnoName(-result) as IpcError['code'], { ...details, errno: -result });
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
// A ref'd timer while any wait is pending: Atomics.waitAsync alone does not keep Node's event loop
// (or a worker's) alive, and a reader waiting for a child must not let its thread exit.
let keepAliveCount = 0;
let keepAliveTimer: ReturnType<typeof setInterval> | undefined;

/** The kernel as this thread sees it. */
/** How long a synchronous call retries a lock held by another thread before it reports EINTR. */
const SYNC_RETRY_MS = 250;
/**
 * The lock retries' sleeps (`Kernel.call`, `Kernel.callAsync`): 20 µs, doubled up to 320 µs;
 * `callAsync` falls back to timers after those (0.62 ms in all), `call` keeps sleeping 320 µs.
 */
const FIRST_PAUSE_MS = 0.02;
/** How long `Kernel.call` retries without sleeping first (the usual short hold ends within it). */
const BUSY_RETRY_MS = 1;
const LAST_PAUSE_MS = 0.32;

export class Kernel {
  /** This thread's instance's entry points. */
  readonly calls: KernelExports;
  /** The memory as 32-bit cells, for waiting on wait cells. */
  readonly cells: Int32Array;
  /** The memory as bytes, for copying to and from the scratch buffer. */
  readonly bytes: Uint8Array;
  /** This thread's scratch buffer in the kernel heap (moves when {@link Kernel.ensureScratch} grows it). */
  scratch: number;
  /** Its size in bytes. */
  scratchBytes: number = Layout.SCRATCH_BYTES;
  /** Objects this thread has open through this kernel. */
  readonly open = new Set<KernelObject>();
  // Closes the handles of objects dropped without close(), so a forgotten end cannot hold a pipe
  // open forever. Note: `open` holds every tracked object until its close (for leak reports and
  // closeAll), which keeps it reachable, so this runs only for an object no longer listed there.
  private readonly forgotten = new FinalizationRegistry<number>((handle) => {
    this.callEventually(() => this.calls.handle_close(handle));
  });
  /** Calls a finalizer could not make (the lock was busy), retried until they are made: see {@link Kernel.callEventually}. */
  private readonly deferred: Array<() => number> = [];
  private deferredTimer: ReturnType<typeof setTimeout> | undefined;
  private runningDeferred = false;

  private constructor(
    /** The compiled kernel module (posted to workers, which instantiate it again). */
    readonly module: WebAssembly.Module,
    /** The shared memory that holds the whole kernel. */
    readonly memory: WebAssembly.Memory,
    /** This thread's owner id in the kernel. */
    readonly owner: number,
    /** A random identity of this kernel, carried in transfer records so that objects of another kernel are refused. */
    readonly id: string,
    /** This thread's pid as the backend reports it (`process.pid` for the thread that made the kernel, a child's thread id), recorded by the kernel (e.g. `shm_cpid`). */
    readonly pid: number,
  ) {
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    this.calls = instance.exports as unknown as KernelExports;
    this.cells = new Int32Array(memory.buffer);
    this.bytes = new Uint8Array(memory.buffer);
    if (this.calls.kernel_attach(owner) !== 0) throw new Error(`ipcx worker kernel: cannot attach owner ${owner}`);
    this.scratch = this.calls.scratch();
  }

  /**
   * A new, empty kernel of `memoryBytes` (rounded up to whole wasm pages) run by `module` (the
   * compiled `kernel.wasm`, which each host loads its own way: `host-node.ts`, `host-browser.ts`),
   * with this thread as owner 1.
   */
  static create(module: WebAssembly.Module, memoryBytes = DEFAULT_MEMORY_BYTES): Kernel {
    const pages = Math.ceil(memoryBytes / PAGE_BYTES);
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    const setup = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as KernelExports;
    if (setup.kernel_init(pages * PAGE_BYTES) !== 0) throw new RangeError(`memoryBytes is too small for a kernel: ${memoryBytes}`);
    const owner = setup.owner_create(Layout.SCRATCH_BYTES);
    if (owner <= 0) throw kernelError(owner, { syscall: 'kernel_init' });
    const pid = (globalThis as { process?: { pid?: number } }).process?.pid ?? 1;
    // The first thread is the process itself: its pid where the host has one (Node), else 1.
    setup.owner_set_pid(owner, pid);
    return new Kernel(module, memory, owner, `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`, pid);
  }

  /** This thread's view of an existing kernel, acting for `owner` (a worker's bootstrap) whose pid is `pid`. */
  static attach(module: WebAssembly.Module, memory: WebAssembly.Memory, owner: number, id: string, pid: number): Kernel {
    return new Kernel(module, memory, owner, id, pid);
  }

  /**
   * What `JSON.stringify` gives for the kernel (and so for every object that refers to it): which
   * kernel, which owner, how big. Its views ({@link Kernel.bytes}, {@link Kernel.cells}) cover the
   * whole shared memory, which as JSON would never finish in practice.
   */
  toJSON(): { kernel: string; owner: number; pid: number; memoryBytes: number } {
    return { kernel: this.id, owner: this.owner, pid: this.pid, memoryBytes: this.memoryBytes };
  }

  /** The memory's size in bytes. */
  get memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  /**
   * Calls an entry point, retrying for a bounded time while it answers -EINTR (a lock held past the
   * bounded spin). For synchronous members only, which then report EINTR: a lock held that long
   * belongs to a terminated worker that only the event loop can reap, so spinning on would hang.
   * Asynchronous code uses {@link Kernel.callAsync}.
   */
  call(entry: () => number): number {
    if (this.deferred.length > 0) this.runDeferred();
    let result = entry();
    // The holder is usually a live thread that the host preempted in its critical section (two
    // CPUs, many workers): it finishes within a few time slices. Retry for up to SYNC_RETRY_MS.
    const deadline = result === -KernelErrno.EINTR ? performance.now() + SYNC_RETRY_MS : 0;
    // After BUSY_RETRY_MS of plain retries, this thread sleeps between tries where it may (growing
    // to LAST_PAUSE_MS): a holder that lost its CPU gets it back, where spinning on would keep it
    // from running (under load a synchronous `post` failed with EINTR after 250 ms of that).
    const sleepFrom = deadline - SYNC_RETRY_MS + BUSY_RETRY_MS;
    let pauseMs = FIRST_PAUSE_MS;
    while (result === -KernelErrno.EINTR && performance.now() < deadline) {
      if (performance.now() >= sleepFrom && pauseThread(pauseMs)) pauseMs = Math.min(LAST_PAUSE_MS, 2 * pauseMs);
      result = entry();
    }
    return result;
  }

  /** Like {@link Kernel.call}, but lets other tasks run between retries (the lock holder may need the event loop to be reaped). */
  async callAsync(entry: () => number): Promise<number> {
    // First a few short sleeps of this thread (where it may block): the holder is usually a live
    // thread that lost its CPU inside a critical section, and giving it the CPU for a moment lets
    // it finish in µs; a timer costs at least 1 ms (4 ms in a browser once timers nest). Bounded
    // (up to LAST_PAUSE_MS), then timers: a holder that needs this thread's event loop (to be reaped)
    // gets it.
    if (this.deferred.length > 0) this.runDeferred();
    let pauseMs = FIRST_PAUSE_MS;
    for (;;) {
      const result = entry();
      if (result !== -KernelErrno.EINTR) return result;
      if (pauseMs <= LAST_PAUSE_MS && pauseThread(pauseMs)) {
        pauseMs *= 2;
        continue;
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  /**
   * Makes a call that must not be dropped but cannot wait (a finalizer's close of a forgotten
   * object): now, or, while it answers -EINTR (the lock is held by another thread), again before
   * this thread's next kernel call ({@link Kernel.call}, {@link Kernel.callAsync}) and on a timer,
   * until it answers anything else. `entry` does its own follow-up work once made.
   */
  callEventually(entry: () => number): void {
    if (entry() !== -KernelErrno.EINTR) return;
    this.deferred.push(entry);
    this.scheduleDeferred();
  }

  /** Retries the deferred calls once each; those still refused stay queued. */
  private runDeferred(): void {
    if (this.runningDeferred) return;
    this.runningDeferred = true;
    try {
      for (const entry of this.deferred.splice(0)) {
        if (entry() === -KernelErrno.EINTR) this.deferred.push(entry);
      }
    } finally {
      this.runningDeferred = false;
    }
    if (this.deferred.length > 0) this.scheduleDeferred();
  }

  private scheduleDeferred(): void {
    if (this.deferredTimer !== undefined) return;
    this.deferredTimer = setTimeout(() => {
      this.deferredTimer = undefined;
      this.runDeferred();
    }, 1);
    // Not what keeps a thread alive: a thread that ends has its handles closed by its reaper.
    (this.deferredTimer as { unref?: () => void }).unref?.();
  }

  /**
   * Grows this thread's scratch buffer to at least `bytes` (a whole datagram passes through it).
   * False when the kernel's memory is full (the old buffer stays).
   */
  ensureScratch(bytes: number): boolean {
    if (bytes <= this.scratchBytes) return true;
    const size = 2 ** Math.ceil(Math.log2(bytes));
    const at = this.call(() => this.calls.owner_grow_scratch(this.owner, size));
    if (at < 0) return false;
    this.scratch = at;
    this.scratchBytes = size;
    return true;
  }

  /** Copies `text` (UTF-8) into the scratch buffer; returns its length in bytes. */
  putString(text: string): number {
    const encoded = encoder.encode(text);
    if (encoded.length > Layout.NAME_MAX_BYTES) return -1;
    this.bytes.set(encoded, this.scratch);
    return encoded.length;
  }

  /** Reads `length` bytes of UTF-8 at `at`. */
  getString(at: number, length: number): string {
    return decoder.decode(this.bytes.slice(at, at + length));
  }

  /** Records an open object; its handles are closed if it is garbage-collected without close(). */
  track(object: KernelObject, handle: number): void {
    this.open.add(object);
    this.forgotten.register(object, handle, object);
  }

  /** Records that an object was closed. */
  untrack(object: KernelObject): void {
    this.open.delete(object);
    this.forgotten.unregister(object);
  }

  /**
   * The close of an object over one handle, which the caller has already marked closed (so a
   * second close returns at once): its pending waits end first, each rejecting with `EBADF`
   * through its own cancel, then the object stops being tracked and the handle closes, which
   * releases what the handle held (locks, the object's last reference) and wakes its waiters.
   */
  async closeHandle(object: KernelObject, handle: number, pending: Set<PendingWait>): Promise<void> {
    for (const wait of [...pending]) wait.cancel('close');
    this.untrack(object);
    await this.callAsync(() => this.calls.handle_close(handle));
  }

  /** Closes every open object (a child's cleanup after its main function). */
  async closeAll(): Promise<void> {
    await Promise.allSettled([...this.open].map((object) => object.close()));
  }

  /** Revives a record whose handles belong to this thread. */
  revive(record: TransferRecord): unknown {
    const reviver = revivers.get(record.kind);
    if (reviver === undefined) throw new TypeError(`cannot revive an ipcx object of kind '${record.kind}' on the worker backend`);
    return reviver(this, record);
  }

  /** Keeps the thread alive while a wait is pending (see `keepAliveCount`). */
  holdAlive(): void {
    if (keepAliveCount++ === 0) keepAliveTimer = setInterval(() => {}, 1 << 30);
  }

  /** Undoes one {@link Kernel.holdAlive}. */
  releaseAlive(): void {
    if (--keepAliveCount === 0 && keepAliveTimer !== undefined) {
      clearInterval(keepAliveTimer);
      keepAliveTimer = undefined;
    }
  }

  /** Live named objects in the kernel: FIFO paths, socket paths and abstract socket names, POSIX semaphore names, and what registered describers list (queues). System V sets and segments are listed by their primitives. */
  namedObjects(): string[] {
    const found: string[] = [];
    if (describers.size > 0) {
      const max = this.calls.objects_max();
      for (let id = 1; id <= max; id++) {
        const describer = describers.get(this.calls.object_kind(id));
        const text = describer?.(this, id);
        if (text !== undefined) found.push(text);
      }
    }
    for (let id = this.calls.object_next_linked(0); id > 0; id = this.calls.object_next_linked(id)) {
      if (describers.has(this.calls.object_kind(id))) continue;
      const length = this.call(() => this.calls.object_name(id, this.scratch, Layout.NAME_MAX_BYTES));
      if (length <= 0) continue;
      const kind = this.calls.object_kind(id);
      if (kind === Kind.KIND_SEM_SET) continue;
      const name = this.getString(this.scratch, length);
      if (kind === Kind.KIND_FIFO) found.push(`fifo '${name}'`);
      else if (kind === Kind.KIND_SOCKET_FILE) found.push(`socket '${name}'`);
      else if (kind === Kind.KIND_SOCKET) found.push(`socket @${name.slice(1)}`);
      else if (kind === Kind.KIND_POSIX_SEM) found.push(`posix semaphore '/${name}'`);
      else if (kind === Kind.KIND_LOCK_FILE) found.push(`lock file '${name}'`);
      else found.push(`object ${id} '${name}'`);
    }
    return found;
  }
}
