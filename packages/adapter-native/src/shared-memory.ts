/**
 * Shared memory over real kernel objects: System V segments, POSIX objects and file mappings, each
 * an ArrayBuffer over the mapping (read-only ones are read by copy), with futex wait/notify.
 *
 * Every call here completes on the calling thread except `wait`, which checks the cell first, then
 * watches it for a short adaptive window (`SpinWindow`: a peer in a tight exchange changes it
 * within microseconds, and the hop into the event loop is saved), and only then parks: in io_uring
 * on this thread where the kernel can (`IORING_OP_FUTEX_WAIT`, one wake-up per hop: see
 * native/futex_ring.h), else on a waiter thread in `futex_waitv` (native/shared_memory.cc). The
 * addon picks; this file sees the same wait id and callback either way.
 */
import {
  Errno,
  completedNow,
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
  segmentYieldSymbol,
} from '@ipcx/core/backend';
import { constants as bufferConstants } from 'node:buffer';
import { addon, errorFromErrno, type WaitCallback } from './addon.js';
import { createFileExclusively, discardCreatedFile, openNoting, recordPath, recordPosix, recordRemoved, recordSysv } from './ledger.js';
import { track, untrack, type TrackedObject } from './registry.js';
import { registerReviver } from './revive.js';
import { spinWindow, spinYield, WOULD_BLOCK, cancellationError, watchCancellation, type CancelReason, type PendingWait } from './wait.js';

/** What the addon returns for a new mapping. `buffer` is absent for read-only mappings. */
interface Mapped {
  mapping: number;
  size: number;
  buffer?: ArrayBuffer;
  created?: boolean;
}

/** A failure of a multi-call native operation: the errno and which call failed. */
interface Failure {
  errno: number;
  syscall: string;
}

/** The functions of native/shared_memory.cc. Numbers returned are `-errno` on failure. */
interface SharedMemoryAddon {
  shmGet(key: number, size: number, flags: number): number;
  shmAttach(id: number, readOnly: boolean): Mapped | number;
  shmStat(id: number): SysvSegmentStat | number;
  shmRemove(id: number): number;
  posixShmOpen(name: string, create: boolean, exclusive: boolean, mode: number, size: number, readOnly: boolean): Mapped | Failure;
  posixShmUnlink(name: string): number;
  mapFile(path: string, create: boolean, mode: number, size: number, readOnly: boolean): Mapped | Failure;
  unmap(mapping: number, buffer?: ArrayBuffer): number;
  mappingRead(mapping: number, offset: number, length: number): Uint8Array;
  mappingWrite(mapping: number, bytes: Uint8Array, offset: number, length: number, at: number): number;
  setBufferLimit(bytes: number): void;
  mappingBroken(mapping: number): boolean;
  faultCount(): Uint32Array;
  futexWait(mapping: number, index: number, value: number, timeoutMs: number, callback: WaitCallback): number | SharedWaitResult;
  futexCancel(id: number): void;
  futexWake(mapping: number, index: number, count: number): number;
}

const native = addon as unknown as SharedMemoryAddon;

/**
 * The longest ArrayBuffer Node can make over foreign memory (2^32 bytes on Node 20). A longer
 * mapping has no `buffer` and is read and written by copy in the addon (see setBufferLimit in
 * native/shared_memory.cc: asking Node 20 for a longer one aborts the process).
 */
const BUFFER_LIMIT = bufferConstants.MAX_LENGTH;
native.setBufferLimit(BUFFER_LIMIT);

/**
 * SIGBUS faults survived in this process so far (a word the addon's handler increments; see
 * "Surviving SIGBUS" in native/shared_memory.cc). While it is 0 no mapping can be broken, and the
 * checks below cost one load.
 */
const faultsHandled = native.faultCount();

const IPC_CREAT = 0o1000;
const IPC_EXCL = 0o2000;
const { ECANCELED, EEXIST, ENOMEM } = Errno;
const DEFAULT_MODE = 0o600;

/**
 * Unmaps mappings whose segment was dropped without close(). The target is the ArrayBuffer (for a
 * writable mapping: the memory is reachable while any view of it is) or the segment (read-only:
 * its memory never leaves it except by copy). Held: the mapping id and the leak-report entry.
 */
const forgotten = new FinalizationRegistry<{ mapping: number; tracker: TrackedObject }>((held) => {
  native.unmap(held.mapping);
  untrack(held.tracker);
});

function failed(result: Failure, details: { path?: string }): IpcError {
  return errorFromErrno(-result.errno, { syscall: result.syscall, ...details });
}

interface PendingFutexWait extends PendingWait {
  readonly settled: Promise<unknown>;
}

