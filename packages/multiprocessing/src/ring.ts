/**
 * The shared-memory ring: the channel under Queue and the Connections `Pipe()` makes. Frames of
 * bytes in one shared segment, written by producers one at a time (under the WRITE_LOCK word) and
 * read by consumers one at a time (under READ_LOCK), with futex-style waits after a bounded spin
 * (`wait.ts`). One copy in (encoded bytes into the ring) and one copy out; no system call when
 * nobody waits. The common case is synchronous ({@link Ring.trySend}, {@link Ring.tryReceive}, which
 * decodes in place); {@link Ring.send} and {@link Ring.receive} wait, and handle values in pieces.
 *
 * Robust locks without a system call per operation: each process that uses the ring claims a
 * liveness slot once (a System V semaphore of the ring's set raised by 1 with `SEM_UNDO`, so the
 * kernel, or the worker backend's reaper, lowers it to 0 when the process ends, however it ends).
 * A lock word holds its holder's slot + 1. A waiter that finds the lock held for a while checks the
 * holder's slot: 0 means the holder died, and the waiter takes the lock over with a
 * compare-and-swap. A process claims one slot per ring however many handles of it it opens (the
 * claims are kept by ring: semaphore set id and the NONCE written at creation, since ids are reused
 * once objects are removed): a fresh one while NEXT_SLOT is below {@link RING_SLOTS}, then the slot
 * of a process that has ended, so a ring serves any number of process lifetimes, at most
 * {@link RING_SLOTS} at once. A dead process's slot is taken again only while no lock word names it
 * (a lock word naming a dead holder must keep reading as dead until a waiter takes it over), and
 * every claim is one `semop` that raises the slot only if it is 0, so two processes never share one.
 *
 * ```
 *  byte 0                                                                                                   HEADER_BYTES (256)
 *  ┌──────── line 0 (0..63): fixed at creation ──────────────────────────────────────────────────────────────────────────────┐
 *  │ MAGIC u32 │ CAPACITY u32 │ MAXSIZE u32 │ SHUTDOWN u32 │ NEXT_SLOT u32 │ NONCE u32                                       │
 *  ├──────── line 1 (64..127): written by producers ─────────────────────────────────────────────────────────────────────────┤
 *  │ TAIL u32 │ PRODUCED seq │ CONSUMER_WAITERS │ CONSUMER_ARMED seq │ PUT_VALUES u32                                        │
 *  ├──────── line 2 (128..191): written by consumers ────────────────────────────────────────────────────────────────────────┤
 *  │ HEAD u32 │ CONSUMED seq │ PRODUCER_WAITERS │ READ_LOCK u32 │ READ_LOCK_WAITERS │ PRODUCER_ARMED seq │ TAKEN_VALUES u32  │
 *  ├──────── line 3 (192..255): the write lock, task counters ───────────────────────────────────────────────────────────────┤
 *  │ WRITE_LOCK u32 │ WRITE_LOCK_WAITERS │ UNFINISHED (tasks not done) │ JOIN_WAITERS │                                      │
 *  ├──────── data: CAPACITY bytes (a power of two >= 4096) ──────────────────────────────────────────────────────────────────┤
 *  │ frame │ frame │ ...   frame = ┌ length u32 │ flags u32 ┐ payload, padded to 8                                           │
 *  └───────────────────────────────┴────────────┴───────────┴────────────────────────────────────────────────────────────────┘
 * ```
 * TAIL and HEAD count the bytes published and consumed (wrapping at 2^32). Each line is a cache
 * line, so producers and consumers do not share one. The write lock is not on the producers' line:
 * a consumer that waits for a value polls that line (TAIL, PRODUCED), so a lock taken and released
 * there pulled the line back from it twice more per value; on a line of its own the lock stays in
 * the producer's cache (`native.mp-queue.pingpong` min 5-16% faster, `.throughput` up in 4 of 4
 * alternated runs; docs/BENCHMARKS.md, session 10). It shares line 3 with the task counters, which
 * only a JoinableQueue's consumers write, once per `taskDone`. The values in the ring
 * are PUT_VALUES - TAKEN_VALUES (whole values published, taken; both wrap): each side counts on
 * its own line, so a put and a get do not both change one cell (a shared COUNT cell did, and
 * moved its cache line between the two CPUs twice per value). CONSUMER_ARMED and
 * PRODUCER_ARMED hold the highest PRODUCED / CONSUMED a reader / writer parked on: a publisher
 * wakes sleepers once per burst, not once per frame (`wait.ts`). Frames start 8-aligned,
 * so a frame header never wraps; a payload may wrap around the end of the data area. A value
 * larger than a chunk (half the capacity) travels as several frames, FIRST on the first and LAST
 * on the last, while its producer keeps the write lock.
 *
 * **Plain and atomic accesses.** A cell that only a lock word's holder writes (TAIL, PUT_VALUES
 * under WRITE_LOCK; HEAD, TAKEN_VALUES under READ_LOCK) is read by the next holder with a plain
 * load: taking the lock (a compare-and-swap that reads the last holder's release store) orders it
 * after the last holder's writes. PUT_VALUES and TAKEN_VALUES are written with plain stores
 * followed by the atomic store of TAIL or HEAD, which publishes them with the frame; the other
 * side reads them with atomic loads. TAIL and HEAD are stored atomically: the other side waits on
 * them, and a store must come before the publisher's look at the waiters cell (`wait.ts`).
 *
 * **Crashes.** A producer killed mid-value has published only whole frames: a single-frame value
 * is either all visible or not at all (TAIL moves after the bytes are in). Of a multi-frame value
 * only some frames are visible; its consumer drops them when the next value's FIRST frame comes,
 * or when it finds the write lock free with no frame in sight (a live producer holds it for its
 * whole value: the write lock free or its holder dead). A consumer killed mid-copy has not moved
 * HEAD: the frame is read again by the next consumer. A dead process's lock is taken over by the
 * next waiter within {@link HOLDER_CHECK_MS} (see above).
 */
