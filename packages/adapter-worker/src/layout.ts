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
import { Errno } from '@ipcx/core';

export const Layout = {
  KERNEL_BASE: 65536,
  KERNEL_HEADER_BYTES: 256,
  KERNEL_MAGIC: 0x6b637069,
  MIN_MEMORY_BYTES: 256 * 1024,
  MIN_CLASS: 4,
  OWNER_BYTES: 40,
  OWNERS_MAX: 1024,
  HANDLE_BYTES: 16,
  OBJECT_BYTES: 192,
  OBJ_SEQ: 8,
  OBJ_PARKED: 116,
  RING_BYTES: 32,
  NAME_MAX_BYTES: 4095,
  SCRATCH_BYTES: 65536,
} as const;

/** Object kinds (object entry `kind`). */
export const Kind = { KIND_PIPE: 1, KIND_DUPLEX: 2, KIND_FIFO: 3, KIND_MSG: 4, KIND_PMQ: 5, KIND_SEM_SET: 6, KIND_POSIX_SEM: 7, KIND_SOCKET: 8, KIND_SOCKET_FILE: 9, KIND_LOCK_FILE: 10, KIND_SHM: 20, KIND_POSIX_SHM: 21, KIND_SHM_FILE: 22 } as const;

/**
 * Shared memory (assembly/shared-memory.ts draws the segment and waiter records): mapping ends,
 * `shm_get`/`shm_open` flags, the futex waiter's state cell (the one word TypeScript sleeps on),
 * and the `shm_stat` record that `shm_stat` writes into the scratch buffer.
 */
export const ShmLayout = {
  SEG_BYTES: 80,
  WAITER_BYTES: 16,
  WAITER_STATE: 12,
  WAITER_WAITING: 0,
  WAITER_WOKEN: 1,
  WAITER_CANCELLED: 2,
  END_SEG_RW: 16,
  END_SEG_RO: 32,
  END_SEG_ATTACHED: 64,
  SHM_MAX_BYTES: 1 << 30,
  IPC_CREAT: 0o1000,
  IPC_EXCL: 0o2000,
  OPEN_CREATE: 1,
  OPEN_EXCLUSIVE: 2,
  OPEN_READ_ONLY: 4,
  STAT_BYTES: 72,
  STAT_KEY: 0,
  STAT_SIZE: 4,
  STAT_NATTCH: 8,
  STAT_CPID: 12,
  STAT_LPID: 16,
  STAT_MODE: 20,
  STAT_REMOVED: 24,
  STAT_UID: 28,
  STAT_GID: 32,
  STAT_CUID: 36,
  STAT_CGID: 40,
  STAT_ATIME: 48,
  STAT_DTIME: 56,
  STAT_CTIME: 64,
} as const;

/**
 * Advisory file locks (assembly/file-lock.ts draws the lock record): lock types as `flock_set`
 * takes them, and the answer `flock_get` writes (type i32 at +0, start f64 at +8, end f64 at +16).
 */
export const FileLockLayout = {
  LOCK_RECORD_BYTES: 32,
  LOCK_QUERY_TYPE: 0,
  LOCK_QUERY_START: 8,
  LOCK_QUERY_END: 16,
  LOCK_QUERY_BYTES: 24,
} as const;

/** Which end of its object a handle is. */
export const End = { END_READ: 1, END_WRITE: 2, END_A: 4, END_B: 8, END_SOCKET: 16, END_MQ_READ: 16, END_MQ_WRITE: 32 } as const;

/**
 * Unix sockets (assembly/socket.ts, where the socket record, message blocks and the receive
 * metadata are drawn). TypeScript reads the metadata that `socket_recv` writes at the start of the
 * scratch buffer:
 *
 * ```
 *   +0 message length │ +4 flags │ +8 from length │ +12 rights count │ +16 from [112] │ +128 rights [253]
 * ```
 */
export const SocketLayout = {
  SOCKET_BYTES: 64,
  SOCKET_META_BYTES: 1152,
  META_LENGTH: 0,
  META_FLAGS: 4,
  META_FROM_LEN: 8,
  META_RIGHTS: 12,
  META_FROM: 16,
  META_RIGHTS_AT: 128,
  RECV_EOF: 1,
  RECV_TRUNCATED: 2,
  RECV_RIGHTS: 1,
  BIND_REPLACE_STALE: 1,
  BIND_AUTOBIND: 2,
  SOCK_STREAM: 1,
  SOCK_DGRAM: 2,
  SOCK_SEQPACKET: 5,
  SOCKET_ADDRESS_MAX: 108,
  SOCKET_MAX_RIGHTS: 253,
  SOCKET_BUFFER_BYTES: 212992,
  SOCKET_MESSAGE_MAX: 212960,
  SOCKET_STREAM_CAPACITY: 262144,
} as const;

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
  PMQ_NOTIFY_PENDING: 0,
  PMQ_NOTIFY_FIRED: 1,
  PMQ_NOTIFY_REMOVED: 2,
} as const;

/** Byte-ring limits, as Linux has them. */
export const RingLimits = {
  PIPE_BUF: 4096,
  RING_DEFAULT_CAPACITY: 65536,
  RING_MIN_CAPACITY: 4096,
  RING_MAX_CAPACITY: 1048576,
  DUPLEX_CAPACITY: 65536,
} as const;

/**
 * The span record (assembly/ring.ts) that `stream_read_begin`/`stream_write_begin` write at the
 * start of the scratch buffer: where the bytes of a read or write are in the ring.
 *
 * ```
 *   +0 first address │ +4 first length │ +8 second address (the rest, from the ring's start)
 * ```
 */
export const RingSpan = {
  SPAN_BYTES: 12,
  SPAN_FIRST: 0,
  SPAN_FIRST_LENGTH: 4,
  SPAN_SECOND: 8,
} as const;

/**
 * The errno numbers the kernel returns (negated) and exports as globals, taken from core's `Errno`
 * (both come from packages/core/errno.tsv: assembly/errno.ts is generated from it).
 */
const KERNEL_ERRNO_NAMES = ['EINTR', 'EAGAIN', 'EPIPE', 'EBADF', 'ENOMEM', 'ENOSPC', 'ENXIO', 'ENOENT', 'EEXIST', 'EMSGSIZE', 'EPROTOTYPE', 'EADDRINUSE', 'ECONNREFUSED', 'ENOTCONN', 'E2BIG', 'EACCES', 'EMFILE', 'ENOMSG', 'EIDRM', 'EINVAL', 'EPERM', 'ENAMETOOLONG'] as const;
export const KernelErrno = Object.freeze(Object.fromEntries(KERNEL_ERRNO_NAMES.map((name) => [name, Errno[name]]))) as {
  readonly [Name in (typeof KERNEL_ERRNO_NAMES)[number]]: (typeof Errno)[Name];
};

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
