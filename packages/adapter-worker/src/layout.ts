/**
 * The kernel's constants as the TypeScript side uses them, grouped by what uses them. The values
 * are not typed here: they come from `./generated/kernel.ts`, which scripts/build-kernel.mjs writes
 * from the compiled module (the AssemblyScript records are `@unmanaged` classes whose offsets the
 * compiler owns). test/kernel.test.ts checks the generated file against the shipped module. The
 * memory map and every record's box diagram are drawn next to their code in `assembly/`
 * (kernel.ts, alloc.ts, owner.ts, handle.ts, object.ts, ring.ts); in short:
 *
 * ```
 *   0          KERNEL_BASE
 *   ├──────────┼────────┬────────┬─────────┬─────────┬──────────────────────────────┐
 *   │ AS data  │ header │ owners │ handles │ objects │ heap: rings, names, scratch   │
 *   └──────────┴────────┴────────┴─────────┴─────────┴──────────────────────────────┘
 * ```
 *
 * TypeScript reads one thing directly from memory: an object's wait cell (`OBJ_SEQ` inside its
 * entry; `OBJ_RING_SEQ` for pipes, duplex pipes and FIFOs, assembly/object.ts says why), whose
 * address `handle_wait_cell` returns. Everything else goes through entry points.
 */
import { KernelConstants } from './generated/kernel.js';

type Constants = typeof KernelConstants;

/** The named constants of the compiled kernel, as one group. */
function pick<const Names extends readonly (keyof Constants)[]>(...names: Names): { readonly [N in Names[number]]: Constants[N] } {
  return Object.fromEntries(names.map((name) => [name, KernelConstants[name]])) as { readonly [N in Names[number]]: Constants[N] };
}

export const Layout = pick(
  'KERNEL_BASE', 'KERNEL_HEADER_BYTES', 'KERNEL_MAGIC', 'MIN_MEMORY_BYTES', 'MIN_CLASS', 'OWNER_BYTES',
  'OWNERS_MAX', 'HANDLE_BYTES', 'OBJECT_BYTES', 'OBJ_SEQ', 'OBJ_RING_SEQ', 'OBJ_PARKED', 'RING_BYTES', 'NAME_MAX_BYTES',
  'SCRATCH_BYTES',
);

/** Object kinds (object entry `kind`). */
export const Kind = pick(
  'KIND_PIPE', 'KIND_DUPLEX', 'KIND_FIFO', 'KIND_MSG', 'KIND_PMQ', 'KIND_SEM_SET', 'KIND_POSIX_SEM',
  'KIND_SOCKET', 'KIND_SOCKET_FILE', 'KIND_LOCK_FILE', 'KIND_EVENTFD', 'KIND_SHM', 'KIND_POSIX_SHM', 'KIND_SHM_FILE',
);

/**
 * Shared memory (assembly/shared-memory.ts draws the segment and waiter records): mapping ends,
 * `shm_get`/`shm_open` flags, the futex waiter's state cell (the one word TypeScript sleeps on),
 * and the `shm_stat` record that `shm_stat` writes into the scratch buffer.
 */
export const ShmLayout = pick(
  'SEG_BYTES', 'WAITER_BYTES', 'WAITER_STATE', 'WAITER_WAITING', 'WAITER_WOKEN', 'WAITER_CANCELLED',
  'END_SEG_RW', 'END_SEG_RO', 'END_SEG_ATTACHED', 'SHM_MAX_BYTES', 'IPC_CREAT', 'IPC_EXCL', 'OPEN_CREATE',
  'OPEN_EXCLUSIVE', 'OPEN_READ_ONLY', 'STAT_BYTES', 'STAT_KEY', 'STAT_SIZE', 'STAT_NATTCH', 'STAT_CPID',
  'STAT_LPID', 'STAT_MODE', 'STAT_REMOVED', 'STAT_UID', 'STAT_GID', 'STAT_CUID', 'STAT_CGID', 'STAT_ATIME',
  'STAT_DTIME', 'STAT_CTIME',
);

/**
 * Advisory file locks (assembly/file-lock.ts draws the lock record): lock types as `flock_set`
 * takes them, and the answer `flock_get` writes (type i32 at +0, start f64 at +8, end f64 at +16).
 */
export const FileLockLayout = pick(
  'LOCK_SHARED', 'LOCK_EXCLUSIVE', 'LOCK_UNLOCK', 'LOCK_RECORD_BYTES', 'LOCK_QUERY_TYPE', 'LOCK_QUERY_START',
  'LOCK_QUERY_END', 'LOCK_QUERY_BYTES',
);

/** Which end of its object a handle is. */
export const End = pick('END_READ', 'END_WRITE', 'END_A', 'END_B', 'END_SOCKET', 'END_MQ_READ', 'END_MQ_WRITE');

/**
 * Unix sockets (assembly/socket.ts, where the socket record, message blocks and the receive
 * metadata are drawn). TypeScript reads the metadata that `socket_recv` writes at the start of the
 * scratch buffer:
 *
 * ```
 *   +0 message length │ +4 flags │ +8 from length │ +12 rights count │ +16 from [112] │ +128 rights [253]
 * ```
 */