import { IpcError, type SemaphoreSet, type SharedSegment } from '@ipcx/core';
import { whenNotBusy } from './kernel-objects.js';
import { NO_DEADLINE, park, publish, spinFor, wake, type Deadline, type ParkCells } from './wait.js';

/** Byte offsets of the header's fields (each a 32-bit cell), as drawn above; what each holds is in the diagram. */
export const RingField = {
  MAGIC: 0,
  CAPACITY: 4,
  MAXSIZE: 8,
  SHUTDOWN: 12,
  NEXT_SLOT: 16,
  NONCE: 20,
  TAIL: 64,
  PRODUCED: 68,
  CONSUMER_WAITERS: 72,
  CONSUMER_ARMED: 76,
  PUT_VALUES: 80,
  HEAD: 128,
  CONSUMED: 132,
  PRODUCER_WAITERS: 136,
  READ_LOCK: 140,
  READ_LOCK_WAITERS: 144,
  PRODUCER_ARMED: 148,
  TAKEN_VALUES: 152,
  WRITE_LOCK: 192,
  WRITE_LOCK_WAITERS: 196,
  UNFINISHED: 200,
  JOIN_WAITERS: 204,
} as const;

/** Bytes of the header before the data area. */
export const HEADER_BYTES = 256;
/** Bytes of a frame's header (length, flags). */
export const FRAME_BYTES = 8;
/**
 * Marks a ring made by this code and names its layout: "ipx5" as ASCII (the write lock on line 3;
 * "ipx2" had it on the producers' line, the first layout, "ipcx", had one COUNT cell both sides
 * wrote; "ipx3" and "ipx4" named layouts tried in development and taken back, so they are not
 * reused). A process of another version attaching to the ring gets a TypeError instead of reading
 * cells that moved.
 */
export const RING_MAGIC = 0x69707835;
/** Smallest data capacity. */
export const MIN_CAPACITY = 4096;

/** Frame flags. */
export const FrameFlag = { FIRST: 1, LAST: 2, OBJECTS: 4, BYTES: 8 } as const;

/** Liveness slots in a ring's semaphore set: the processes that can use one ring at once. */
export const RING_SLOTS = 256;
/** How often a waiter for a held lock checks whether its holder is still alive (ms). */
export const HOLDER_CHECK_MS = 50;

const cell = (byteOffset: number): number => byteOffset / 4;

/** This process's liveness slot per ring (semaphore set id and nonce): one claim per process. */
const slotClaims = new Map<string, Promise<number>>();

/** Bytes a ring of `capacity` data bytes needs. */
export function ringBytes(capacity: number): number {
  return HEADER_BYTES + capacity;
}

/** The data capacity for a requested one: a power of two, at least 4096 bytes (`MIN_CAPACITY`). */
export function ringCapacity(requested: number): number {
  if (!Number.isInteger(requested) || requested < 1 || requested > 2 ** 30) throw new RangeError('capacity must be an integer from 1 to 2^30');
  let capacity = MIN_CAPACITY;
  while (capacity < requested) capacity *= 2;
  return capacity;
}

const pad8 = (n: number): number => (n + 7) & ~7;

/** What {@link Ring.receive} gives: the value's bytes and whether it holds objects. */
export interface RingMessage {
  /** The value's encoded bytes (this process's own copy). */
  readonly bytes: Uint8Array;
  /** True if the value holds objects to revive. */
  readonly objects: boolean;
  /** The flags of its last frame ({@link FrameFlag}: OBJECTS, BYTES as the sender gave them). */
  readonly flags: number;
}

/** Takes a frame's payload from the ring's data area (`size` bytes at `start`), during the call only. */
export type TakeAt<T> = (data: Uint8Array, start: number, size: number, flags: number) => T;

/** What the synchronous paths ({@link Ring.trySend}, {@link Ring.tryReceive}) answer when they would have to wait: nothing was done. */
export const BLOCKED: unique symbol = Symbol('blocked');

/** Raised inside the ring when an operation cannot complete now / in time; the caller maps it. */
export const RingOutcome = { wouldBlock: 'would-block', timedOut: 'timed-out', full: 'full', shutDown: 'shut-down' } as const;
/** One of {@link RingOutcome}'s values. */
export type RingOutcomeName = (typeof RingOutcome)[keyof typeof RingOutcome];