/** What the three kinds share: the mapping, byte access, wait/notify, close. */
/** Something placed inside a segment's memory (an unnamed semaphore) that must close before it unmaps. */
export interface SegmentDependent {
  close(): Promise<void>;
}

/** A mapped segment of any kind (System V, POSIX, file). */
export abstract class NativeSegment implements SharedSegment {
  abstract readonly kind: 'sysv' | 'posix' | 'file';
  readonly size: number;
  readonly readOnly: boolean;
  /** The mapping id, 0 once closed. */
  private mapping: number;
  private readonly memory: ArrayBuffer | undefined;
  /** The Int32 cells over `memory`, for the wait's spin (absent for read-only mappings). */
  private readonly cells: Int32Array | undefined;
  private readonly waitSpin = spinWindow();
  private readonly pendingWaits = new Set<PendingFutexWait>();
  private readonly tracker: TrackedObject;
  private readonly dependents = new Set<SegmentDependent>();

  protected constructor(mapped: Mapped, readOnly: boolean, description: string) {
    this.mapping = mapped.mapping;
    this.size = mapped.size;
    this.readOnly = readOnly;
    this.memory = mapped.buffer;
    this.cells = mapped.buffer === undefined ? undefined : new Int32Array(mapped.buffer, 0, Math.floor(mapped.size / SHARED_CELL_BYTES));
    // The leak-report entry must not keep the segment alive (the registry holds it strongly),
    // or a forgotten segment would never be collected and unmapped.
    const self = new WeakRef<NativeSegment>(this);
    const mapping = mapped.mapping;
    const tracker: TrackedObject = {
      describe: () => description,
      close: async () => {
        const segment = self.deref();
        if (segment !== undefined) return segment.close();
        native.unmap(mapping);
        untrack(tracker);
      },
    };
    this.tracker = tracker;
    track(tracker, { fds: [], polls: [] });
    forgotten.register(this.memory ?? this, { mapping, tracker: this.tracker }, this);
  }

  /** Description for errors, e.g. `'System V segment 32769'`. */
  protected abstract get objectName(): string;
  /** Transfer kind and data. */
  protected abstract transferRecord(): TransferRecord;

  get closed(): boolean {
    return this.mapping === 0;
  }

  /**
   * Throws EFAULT once the mapping is broken: its object was made shorter than the mapping by
   * another process, and a SIGBUS in the lost range was survived (the range now reads as zeros).
   */
  private checkIntact(syscall: string): void {
    if (faultsHandled[0] === 0 || !native.mappingBroken(this.mapping)) return;
    throw new IpcError('EFAULT', {
      syscall,
      object: this.objectName,
      message: `EFAULT: ${this.objectName} is broken: another process made its object shorter than the ${this.size} bytes mapped here, so the pages past its new end are lost (they read as zeros and writes to them reach no other process); close it and map it again`,
    });
  }

  get buffer(): ArrayBuffer {
    if (this.closed) throw closedError(this.objectName, 'shmat');
    this.checkIntact('mmap');
    if (this.memory === undefined) {
      if (!this.readOnly) {
        throw new RangeError(`${this.objectName} is ${this.size} bytes, more than the largest ArrayBuffer Node can make over foreign memory (${BUFFER_LIMIT}); use read() and write()`);
      }
      throw new IpcError('EACCES', { syscall: 'mmap', object: this.objectName, message: `EACCES: ${this.objectName} is mapped read-only and has no writable buffer; use read()` });
    }
    return this.memory;
  }

  read(offset?: number, length?: number): Uint8Array {
    const { start, count } = checkSegmentRead(this.size, offset, length);
    if (this.closed) throw closedError(this.objectName, 'read');
    this.checkIntact('read');
    const copy = this.memory === undefined ? native.mappingRead(this.mapping, start, count) : this.copyOf(start, count);
    // The copy itself may have met the lost range (a SIGBUS survived): its bytes are not the object's.
    this.checkIntact('read');
    return copy;
  }

  /** A copy of `count` bytes of the buffer from `start`; IpcError ENOMEM when memory for it cannot be had (V8's RangeError). */
  private copyOf(start: number, count: number): Uint8Array {
    try {
      return new Uint8Array(this.memory!, start, count).slice();
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      throw errorFromErrno(-ENOMEM, { syscall: 'malloc', object: this.objectName });
    }
  }