export const SocketLayout = pick(
  'CRED_PID', 'CRED_UID', 'CRED_GID', 'SOCKET_BYTES', 'SOCKET_META_BYTES', 'META_LENGTH', 'META_FLAGS',
  'META_FROM_LEN', 'META_RIGHTS', 'META_FROM', 'META_RIGHTS_AT', 'RECV_EOF', 'RECV_TRUNCATED', 'RECV_RIGHTS',
  'BIND_REPLACE_STALE', 'BIND_AUTOBIND', 'SOCK_STREAM', 'SOCK_DGRAM', 'SOCK_SEQPACKET', 'SOCKET_ADDRESS_MAX',
  'SOCKET_MAX_RIGHTS', 'SOCKET_BUFFER_BYTES', 'SOCKET_MESSAGE_MAX', 'SOCKET_STREAM_CAPACITY',
);

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
export const MsgLayout = pick(
  'MSGMAX', 'MSGMNB', 'MSGMNI', 'MSG_HEADER_BYTES', 'MSG_RECEIVED_TYPE', 'MSG_RECEIVED_PAYLOAD',
  'MSG_RECEIVE_EXCEPT', 'MSG_RECEIVE_NOERROR', 'MSG_KEEP', 'MSG_STAT_KEY', 'MSG_STAT_UID', 'MSG_STAT_GID',
  'MSG_STAT_CUID', 'MSG_STAT_CGID', 'MSG_STAT_MODE', 'MSG_STAT_QBYTES', 'MSG_STAT_QNUM', 'MSG_STAT_CBYTES',
  'MSG_STAT_LSPID', 'MSG_STAT_LRPID', 'MSG_STAT_STIME', 'MSG_STAT_RTIME', 'MSG_STAT_CTIME', 'MSG_STAT_BYTES',
);

/** POSIX message queues (assembly/posix-message-queue.ts): Linux's defaults and limits, access codes, attribute fields. */
export const PmqLayout = pick(
  'PMQ_HEADER_BYTES', 'PMQ_RECEIVED_AT', 'PMQ_RECEIVED_PRIORITY', 'PMQ_MSG_DEFAULT', 'PMQ_MSGSIZE_DEFAULT',
  'PMQ_MSG_MAX', 'PMQ_MSGSIZE_MAX', 'PMQ_HARD_MSGMAX', 'PMQ_HARD_MSGSIZEMAX', 'PMQ_QUEUES_MAX',
  'PMQ_NAME_MAX', 'PMQ_ACCESS_READ', 'PMQ_ACCESS_WRITE', 'PMQ_ACCESS_READWRITE', 'PMQ_ATTR_MAXMSG',
  'PMQ_ATTR_MSGSIZE', 'PMQ_ATTR_CURMSGS', 'PMQ_NOTIFY_PENDING', 'PMQ_NOTIFY_FIRED', 'PMQ_NOTIFY_REMOVED',
);

/** Byte-ring limits, as Linux has them. */
export const RingLimits = pick(
  'PIPE_BUF', 'RING_DEFAULT_CAPACITY', 'RING_MIN_CAPACITY', 'RING_MAX_CAPACITY', 'DUPLEX_CAPACITY',
);

/**
 * The span record (assembly/ring.ts) that `stream_read_begin`/`stream_write_begin` write at the
 * start of the scratch buffer: where the bytes of a read or write are in the ring.
 *
 * ```
 *   +0 first address │ +4 first length │ +8 second address (the rest, from the ring's start)
 * ```
 */
export const RingSpan = pick('SPAN_BYTES', 'SPAN_FIRST', 'SPAN_FIRST_LENGTH', 'SPAN_SECOND');

/**
 * The errno numbers the kernel returns (negated), as the compiled kernel exports them: its
 * assembly/errno.ts is generated from packages/core/errno.tsv, as core's `Errno` is.
 */
export const KernelErrno = pick(
  'EINTR', 'EAGAIN', 'EPIPE', 'EBADF', 'ENOMEM', 'ENOSPC', 'ENXIO', 'ENOENT', 'EEXIST', 'EMSGSIZE',
  'EPROTOTYPE', 'EADDRINUSE', 'ECONNREFUSED', 'ENOTCONN', 'E2BIG', 'EACCES', 'EMFILE', 'ENOMSG', 'EIDRM',
  'EINVAL', 'EPERM', 'ENAMETOOLONG',
);

/**
 * System V semaphore sets and POSIX semaphores (assembly/semaphore.ts, assembly/posix-semaphore.ts
 * draw their records). TypeScript writes operation lists to its scratch buffer
 * (`SEM_OP_BYTES` each: i32 index, i32 delta, i32 flags) and waits on a queued call's status cell
 * (`W_STATUS` inside the waiter record whose address `sem_op` returns).
 */
export const SemaphoreLayout = pick(
  'SEMVMX', 'SEMOPM', 'SEMMSL', 'SEM_OP_BYTES', 'SEM_OP_NOWAIT', 'SEM_OP_UNDO', 'W_STATUS', 'CANCELLED',
  'STILL_WAITING', 'GET_VALUE', 'GET_NCNT', 'GET_ZCNT', 'GET_PID', 'SEM_STAT_BYTES', 'SEM_STAT_KEY',
  'SEM_STAT_NSEMS', 'SEM_STAT_MODE', 'SEM_STAT_UID', 'SEM_STAT_GID', 'SEM_STAT_CUID', 'SEM_STAT_CGID',
  'SEM_STAT_OTIME', 'SEM_STAT_CTIME', 'SEM_LIST_ID', 'SEM_LIST_KEY', 'KEEP', 'SEM_VALUE_MAX',
);

/** Default size of a kernel's memory. */
export const DEFAULT_MEMORY_BYTES = 64 * 1024 * 1024;
/** Largest kernel memory (addresses stay far from the signed 32-bit range of the entry points). */
export const MAX_MEMORY_BYTES = 1024 * 1024 * 1024;
/** A wasm page. */
export const PAGE_BYTES = 65536;
