/**
 * The kernel's constants as the TypeScript side uses them, mirroring `assembly/*.ts` (which export
 * them as wasm globals; test/layout.test.ts checks that both agree). The memory map and every
 * record's box diagram are drawn next to their code in `assembly/` (kernel.ts, alloc.ts, owner.ts,
 * handle.ts, object.ts, ring.ts); in short:
 *
 * ```
 *   0          KERNEL_BASE
 *   ├──────────┼────────┬────────┬─────────┬─────────┬──────────────────────────────┐
 *   │ AS data  │ header │ owners │ handles │ objects │ heap: rings, names, scratch   │
 *   └──────────┴────────┴────────┴─────────┴─────────┴──────────────────────────────┘
 * ```
 *
 * TypeScript reads one thing directly from memory: an object's wait cell (`OBJ_SEQ` inside its
 * entry), whose address `handle_wait_cell` returns. Everything else goes through entry points.
 */
export const Layout = {
  KERNEL_BASE: 65536,
  KERNEL_HEADER_BYTES: 256,
  KERNEL_MAGIC: 0x6b637069,
  MIN_MEMORY_BYTES: 256 * 1024,
  MIN_CLASS: 4,
  OWNER_BYTES: 32,
  OWNERS_MAX: 1024,
  HANDLE_BYTES: 16,
  OBJECT_BYTES: 128,
  OBJ_SEQ: 8,
  RING_BYTES: 32,
  NAME_MAX_BYTES: 4095,
  SCRATCH_BYTES: 65536,
} as const;

/** Object kinds (object entry `kind`). */
export const Kind = { KIND_PIPE: 1, KIND_DUPLEX: 2, KIND_FIFO: 3, KIND_SEM_SET: 6, KIND_POSIX_SEM: 7 } as const;

/** Which end of its object a handle is. */
export const End = { END_READ: 1, END_WRITE: 2, END_A: 4, END_B: 8 } as const;

/** Byte-ring limits, as Linux has them. */
export const RingLimits = {
  PIPE_BUF: 4096,
  RING_DEFAULT_CAPACITY: 65536,
  RING_MIN_CAPACITY: 4096,
  RING_MAX_CAPACITY: 1048576,
  DUPLEX_CAPACITY: 65536,
} as const;

/** The errno numbers the kernel returns (negated); the same as core's `Errno`. */
export const KernelErrno = {
  EINTR: 4,
  EAGAIN: 11,
  EPIPE: 32,
  EBADF: 9,
  ENOMEM: 12,
  ENOSPC: 28,
  ENXIO: 6,
  ENOENT: 2,
  EEXIST: 17,
} as const;

/**
 * System V semaphore sets and POSIX semaphores (assembly/semaphore.ts, assembly/posix-semaphore.ts
 * draw their records). TypeScript writes operation lists to its scratch buffer
 * (`SEM_OP_BYTES` each: i32 index, i32 delta, i32 flags) and waits on a queued call's status cell
 * (`W_STATUS` inside the waiter record whose address `sem_op` returns).
 */
export const SemaphoreLayout = {
  SEMVMX: 32767,
  SEMOPM: 500,
  SEMMSL: 32000,
  SEM_OP_BYTES: 12,
  SEM_OP_NOWAIT: 1,
  SEM_OP_UNDO: 2,
  W_STATUS: 16,
  CANCELLED: 1,
  STILL_WAITING: 1,
  GET_VALUE: 0,
  GET_NCNT: 1,
  GET_ZCNT: 2,
  GET_PID: 3,
  SEM_STAT_BYTES: 36,
  /** u32 0xffffffff in the kernel: "keep this field" for `sem_set_attributes`. */
  KEEP: -1,
  SEM_VALUE_MAX: 2147483647,
} as const;

/** Default size of a kernel's memory. */
export const DEFAULT_MEMORY_BYTES = 64 * 1024 * 1024;
/** Largest kernel memory (addresses stay far from the signed 32-bit range of the entry points). */
export const MAX_MEMORY_BYTES = 1024 * 1024 * 1024;
/** A wasm page. */
export const PAGE_BYTES = 65536;