/** A ring attached in this process: the segment's views and the lock set. */
export class Ring {
  /** The header's 32-bit cells (index = {@link RingField} offset / 4). */
  readonly cells: Int32Array;
  /** Bytes of the data area (a power of two). */
  readonly capacity: number;
  /** Most whole values at once (0: no limit but the bytes). */
  readonly maxsize: number;
  private readonly data: Uint8Array;
  private readonly dataCells: Int32Array;
  private readonly mask: number;
  private readonly maxChunk: number;
  private readonly consumers: ParkCells;
  private readonly producers: ParkCells;
  private readonly joiners: ParkCells;
  private readonly writeLock: ParkCells;
  private readonly readLock: ParkCells;
  private slotClaim: Promise<number> | undefined;
  /** This process's liveness slot + 1 once claimed (what its lock words hold), else 0. */
  private me = 0;
  /** The flags of the last value {@link Ring.tryReceive} took. */
  lastFlags = 0;
  /** This process keeps the write lock between sends (a single-producer end, see {@link Ring.holdWriter}). */
  private holdsWrite = false;
  /** This process keeps the read lock between receives (a single-consumer end). */
  private holdsRead = false;

  /** Attaches to a ring that {@link Ring.initialize} wrote into `segment` (`TypeError` otherwise). */
  constructor(
    /** The shared segment holding header and data. */
    readonly segment: SharedSegment,
    /** The ring's liveness slots ({@link RING_SLOTS} semaphores). */
    readonly locks: SemaphoreSet,
  ) {
    const buffer = segment.buffer;
    this.cells = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    if (Atomics.load(this.cells, cell(RingField.MAGIC)) !== RING_MAGIC) throw new TypeError('the segment does not hold a ring of this layout (not a ring, or one made by another version of @ipcx/multiprocessing)');
    this.capacity = Atomics.load(this.cells, cell(RingField.CAPACITY));
    this.maxsize = Atomics.load(this.cells, cell(RingField.MAXSIZE));
    this.data = new Uint8Array(buffer, HEADER_BYTES, this.capacity);
    this.dataCells = new Int32Array(buffer, HEADER_BYTES, this.capacity / 4);
    this.mask = this.capacity - 1;
    this.maxChunk = this.capacity / 2 - FRAME_BYTES;
    // With an armed cell each: a burst of frames wakes a sleeping reader (writer) once (wait.ts).
    this.consumers = { segment, cells: this.cells, cell: cell(RingField.PRODUCED), waiters: cell(RingField.CONSUMER_WAITERS), armed: cell(RingField.CONSUMER_ARMED) };
    this.producers = { segment, cells: this.cells, cell: cell(RingField.CONSUMED), waiters: cell(RingField.PRODUCER_WAITERS), armed: cell(RingField.PRODUCER_ARMED) };
    this.joiners = { segment, cells: this.cells, cell: cell(RingField.UNFINISHED), waiters: cell(RingField.JOIN_WAITERS) };
    this.writeLock = { segment, cells: this.cells, cell: cell(RingField.WRITE_LOCK), waiters: cell(RingField.WRITE_LOCK_WAITERS) };
    this.readLock = { segment, cells: this.cells, cell: cell(RingField.READ_LOCK), waiters: cell(RingField.READ_LOCK_WAITERS) };
  }

  /** This process's liveness slot in the ring, claimed on first use (one `semop` with SEM_UNDO). */
  private mySlot(): Promise<number> {
    if (this.slotClaim !== undefined) return this.slotClaim;
    const key = `${this.locks.id}:${Atomics.load(this.cells, cell(RingField.NONCE))}`;
    const claimed = slotClaims.get(key);
    if (claimed !== undefined) return (this.slotClaim = claimed);
    this.slotClaim = this.claimFreeSlot();
    slotClaims.set(key, this.slotClaim);
    this.slotClaim.catch(() => slotClaims.delete(key));
    return this.slotClaim;
  }

  /**
   * Finds and claims a liveness slot: a fresh one (NEXT_SLOT) while there are, then one whose
   * process has ended (its semaphore back at 0) and that no lock word names. `ENOSPC` when
   * {@link RING_SLOTS} processes hold one.
   */
  private async claimFreeSlot(): Promise<number> {
    for (let scans = 0; ; ) {
      let candidates: number[];
      if (Atomics.load(this.cells, cell(RingField.NEXT_SLOT)) < RING_SLOTS) {
        const fresh = Atomics.add(this.cells, cell(RingField.NEXT_SLOT), 1);
        candidates = fresh < RING_SLOTS ? [fresh] : [];
      } else {
        if (scans++ === 4) break;
        // A lock word naming a dead process (slot + 1) keeps that slot out until a waiter takes the
        // lock over: were it reused, the dead holder would read as alive and the lock stay held.
        const named = [Atomics.load(this.cells, cell(RingField.WRITE_LOCK)), Atomics.load(this.cells, cell(RingField.READ_LOCK))];
        const values = await whenNotBusy(() => this.locks.values());
        candidates = [];
        for (let slot = 0; slot < RING_SLOTS; slot++) if (values[slot] === 0 && !named.includes(slot + 1)) candidates.push(slot);
        if (candidates.length === 0) break;
      }
      for (const slot of candidates) {
        // Raised only if it is 0 (one atomic semop: another claimer of the same slot gets EAGAIN),
        // with SEM_UNDO: the kernel lowers it to 0 when this process ends, however it ends.
        try {
          await this.locks.operate([{ index: slot, delta: 0 }, { index: slot, delta: 1, undo: true }], { nowait: true });
          return slot;
        } catch (error) {
          if ((error as { code?: unknown }).code !== 'EAGAIN') throw error;
        }
      }
    }
    throw new IpcError('ENOSPC', { syscall: 'semop', object: 'queue', message: `ENOSPC: ${RING_SLOTS} processes use the queue at once; no liveness slot is free` });
  }

