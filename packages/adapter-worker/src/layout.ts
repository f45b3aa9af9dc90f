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
export const Kind = { KIND_PIPE: 1, KIND_DUPLEX: 2, KIND_FIFO: 3, KIND_MSG: 4, KIND_PMQ: 5 } as const;

/** Which end of its object a handle is. */
export const End = { END_READ: 1, END_WRITE: 2, END_A: 4, END_B: 8, END_MQ_READ: 16, END_MQ_WRITE: 32 } as const;

/**
 * System V message queues (assembly/message-queue.ts): Linux's limits, msg_receive's flags, and the
 * stat record msg_stat writes (one u32 per field, at these byte offsets):
 *
 * ```
 *   0    4    8    12   16   20   24     28   32     36    40    44    48    52    56
 *   ┌────┬────┬────┬────┬────┬────┬──────┬────┬──────┬─────┬─────┬─────┬─────┬─────┐
 *   │key │uid │gid │cuid│cgid│mode│qbytes│qnum│cbytes│lspid│lrpid│stime│rtime│ctime│
 *   └────┴────┴────┴────┴────┴────┴──────┴────┴──────┴─────┴─────┴─────┴─────┴─────┘
 * ```
 */
export const MsgLayout = {
  MSGMAX: 8192,
  MSGMNB: 16384,
  MSGMNI: 32000,
  MSG_HEADER_BYTES: 16,
  MSG_RECEIVE_EXCEPT: 1,
  MSG_RECEIVE_NOERROR: 2,
  /** "Leave unchanged" for msg_set's fields: (uid_t) -1, a u32 in the kernel. */
  MSG_KEEP: -1,
  MSG_STAT_KEY: 0,
  MSG_STAT_UID: 4,
  MSG_STAT_GID: 8,
  MSG_STAT_CUID: 12,
  MSG_STAT_CGID: 16,
  MSG_STAT_MODE: 20,
  MSG_STAT_QBYTES: 24,
  MSG_STAT_QNUM: 28,
  MSG_STAT_CBYTES: 32,
  MSG_STAT_LSPID: 36,
  MSG_STAT_LRPID: 40,
  MSG_STAT_STIME: 44,
  MSG_STAT_RTIME: 48,
  MSG_STAT_CTIME: 52,
  MSG_STAT_BYTES: 56,
} as const;

/** POSIX message queues (assembly/posix-message-queue.ts): Linux's defaults and limits, access codes, attribute fields. */
export const PmqLayout = {
  PMQ_HEADER_BYTES: 16,
  PMQ_MSG_DEFAULT: 10,
  PMQ_MSGSIZE_DEFAULT: 8192,
  PMQ_MSG_MAX: 10,
  PMQ_MSGSIZE_MAX: 8192,
  PMQ_HARD_MSGMAX: 65536,
  PMQ_HARD_MSGSIZEMAX: 16 * 1024 * 1024,
  PMQ_QUEUES_MAX: 256,
  PMQ_NAME_MAX: 255,
  PMQ_ACCESS_READ: 0,
  PMQ_ACCESS_WRITE: 1,
  PMQ_ACCESS_READWRITE: 2,
  PMQ_ATTR_MAXMSG: 0,
  PMQ_ATTR_MSGSIZE: 1,
  PMQ_ATTR_CURMSGS: 2,
} as const;

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
  E2BIG: 7,
  EACCES: 13,
  EMFILE: 24,
  ENOMSG: 42,
  EIDRM: 43,
  EMSGSIZE: 90,
  EINVAL: 22,
  EPERM: 1,
  ENAMETOOLONG: 36,
} as const;

/** Default size of a kernel's memory. */
export const DEFAULT_MEMORY_BYTES = 64 * 1024 * 1024;
/** Largest kernel memory (addresses stay far from the signed 32-bit range of the entry points). */
export const MAX_MEMORY_BYTES = 1024 * 1024 * 1024;
/** A wasm page. */
export const PAGE_BYTES = 65536;