  write(bytes: Uint8Array | string, offset?: number): number {
    const { data, start } = checkSegmentWrite(this.size, bytes, offset);
    if (this.closed) throw closedError(this.objectName, 'write');
    if (this.readOnly) {
      throw new IpcError('EACCES', { syscall: 'write', object: this.objectName, message: `EACCES: ${this.objectName} is mapped read-only` });
    }
    this.checkIntact('write');
    if (this.memory === undefined) native.mappingWrite(this.mapping, data, 0, data.length, start);
    else new Uint8Array(this.memory, start, data.length).set(data);
    // Bytes that landed on the lost range reached no other process: the write did not happen.
    this.checkIntact('write');
    return data.length;
  }

  wait(index: number, value: number, options?: SharedWaitOptions): Promise<SharedWaitResult> {
    try {
      const { cell, timeoutMs } = checkSegmentWait(this.size, index, value, options);
      if (this.closed) throw closedError(this.objectName, 'futex');
      this.checkIntact('futex');
      const signal = options?.signal;
      if (signal?.aborted) throw abortErrorFor(signal);
      // The cell is checked here first when the mapping is writable ('not-equal' only for a value
      // that differs at the call); then watched for the spin window: a change seen then is a
      // wake-up ('ok'), as it would have been had the wait slept until the peer's notify.
      const cells = this.cells;
      let startedAt = -1;
      let remainingMs = timeoutMs;
      if (cells !== undefined) {
        if (Atomics.load(cells, cell) !== value) return completedNow('not-equal');
        if (timeoutMs === 0) return completedNow('timed-out');
        startedAt = performance.now();
        if (this.waitSpin.spin(() => (Atomics.load(cells, cell) !== value ? true : WOULD_BLOCK), timeoutMs) === true) return completedNow('ok');
        if (Number.isFinite(timeoutMs)) {
          remainingMs = timeoutMs - (performance.now() - startedAt);
          if (remainingMs <= 0) return completedNow('timed-out');
        }
      }
      let reason: CancelReason | undefined;
      let id = 0;
      let stopWatching = () => {};
      let settle!: () => void;
      const pending: PendingFutexWait = {
        settled: new Promise<void>((resolve) => (settle = resolve)),
        cancel: (why) => {
          if (reason !== undefined) return;
          reason = why;
          stopWatching();
          native.futexCancel(id);
        },
      };
      return new Promise<SharedWaitResult>((resolve, reject) => {
        // The callback closes over this segment, so the segment (and its mapping) stays alive
        // while the waiter thread holds it.
        const result = native.futexWait(this.mapping, cell, value, Number.isFinite(remainingMs) ? remainingMs : -1, (errno, outcome) => {
          stopWatching();
          this.pendingWaits.delete(pending);
          if (startedAt >= 0) this.waitSpin.parked(startedAt);
          settle();
          // After the checks above, a cell that changed since is a wake-up, not 'not-equal'.
          if (errno === 0) resolve(outcome === 'not-equal' && startedAt >= 0 ? 'ok' : (outcome as SharedWaitResult));
          else if (errno === ECANCELED && reason !== undefined) reject(cancellationError(reason, options, { syscall: 'futex', object: this.objectName }));
          else reject(outcome);
        });
        if (typeof result === 'string') {
          settle();
          resolve(result === 'not-equal' && startedAt >= 0 ? 'ok' : result);
          return;
        }
        id = result;
        this.pendingWaits.add(pending);
        // The timeout is the kernel's (an absolute deadline of futex_waitv); only the signal is
        // watched here.
        stopWatching = watchCancellation(signal === undefined ? undefined : { signal }, Infinity, (why) => pending.cancel(why));
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * For a layer that spins on this segment's cells with its own policy (`@ipcx/multiprocessing`'s
   * ring): the native spins' `sched_yield`, so that a peer sharing this CPU answers within the spin.
   */
  readonly [segmentYieldSymbol] = spinYield;

  notify(index: number, count?: number): number {
    const { cell, most } = checkSegmentNotify(this.size, index, count);
    if (this.closed) throw closedError(this.objectName, 'futex');
    this.checkIntact('futex');
    // FUTEX_WAKE with 0 wakes one waiter (the kernel counts after waking); Atomics.notify wakes none.
    if (most === 0) return 0;
    const woken = native.futexWake(this.mapping, cell, most);
    if (woken < 0) throw errorFromErrno(woken, { syscall: 'futex', object: this.objectName });
    return woken;
  }

  /**
   * Cancels pending waits (they reject with EBADF), detaches the buffer and unmaps at once: a
   * waiter thread never touches the memory itself, and the kernel keeps its queued wait valid
   * without the mapping until the cancel word wakes it. Resolves once those threads are done.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    // Semaphores placed in this memory go first: their waiter threads must be out of it.
    const dependents = [...this.dependents];
    this.dependents.clear();
    await Promise.allSettled(dependents.map((dependent) => dependent.close()));
    if (this.closed) return;
    const mapping = this.mapping;
    this.mapping = 0;
    const waits = [...this.pendingWaits];
    for (const pending of waits) pending.cancel('close');
    forgotten.unregister(this);
    untrack(this.tracker);
    const result = native.unmap(mapping, this.memory);
    await Promise.all(waits.map((pending) => pending.settled));
    if (result < 0) throw errorFromErrno(result, { syscall: this.kind === 'sysv' ? 'shmdt' : 'munmap', object: this.objectName });
    // A close completes at once; a loop of map/close that never waits would never give the event
    // loop a turn, and V8 would keep every segment alive until it did (the WeakRef above holds its
    // target until the microtask queue drains: ~2.5 KiB per cycle in bench/soak.mjs). completedNow
    // gives it a turn every 10 ms of such completions.
    await completedNow(undefined);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Registers something placed in this memory, closed before the memory is unmapped. */
  addDependent(dependent: SegmentDependent): void {
    if (this.closed) throw closedError(this.objectName, 'attach');
    this.dependents.add(dependent);
  }

  /** Forgets a dependent that closed on its own. */
  removeDependent(dependent: SegmentDependent): void {
    this.dependents.delete(dependent);
  }

  [transferSymbol](): TransferRecord {
    if (this.closed) throw closedError(this.objectName, 'transfer');
    return this.transferRecord();
  }
}

/** A System V segment attached to this process. */
export class NativeSysvSegment extends NativeSegment implements SysvSegment {
  readonly kind = 'sysv' as const;

  constructor(mapped: Mapped, readonly id: number, readOnly: boolean) {
    super(mapped, readOnly, `System V segment ${id}${readOnly ? ' (read-only)' : ''}`);
  }

  protected get objectName(): string {
    return `System V segment ${this.id}`;
  }

  stat(): Promise<SysvSegmentStat> {
    return statSysv(this.id);
  }

  async remove(): Promise<void> {
    removeSysv(this.id);
  }

  protected transferRecord(): TransferRecord {
    return { kind: 'sysv-segment', data: { id: this.id, readOnly: this.readOnly } };
  }
}

/** A POSIX shared-memory object mapped into this process. */
export class NativePosixSegment extends NativeSegment implements PosixSegment {
  readonly kind = 'posix' as const;

  constructor(mapped: Mapped, readonly name: string, readOnly: boolean) {
    super(mapped, readOnly, `POSIX segment '${name}'${readOnly ? ' (read-only)' : ''}`);
  }

  protected get objectName(): string {
    return `POSIX segment '${this.name}'`;
  }

  async unlink(): Promise<void> {
    unlinkPosix(this.name);
  }

  protected transferRecord(): TransferRecord {
    return { kind: 'posix-segment', data: { name: this.name, size: this.size, readOnly: this.readOnly } };
  }
}

/** A regular file mapped shared into this process. */
export class NativeFileMapping extends NativeSegment implements FileMapping {
  readonly kind = 'file' as const;

  constructor(mapped: Mapped, readonly path: string, readOnly: boolean) {
    super(mapped, readOnly, `file mapping '${path}'${readOnly ? ' (read-only)' : ''}`);
  }

  protected get objectName(): string {
    return `file mapping '${this.path}'`;
  }

  protected transferRecord(): TransferRecord {
    return { kind: 'file-mapping', data: { path: this.path, size: this.size, readOnly: this.readOnly } };
  }
}

function attachSysvNow(id: number, readOnly: boolean): NativeSysvSegment {
  const mapped = native.shmAttach(id, readOnly);
  if (typeof mapped === 'number') throw errorFromErrno(mapped, { syscall: 'shmat', key: id, object: `System V segment ${id}` });
  return new NativeSysvSegment(mapped, id, readOnly);
}

function openPosixNow(name: string, create: boolean, exclusive: boolean, mode: number, size: number, readOnly: boolean): NativePosixSegment {
  const mapped = native.posixShmOpen(name, create, exclusive, mode, size, readOnly);
  if ('errno' in mapped) throw failed(mapped, { path: name });
  if (mapped.created === true) recordPosix('posix-segment', name);
  return new NativePosixSegment(mapped, name, readOnly);
}

function mapFileNow(path: string, create: boolean, mode: number, size: number, readOnly: boolean): NativeFileMapping {
  const mapped = native.mapFile(path, create, mode, size, readOnly);
  if ('errno' in mapped) throw failed(mapped, { path });
  return new NativeFileMapping(mapped, path, readOnly);
}

async function statSysv(id: number): Promise<SysvSegmentStat> {
  const stat = native.shmStat(id);
  if (typeof stat === 'number') throw errorFromErrno(stat, { syscall: 'shmctl', object: `System V segment ${id}` });
  return stat;
}

function removeSysv(id: number): void {
  const result = native.shmRemove(id);
  if (result < 0) throw errorFromErrno(result, { syscall: 'shmctl', object: `System V segment ${id}` });
  recordRemoved('sysv-segment', id);
}

function unlinkPosix(name: string): void {
  const result = native.posixShmUnlink(name);
  if (result < 0) throw errorFromErrno(result, { syscall: 'shm_unlink', path: name });
  recordRemoved('posix-segment', name);
}

/** The native {@link SharedMemory} factory. */
export class NativeSharedMemory implements SharedMemory {
  async openSysv(key: number | 'private', options?: SysvSegmentOptions): Promise<SysvSegment> {
    const { key: numeric, size: bytes, create, exclusive, mode, readOnly: ro } = checkSysvSegmentOpen(key, options);
    // openNoting tries the exclusive create first when asked to create, so that we know whether
    // this call made the segment: one it made and then cannot attach is removed again, never left
    // behind, and only one it made goes into the ledger.
    const flagsOf = (creating: boolean, exclusively: boolean) => (creating ? IPC_CREAT : 0) | (exclusively ? IPC_EXCL : 0) | mode;
    const { result: id, created } = openNoting(create, exclusive, (creating, exclusively) => native.shmGet(numeric, bytes, flagsOf(creating, exclusively)));
    if (id < 0) throw errorFromErrno(id, { syscall: 'shmget', key: numeric >>> 0 });
    let segment: SysvSegment;
    try {
      segment = attachSysvNow(id, ro);
    } catch (error) {
      if (created) native.shmRemove(id);
      throw error;
    }
    if (created || numeric === 0) recordSysv('sysv-segment', id, numeric);
    return segment;
  }

  async attachSysv(id: number, options?: { readonly readOnly?: boolean }): Promise<SysvSegment> {
    const readOnly = checkSysvSegmentAttach(id, options);
    return attachSysvNow(id, readOnly);
  }

  async statSysv(id: number): Promise<SysvSegmentStat> {
    return statSysv(checkSysvSegmentId(id));
  }

  async removeSysv(id: number): Promise<void> {
    removeSysv(checkSysvSegmentId(id));
  }

  async openPosix(name: string, options?: PosixSegmentOptions): Promise<PosixSegment> {
    const { size: bytes, create: doCreate, exclusive: doExclusive, mode: permissions, readOnly: ro } = checkPosixSegmentOpen(name, options);
    return openPosixNow(name, doCreate, doExclusive, permissions, bytes, ro);
  }

  async unlinkPosix(name: string): Promise<void> {
    unlinkPosix(checkPosixSegmentName(name));
  }

  async mapFile(path: string, options?: FileMappingOptions): Promise<FileMapping> {
    checkString('path', path);
    const { size, mode, create, readOnly } = checkOptions<FileMappingOptions>('options', options);
    const bytes = size === undefined ? -1 : checkSegmentSize('options.size', size);
    const permissions = mode === undefined ? DEFAULT_MODE : checkInteger('options.mode', mode, 0, 0o7777);
    const doCreate = checkOptionalBoolean('options.create', create);
    if (doCreate && size === undefined) throw new TypeError('options.size is required with options.create');
    const ro = checkOptionalBoolean('options.readOnly', readOnly);
    // Only a file this call makes goes into the ledger (ipcx clean must never delete a user's file).
    const made = doCreate && createFileExclusively(path, permissions);
    try {
      const mapping = mapFileNow(path, doCreate, permissions, bytes, ro);
      if (made) recordPath('file-mapping', path);
      return mapping;
    } catch (error) {
      if (made) discardCreatedFile(path);
      throw error;
    }
  }
}

registerReviver('sysv-segment', (record) => {
  const { id, readOnly } = record.data as { id: number; readOnly: boolean };
  return attachSysvNow(id, readOnly);
});
registerReviver('posix-segment', (record) => {
  const { name, size, readOnly } = record.data as { name: string; size: number; readOnly: boolean };
  return openPosixNow(name, false, false, 0, size, readOnly);
});
registerReviver('file-mapping', (record) => {
  const { path, size, readOnly } = record.data as { path: string; size: number; readOnly: boolean };
  return mapFileNow(path, false, 0, size, readOnly);
});

/** Shared memory: this file's part of the native backend (backend.ts lists it). */
export const sharedMemorySlice = backendSlice('sharedMemory', ['shared-memory'], () => new NativeSharedMemory());