  /** Claims this process's liveness slot now, so that the synchronous paths can take locks. */
  async claimSlot(): Promise<void> {
    if (this.me === 0) this.me = (await this.mySlot()) + 1;
  }

  /** Takes a lock word now if it is free (a compare-and-swap); false if held or no slot claimed yet. */
  private tryLock(where: ParkCells): boolean {
    return this.me !== 0 && Atomics.compareExchange(this.cells, where.cell, 0, this.me) === 0;
  }

  /** True if the lock word `held` (a holder's slot + 1) names a process that has ended. */
  private async holderDead(held: number): Promise<boolean> {
    return held !== 0 && (await whenNotBusy(() => this.locks.value(held - 1))) === 0;
  }

  /**
   * Takes a lock word: a compare-and-swap from 0 to this process's slot + 1, else a wait parked on
   * the word (released holders notify it), checking every {@link HOLDER_CHECK_MS} whether the
   * holder died (then taken over). False when the deadline passed (or `nowait` and it is held).
   */
  private async lock(where: ParkCells, deadline: Deadline, nowait: boolean): Promise<boolean> {
    await this.claimSlot();
    const me = this.me;
    const take = (): boolean => Atomics.compareExchange(this.cells, where.cell, 0, me) === 0;
    if (take()) return true;
    if (nowait) return false;
    for (;;) {
      const slice = { until: Math.min(deadline.until, performance.now() + HOLDER_CHECK_MS), signal: deadline.signal };
      if (await park(where, take, slice)) return true;
      const held = Atomics.load(this.cells, where.cell);
      if ((await this.holderDead(held)) && Atomics.compareExchange(this.cells, where.cell, held, me) === held) return true;
      if (performance.now() >= deadline.until) return false;
    }
  }

  /**
   * Takes the write lock for good: this handle is the ring's only producer (a Connection end), so
   * sends skip the lock, and the reader learns this process died when the lock's holder has.
   * False on timeout/nowait as {@link Ring.send}.
   */
  async holdWriter(deadline: Deadline): Promise<boolean> {
    if (!this.holdsWrite) this.holdsWrite = await this.lock(this.writeLock, deadline, false);
    return this.holdsWrite;
  }

  /** Takes the read lock for good: this handle is the ring's only consumer (see {@link Ring.holdWriter}). */
  async holdReader(deadline: Deadline): Promise<boolean> {
    if (!this.holdsRead) this.holdsRead = await this.lock(this.readLock, deadline, false);
    return this.holdsRead;
  }

  /** Takes the write lock for good if it is free now (never waits); true if this handle holds it. */
  async claimWriter(): Promise<boolean> {
    await this.claimSlot();
    if (!this.holdsWrite) this.holdsWrite = this.tryLock(this.writeLock);
    return this.holdsWrite;
  }

  /** Takes the read lock for good if it is free now (never waits); true if this handle holds it. */
  async claimReader(): Promise<boolean> {
    await this.claimSlot();
    if (!this.holdsRead) this.holdsRead = this.tryLock(this.readLock);
    return this.holdsRead;
  }

  /** True if this handle holds the write lock for good. */
  get holdingWriter(): boolean {
    return this.holdsWrite;
  }

  /** True if this handle holds the read lock for good. */
  get holdingReader(): boolean {
    return this.holdsRead;
  }

  /** True once a value or the end of the stream can be received without waiting. */
  readable(): boolean {
    return this.used() !== 0 || this.isShutDown();
  }

  /**
   * Waits (spin, then park) until {@link Ring.readable} or the deadline (false); never takes a
   * lock. The caller then takes the value with {@link Ring.tryReceive}, or {@link Ring.receive}.
   */
  waitNonEmpty(deadline: Deadline, spun = false): Promise<boolean> {
    return park(this.consumers, this.isReadable, deadline, spun);
  }

  /**
   * The spin of {@link Ring.waitNonEmpty} alone (synchronous): true once readable within the wait
   * policy's window; false: call `waitNonEmpty(deadline, true)`, which parks without spinning again.
   */
  spinNonEmpty(deadline: Deadline): boolean {
    return this.readable() || spinFor(this.consumers, this.isReadable, deadline);
  }

  private readonly isReadable = (): boolean => this.readable();

  /**
   * Waits until {@link Ring.readable} or the deadline; with a held writer, also ends (true) when
   * that writer's process has died, since then nothing more will come.
   */
  async waitReadable(deadline: Deadline): Promise<boolean> {
    for (;;) {
      const slice = { until: Math.min(deadline.until, performance.now() + HOLDER_CHECK_MS), signal: deadline.signal };
      if (await park(this.consumers, () => this.readable(), slice)) return true;
      if (await this.writerDied()) return true;
      if (performance.now() >= deadline.until) return false;
    }
  }

  /** True when the write lock is held by a process that has ended. */
  async writerDied(): Promise<boolean> {
    return this.holderDead(Atomics.load(this.cells, cell(RingField.WRITE_LOCK)));
  }

  /** Frees a lock word and wakes one waiter, if any parked. */
  private unlock(where: ParkCells): void {
    // Store before looking at the waiters: a waiter that counted itself in after this sees 0.
    Atomics.store(this.cells, where.cell, 0);
    wake(where, 1);
  }

  /** Writes the header of a new ring into `segment` (zeroed memory; `locks` has {@link RING_SLOTS} semaphores at 0). */
  static initialize(segment: SharedSegment, locks: SemaphoreSet, capacity: number, maxsize: number): Ring {
    const cells = new Int32Array(segment.buffer, 0, HEADER_BYTES / 4);
    Atomics.store(cells, cell(RingField.CAPACITY), capacity);
    Atomics.store(cells, cell(RingField.MAXSIZE), maxsize);
    Atomics.store(cells, cell(RingField.NONCE), (Math.random() * 2 ** 31) | 0);
    // MAGIC last: a ring is usable once it is there.
    Atomics.store(cells, cell(RingField.MAGIC), RING_MAGIC);
    return new Ring(segment, locks);
  }

  private load(field: number): number {
    return Atomics.load(this.cells, cell(field));
  }

  /** Whole values in the ring now (approximate while others put and get). */
  count(): number {
    // TAKEN first: PUT_VALUES only grows and was at least TAKEN when TAKEN was. At least 0 all the
    // same: a consumer killed between counting a value taken and freeing it counts it twice.
    const taken = this.load(RingField.TAKEN_VALUES);
    return Math.max(0, (this.load(RingField.PUT_VALUES) - taken) | 0);
  }

  /**
   * True if a producer (holding the write lock) may add a value under `maxsize`. Uses the
   * TAKEN_VALUES this handle saw last when that already leaves a slot (TAKEN only grows, so the
   * count it gives is at least the real one), else loads the consumers' line: a producer that
   * keeps ahead of its consumer does not pull that line over per value. A difference below 0 is a
   * seen TAKEN more than 2^31 values old: loaded again.
   */
  private hasSlot(): boolean {
    const put = this.cells[cell(RingField.PUT_VALUES)];
    const seen = (put - this.takenSeen) | 0;
    if (seen >= 0 && seen < this.maxsize) return true;
    this.takenSeen = this.load(RingField.TAKEN_VALUES);
    return ((put - this.takenSeen) | 0) < this.maxsize;
  }

  /** TAKEN_VALUES as this handle last loaded it in {@link Ring.hasSlot}. */
  private takenSeen = 0;

  /** True once {@link Ring.shutdown} was called by any process. */
  isShutDown(): boolean {
    return this.load(RingField.SHUTDOWN) !== 0;
  }

  /** Marks the ring shut down and wakes every waiter (they re-check and see it). */
  shutdown(): void {
    Atomics.store(this.cells, cell(RingField.SHUTDOWN), 1);
    publish(this.consumers, this.consumers.cell, this.consumers.waiters);
    publish(this.producers, this.producers.cell, this.producers.waiters);
    publish(this.joiners, this.joiners.cell, this.joiners.waiters);
  }

  private used(): number {
    return (this.load(RingField.TAIL) - this.load(RingField.HEAD)) >>> 0;
  }

  /**
   * Sends a value that fits one frame now, if nothing has to wait: the write lock is free (or
   * held for good), a slot (maxsize) and the space are there. Returns `undefined` once sent,
   * {@link RingOutcome.shutDown}, or {@link BLOCKED} with nothing done (then use {@link Ring.send},
   * which waits). Synchronous, so `bytes` may be a scratch buffer reused right after.
   */
  trySend(bytes: Uint8Array, flags: number, countTask: boolean, size = bytes.length): RingOutcomeName | undefined | typeof BLOCKED {
    // Plain loads where the write lock orders them (see the file comment on plain and atomic
    // accesses); SHUTDOWN's is a look as good as an atomic one: a shutdown racing a put may
    // come before or after it either way.
    if (this.cells[cell(RingField.SHUTDOWN)] !== 0) return RingOutcome.shutDown;
    if (size > this.maxChunk) return BLOCKED;
    if (!this.holdsWrite && !this.tryLock(this.writeLock)) return BLOCKED;
    try {
      if (this.maxsize > 0 && !this.hasSlot()) return BLOCKED;
      const tail = this.cells[cell(RingField.TAIL)];
      if (!this.hasRoom(tail, FRAME_BYTES + pad8(size))) return BLOCKED;
      this.tailSeen = this.writeFrame(tail, bytes, size, FrameFlag.FIRST | FrameFlag.LAST | (flags & (FrameFlag.OBJECTS | FrameFlag.BYTES)), countTask);
      return undefined;
    } finally {
      if (!this.holdsWrite) this.unlock(this.writeLock);
    }
  }

  /**
   * True if a frame of `frame` bytes fits at `tail` now (the caller holds the write lock and loaded TAIL). HEAD is the
   * consumers' cache line, rewritten by every receive: the check first uses the HEAD this handle
   * saw last (HEAD only grows, so the room it gives is at most the real room) and loads HEAD
   * only when that is not enough, so a producer that keeps ahead of its consumer does not pull
   * the consumer's line over per value. Only while TAIL is where this handle left it: if another
   * producer wrote since, HEAD is loaded (a seen HEAD more than 2^32 bytes old would mislead).
   */
  private hasRoom(tail: number, frame: number): boolean {
    if (tail === this.tailSeen && this.capacity - ((tail - this.headSeen) >>> 0) >= frame) return true;
    this.headSeen = this.load(RingField.HEAD);
    return this.capacity - ((tail - this.headSeen) >>> 0) >= frame;
  }

  /** HEAD as this handle last loaded it in {@link Ring.hasRoom}. */
  private headSeen = 0;
  /** TAIL right after this handle's last {@link Ring.trySend} (NaN: none yet). */
  private tailSeen = Number.NaN;

  /**
   * Takes the value at the front now, if it is whole in one frame and the read lock is free (or
   * held for good): calls `take` with a view of its bytes (in the ring when the frame does not wrap,
   * valid only during the call), frees the frame and returns what `take` gave ({@link Ring.lastFlags}
   * has the frame's flags). {@link BLOCKED} with nothing done otherwise (empty, shut down, a value
   * in pieces: then use {@link Ring.receive}). If `take` throws, the frame is consumed all the same.
   * With `takeAt`, a frame that does not wrap is given to it as the data area, start and size
   * instead (no view per value).
   */
  tryReceive<T>(take: (bytes: Uint8Array, flags: number) => T, takeAt?: TakeAt<T>): T | typeof BLOCKED {
    // Plain loads of HEAD: a look before the lock (taken again under it), and under the read lock
    // (only its holders write HEAD).
    let head = this.cells[cell(RingField.HEAD)];
    if (!this.hasFrame(head)) return BLOCKED;
    if (!this.holdsRead && !this.tryLock(this.readLock)) return BLOCKED;
    try {
      // Another consumer may have taken that frame before this one took the lock.
      if (!this.holdsRead && !this.hasFrame((head = this.cells[cell(RingField.HEAD)]))) return BLOCKED;
      const at = head & this.mask;
      const size = this.dataCells[at >> 2];
      const flags = this.dataCells[(at >> 2) + 1];
      if ((flags & (FrameFlag.FIRST | FrameFlag.LAST)) !== (FrameFlag.FIRST | FrameFlag.LAST)) return BLOCKED;
      const start = (at + FRAME_BYTES) & this.mask;
      this.lastFlags = flags;
      try {
        if (start + size > this.capacity) return take(this.copyOut(start, size, this.wrapScratch(size)), flags);
        return takeAt !== undefined ? takeAt(this.data, start, size, flags) : take(this.data.subarray(start, start + size), flags);
      } finally {
        // Taken before the space is freed: a producer woken by HEAD sees the slot too.
        this.countTaken();
        // Free the space after `take` read it: a producer that loads this HEAD may overwrite it.
        this.headLeft = (head + FRAME_BYTES + pad8(size)) | 0;
        Atomics.store(this.cells, cell(RingField.HEAD), this.headLeft);
        publish(this.producers, this.producers.cell, this.producers.waiters);
      }
    } finally {
      if (!this.holdsRead) this.unlock(this.readLock);
    }
  }

  /**
   * True if a frame starts at `head` (a HEAD loaded now): TAIL is past it. Uses the TAIL this
   * handle saw last when that is already past `head` (TAIL only grows), else loads the producers'
   * line: a consumer behind its producer does not pull that line over per value. Only while HEAD
   * is where this handle's last take left it, as {@link Ring.hasRoom} does with TAIL: if another
   * consumer took since, TAIL is loaded (a seen TAIL 2^32 bytes old would mislead).
   */
  private hasFrame(head: number): boolean {
    if (head === this.headLeft && ((this.tailSeenByReader - head) | 0) > 0) return true;
    this.tailSeenByReader = this.load(RingField.TAIL);
    return this.tailSeenByReader !== head;
  }

  /** TAIL as this handle last loaded it in {@link Ring.hasFrame}. */
  private tailSeenByReader = 0;
  /** HEAD right after this handle's last {@link Ring.tryReceive} (NaN: none yet). */
  private headLeft = Number.NaN;

  /** Counts one value taken (the caller holds the read lock): TAKEN_VALUES is only written under it. */
  private countTaken(): void {
    const cells = this.cells;
    cells[cell(RingField.TAKEN_VALUES)] = (cells[cell(RingField.TAKEN_VALUES)] + 1) | 0;
  }

  /**
   * Writes one frame at `tail` (TAIL, loaded by the caller, who holds the write lock and saw the
   * space) and publishes it; returns the new TAIL.
   */
  private writeFrame(tail: number, bytes: Uint8Array, size: number, frameFlags: number, countTask: boolean): number {
    const at = tail & this.mask;
    this.dataCells[at >> 2] = size;
    this.dataCells[(at >> 2) + 1] = frameFlags;
    this.copyIn((at + FRAME_BYTES) & this.mask, bytes, size);
    if (frameFlags & FrameFlag.LAST) {
      // Counted before the frame is visible, so a consumer never counts a value taken before it
      // is counted put. Only the write lock's holder writes PUT_VALUES.
      this.cells[cell(RingField.PUT_VALUES)] = (this.cells[cell(RingField.PUT_VALUES)] + 1) | 0;
      if (countTask) Atomics.add(this.cells, cell(RingField.UNFINISHED), 1);
    }
    // Publish after the bytes: a consumer that loads this TAIL sees the whole frame.
    const next = (tail + FRAME_BYTES + pad8(size)) | 0;
    Atomics.store(this.cells, cell(RingField.TAIL), next);
    publish(this.consumers, this.consumers.cell, this.consumers.waiters);
    return next;
  }

  /**
   * Sends one value's bytes: takes the write lock, waits for a slot (maxsize) and space, writes
   * its frames and publishes each. `countTask` adds one unfinished task (JoinableQueue). Returns
   * an outcome name instead when it cannot (nothing was published then).
   */
  async send(bytes: Uint8Array, flags: number, deadline: Deadline, nowait: boolean, countTask: boolean): Promise<RingOutcomeName | undefined> {
    if (this.isShutDown()) return RingOutcome.shutDown;
    if (!this.holdsWrite && !this.tryLock(this.writeLock) && !(await this.lock(this.writeLock, deadline, nowait))) return nowait ? RingOutcome.full : RingOutcome.timedOut;
    try {
      if (this.maxsize > 0) {
        const slot = (): boolean => this.count() < this.maxsize || this.isShutDown();
        if (nowait ? !slot() : !(await park(this.producers, slot, deadline))) return nowait ? RingOutcome.full : RingOutcome.timedOut;
        if (this.isShutDown()) return RingOutcome.shutDown;
      }
      let offset = 0;
      let first = true;
      do {
        const size = Math.min(bytes.length - offset, this.maxChunk);
        const last = offset + size === bytes.length;
        const frame = FRAME_BYTES + pad8(size);
        const space = (): boolean => this.capacity - this.used() >= frame;
        if (!space()) {
          // Only the wait before the first frame can give up: later ones finish the value begun.
          if (first && nowait) return RingOutcome.full;
          if (!(await park(this.producers, space, first ? deadline : NO_DEADLINE))) return RingOutcome.timedOut;
        }
        this.writeFrame(this.load(RingField.TAIL), bytes.subarray(offset, offset + size), size, (first ? FrameFlag.FIRST : 0) | (last ? FrameFlag.LAST : 0) | (flags & (FrameFlag.OBJECTS | FrameFlag.BYTES)), countTask);
        offset += size;
        first = false;
      } while (offset < bytes.length);
      return undefined;
    } finally {
      if (!this.holdsWrite) this.unlock(this.writeLock);
    }
  }

  /**
   * Receives one value's bytes: takes the read lock, waits for frames, copies them out and frees
   * their space. Returns an outcome name when it cannot (nothing was consumed then).
   */
  async receive(deadline: Deadline, nowait: boolean): Promise<RingMessage | RingOutcomeName> {
    if (!this.holdsRead && !this.tryLock(this.readLock) && !(await this.lock(this.readLock, deadline, nowait))) return nowait ? RingOutcome.wouldBlock : RingOutcome.timedOut;
    try {
      let parts: Uint8Array[] | undefined;
      let total = 0;
      for (;;) {
        const available = (): boolean => this.used() !== 0 || (parts === undefined && this.isShutDown());
        if (!available()) {
          if (parts === undefined) {
            if (nowait) return RingOutcome.wouldBlock;
            if (this.holdsRead) {
              // A single-consumer end: a dead writer means the end of the stream.
              if (!(await this.waitReadable(deadline))) return RingOutcome.timedOut;
              if (!available()) return RingOutcome.shutDown;
            } else if (!(await park(this.consumers, available, deadline))) return RingOutcome.timedOut;
          } else if (!(await this.awaitRestOfValue())) {
            // The producer died mid-value: drop what it sent and wait for the next value.
            parts = undefined;
            total = 0;
            continue;
          }
        }
        if (this.used() === 0) return RingOutcome.shutDown;
        const head = this.load(RingField.HEAD);
        const at = head & this.mask;
        const size = this.dataCells[at >> 2];
        const flags = this.dataCells[(at >> 2) + 1];
        if (flags & FrameFlag.FIRST) {
          parts = [];
          total = 0;
        }
        if (parts !== undefined) {
          parts.push(this.copyOut((at + FRAME_BYTES) & this.mask, size));
          total += size;
        }
        // A frame without FIRST and no value begun is the rest of a value whose consumer died: skipped.
        const done = parts !== undefined && (flags & FrameFlag.LAST) !== 0;
        // Taken before the space is freed: a producer woken by HEAD sees the slot too.
        if (done) this.countTaken();
        // Free the space after copying out: a producer that loads this HEAD may overwrite it.
        Atomics.store(this.cells, cell(RingField.HEAD), (head + FRAME_BYTES + pad8(size)) | 0);
        publish(this.producers, this.producers.cell, this.producers.waiters);
        if (done) return { bytes: parts!.length === 1 ? parts![0] : concatAll(parts!, total), objects: (flags & FrameFlag.OBJECTS) !== 0, flags };
      }
    } finally {
      if (!this.holdsRead) this.unlock(this.readLock);
    }
  }

  /**
   * Waits for the next frame of a value begun; false when its producer is gone: the write lock
   * is free or its holder has ended, and still no frame came; or, on a single-consumer end, the
   * ring is shut down (its writer's end closed mid-value, or this end did) with no frame left.
   */
  private async awaitRestOfValue(): Promise<boolean> {
    // A Queue's shutdown by anyone lets a producer finish the value it began; a Connection end's
    // shutdown comes from a close, after which its writer sends nothing more.
    const more = (): boolean => this.used() !== 0 || (this.holdsRead && this.isShutDown());
    for (;;) {
      const until = performance.now() + 50;
      if (await park(this.consumers, more, { until })) return this.used() !== 0;
      const held = Atomics.load(this.cells, cell(RingField.WRITE_LOCK));
      if ((held === 0 || (await this.holderDead(held))) && this.used() === 0) return false;
    }
  }

  /** Resolves once every task put has been marked done (JoinableQueue). */
  async join(deadline: Deadline): Promise<boolean> {
    return park(this.joiners, () => this.load(RingField.UNFINISHED) <= 0, deadline);
  }

  /** Marks one task done; false (nothing changed) if none was unfinished. */
  taskDone(): boolean {
    for (;;) {
      const unfinished = this.load(RingField.UNFINISHED);
      if (unfinished <= 0) return false;
      if (Atomics.compareExchange(this.cells, cell(RingField.UNFINISHED), unfinished, unfinished - 1) === unfinished) {
        if (unfinished === 1) wake(this.joiners);
        return true;
      }
    }
  }

  /**
   * Copies the first `size` bytes of `bytes` to `at` (8-aligned) of the data area, wrapping at its
   * end. A small payload that does not wrap and starts 4-aligned in its buffer (the plain codec's
   * scratch) is copied 4 bytes at a time by this loop: no view of the source per value and no
   * call into the engine's copy (the bytes up to the next multiple of 4 land in the frame's padding).
   */
  private copyIn(at: number, bytes: Uint8Array, size: number): void {
    const buffer = bytes.buffer;
    if (size <= SMALL_COPY_BYTES && at + size <= this.capacity && (bytes.byteOffset & 3) === 0 && buffer.byteLength <= SMALL_COPY_BUFFER && bytes.byteOffset + ((size + 3) & ~3) <= buffer.byteLength) {
      const words = wordsOf(buffer);
      const from = bytes.byteOffset >> 2;
      const to = at >> 2;
      const dataCells = this.dataCells;
      for (let i = 0, n = (size + 3) >> 2; i < n; i++) dataCells[to + i] = words[from + i];
      return;
    }
    const first = Math.min(size, this.capacity - at);
    this.data.set(first === bytes.length ? bytes : bytes.subarray(0, first), at);
    if (first < size) this.data.set(bytes.subarray(first, size), 0);
  }

  /**
   * A buffer of this handle for a frame that wraps around the end of the data area, reused: `take`
   * gets its bytes only for the call, so a new array (and, for large frames, fresh pages of
   * memory) per wrapped frame is not needed. At most half the capacity (the largest frame).
   */
  private wrapScratch(size: number): Uint8Array {
    if (this.wrapped.length < size) this.wrapped = new Uint8Array(Math.min(this.capacity / 2, Math.max(size, this.wrapped.length * 2)));
    return this.wrapped.subarray(0, size);
  }

  private wrapped = new Uint8Array(0);

  private copyOut(at: number, size: number, out: Uint8Array = new Uint8Array(size)): Uint8Array {
    const first = Math.min(size, this.capacity - at);
    out.set(this.data.subarray(at, at + first));
    if (first < size) out.set(this.data.subarray(0, size - first), first);
    return out;
  }
}

/** Payloads up to this many bytes are copied by a loop in {@link Ring.copyIn} rather than `set`. */
const SMALL_COPY_BYTES = 512;
/** ...from buffers of at most this many bytes: {@link wordsOf} keeps a view of the last one alive. */
const SMALL_COPY_BUFFER = 65536;

let lastWordsBuffer: ArrayBufferLike | undefined;
let lastWords: Int32Array<ArrayBufferLike> = new Int32Array(0);

/** An Int32Array over all of `buffer`, kept while it is the same buffer (a codec's scratch). */
function wordsOf(buffer: ArrayBufferLike): Int32Array<ArrayBufferLike> {
  if (buffer !== lastWordsBuffer) {
    lastWordsBuffer = buffer;
    lastWords = new Int32Array(buffer, 0, buffer.byteLength >> 2);
  }
  return lastWords;
}

function concatAll(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
