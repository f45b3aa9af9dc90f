// The emulated kernel's entry points: what the TypeScript side calls (src/kernel.ts), plus the
// layout constants exported as globals so a test can check that src/layout.ts agrees.
//
// Conventions: every call returns a value >= 0 on success or -errno (Linux numbers); -EINTR means
// "a lock stayed taken during the bounded spin: call again later" (lock.ts says why).
import { freeBytes, heapInit } from './alloc';
import { EBADF, EINTR, EINVAL } from './errno';
import { HANDLE_BYTES, HANDLE_END, HANDLE_OBJECT, HANDLE_OWNER, handleAt, handleRelease, ownHandle } from './handle';
import {
  HDR_HANDLES,
  HDR_HANDLES_MAX,
  HDR_LOCK,
  HDR_MAGIC,
  HDR_MEMORY_BYTES,
  HDR_OBJECTS,
  HDR_OBJECTS_MAX,
  HDR_OWNERS,
  HDR_OWNERS_MAX,
  KERNEL_BASE,
  KERNEL_HEADER_BYTES,
  KERNEL_MAGIC,
  MIN_MEMORY_BYTES,
  hdr,
  kernelLock,
  kernelUnlock,
  currentOwner,
  secondResult,
  setCurrentOwner,
} from './kernel';
import { lockBreak } from './lock';
import { FLAG_LINKED, OBJECT_BYTES, OBJ_FLAGS, OBJ_KIND, OBJ_LOCK, OBJ_NAME_LEN, OBJ_NAME_PTR, OBJ_SEQ, OBJ_SERIAL, objectAt, objectMax } from './object';
import { OWNERS_MAX, OWNER_BYTES, OWNER_SCRATCH, OWNER_SCRATCH_BYTES, ownerAt, ownerCreate, ownerFree, ownerValid } from './owner';
import { semReleaseOwner } from './semaphore';

export { KERNEL_BASE, KERNEL_HEADER_BYTES, KERNEL_MAGIC, MIN_MEMORY_BYTES } from './kernel';
export { MIN_CLASS } from './alloc';
export { OWNER_BYTES, OWNERS_MAX } from './owner';
export { HANDLE_BYTES } from './handle';
export { KIND_SHM, KIND_POSIX_SHM, KIND_SHM_FILE } from './object';
export { OBJECT_BYTES, OBJ_SEQ, KIND_PIPE, KIND_DUPLEX, KIND_FIFO, KIND_SEM_SET, KIND_POSIX_SEM, END_READ, END_WRITE, END_A, END_B, NAME_MAX_BYTES } from './object';
export { KIND_MSG, KIND_PMQ, END_MQ_READ, END_MQ_WRITE } from './object';
export { SPAN_BYTES, SPAN_FIRST, SPAN_FIRST_LENGTH, SPAN_SECOND } from './ring';
export { OBJ_PARKED } from './object';
export { RING_BYTES, PIPE_BUF, RING_DEFAULT_CAPACITY, RING_MIN_CAPACITY, RING_MAX_CAPACITY } from './ring';
export { DUPLEX_CAPACITY } from './pipe';
import { streamReleaseOwner } from './pipe';
export { EINTR, EAGAIN, EPIPE, EBADF, ENOMEM, ENOSPC, ENXIO, ENOENT, EEXIST } from './errno';
export { E2BIG, EACCES, EMFILE, ENOMSG, EIDRM, EMSGSIZE, EINVAL, EPERM, ENAMETOOLONG } from './errno';
export {
  MSGMAX,
  MSGMNB,
  MSGMNI,
  MSG_HEADER_BYTES,
  MSG_RECEIVE_EXCEPT,
  MSG_RECEIVE_NOERROR,
  MSG_KEEP,
  MSG_STAT_KEY,
  MSG_STAT_UID,
  MSG_STAT_GID,
  MSG_STAT_CUID,
  MSG_STAT_CGID,
  MSG_STAT_MODE,
  MSG_STAT_QBYTES,
  MSG_STAT_QNUM,
  MSG_STAT_CBYTES,
  MSG_STAT_LSPID,
  MSG_STAT_LRPID,
  MSG_STAT_STIME,
  MSG_STAT_RTIME,
  MSG_STAT_CTIME,
  MSG_STAT_BYTES,
} from './message-queue';
export {
  PMQ_HEADER_BYTES,
  PMQ_MSG_DEFAULT,
  PMQ_MSGSIZE_DEFAULT,
  PMQ_MSG_MAX,
  PMQ_MSGSIZE_MAX,
  PMQ_HARD_MSGMAX,
  PMQ_HARD_MSGSIZEMAX,
  PMQ_QUEUES_MAX,
  PMQ_NAME_MAX,
  PMQ_ACCESS_READ,
  PMQ_ACCESS_WRITE,
  PMQ_ACCESS_READWRITE,
  PMQ_ATTR_MAXMSG,
  PMQ_ATTR_MSGSIZE,
  PMQ_ATTR_CURMSGS,
} from './posix-message-queue';
export { LOCK_SPINS } from './lock';

export {
  pipeCreate as pipe_create,
  duplexCreate as duplex_create,
  streamRead as stream_read,
  streamWrite as stream_write,
  streamReadBegin as stream_read_begin,
  streamWriteBegin as stream_write_begin,
  streamReadEnd as stream_read_end,
  streamWriteEnd as stream_write_end,
  streamShutdown as stream_shutdown,
  pipeCapacity as pipe_capacity,
  pipeSetCapacity as pipe_set_capacity,
} from './pipe';
export { fifoCreate as fifo_create, fifoUnlink as fifo_unlink, fifoOpen as fifo_open, fifoOpenReady as fifo_open_ready } from './fifo';
export { handleClose as handle_close, handleDup as handle_dup } from './handle';
export { ownerCreate as owner_create, ownerSetIdentity as owner_set_identity, ownerSetPid as owner_set_pid, ownerStop as owner_stop } from './owner';
export {
  SEMVMX,
  SEMOPM,
  SEMMSL,
  SEM_OP_BYTES,
  SEM_OP_NOWAIT,
  SEM_OP_UNDO,
  W_STATUS,
  CANCELLED,
  STILL_WAITING,
  GET_VALUE,
  GET_NCNT,
  GET_ZCNT,
  GET_PID,
  SEM_STAT_BYTES,
  KEEP,
  semGet as sem_get,
  semOp as sem_op,
  semWaitEnd as sem_wait_end,
  semWaitCancel as sem_wait_cancel,
  semCtlGet as sem_ctl_get,
  semSetValue as sem_set_value,
  semGetAll as sem_get_all,
  semSetAll as sem_set_all,
  semStat as sem_stat,
  semSetAttributes as sem_set_attributes,
  semRemove as sem_remove,
  semList as sem_list,
} from './semaphore';
export {
  SEM_VALUE_MAX,
  psemOpen as psem_open,
  psemUnlink as psem_unlink,
  psemTryWait as psem_try_wait,
  psemPost as psem_post,
  psemValue as psem_value,
} from './posix-semaphore';
export {
  msgGet as msg_get,
  msgSend as msg_send,
  msgReceive as msg_receive,
  msgStat as msg_stat,
  msgSet as msg_set,
  msgRemove as msg_remove,
  msgWaitCell as msg_wait_cell,
  msgDescribe as msg_describe,
} from './message-queue';
export {
  pmqOpen as pmq_open,
  pmqUnlink as pmq_unlink,
  pmqSend as pmq_send,
  pmqSendBlock as pmq_send_block,
  pmqSendHeld as pmq_send_held,
  pmqReceive as pmq_receive,
  pmqRelease as pmq_release,
  pmqAttr as pmq_attr,
  pmqNotify as pmq_notify,
  pmqNotifyCancel as pmq_notify_cancel,
  pmqNotifyState as pmq_notify_state,
  PMQ_NOTIFY_PENDING,
  PMQ_NOTIFY_FIRED,
  PMQ_NOTIFY_REMOVED,
} from './posix-message-queue';
export { currentUid as current_uid, currentGid as current_gid } from './permission';
export {
  shmGet as shm_get,
  shmAttach as shm_attach,
  shmStat as shm_stat,
  shmRemove as shm_remove,
  shmOpen as shm_open,
  shmUnlink as shm_unlink,
  shmSize as shm_size,
  shmIdOf as shm_id_of,
  shmSerial as shm_serial,
  shmLiveSize as shm_live_size,
  shmInherited as shm_inherited,
  shmDetach as shm_detach,
  shmWaitPrepare as shm_wait_prepare,
  shmWaitCommit as shm_wait_commit,
  shmWaitAbandon as shm_wait_abandon,
  shmWaitCancel as shm_wait_cancel,
  shmWaitFree as shm_wait_free,
  shmNotify as shm_notify,
  shmNext as shm_next,
  shmDescribe as shm_describe,
  SEG_BYTES,
  WAITER_BYTES,
  WAITER_STATE,
  WAITER_WAITING,
  WAITER_WOKEN,
  WAITER_CANCELLED,
  END_SEG_RW,
  END_SEG_RO,
  END_SEG_ATTACHED,
  SHM_MAX_BYTES,
  IPC_CREAT,
  IPC_EXCL,
  OPEN_CREATE,
  OPEN_EXCLUSIVE,
  OPEN_READ_ONLY,
  STAT_BYTES,
  STAT_KEY,
  STAT_SIZE,
  STAT_NATTCH,
  STAT_CPID,
  STAT_LPID,
  STAT_MODE,
  STAT_REMOVED,
  STAT_UID,
  STAT_GID,
  STAT_CUID,
  STAT_CGID,
  STAT_ATIME,
  STAT_DTIME,
  STAT_CTIME,
} from './shared-memory';

/** Scratch buffer of each owner: the largest chunk one read or write call moves. */
export const SCRATCH_BYTES: u32 = 65536;

/** Where the static data of this module ends (must stay below KERNEL_BASE). */
export function static_end(): u32 {
  return <u32>__heap_base;
}

/**
 * Lays out an empty kernel over `bytes` of memory (once, by the thread that creates it): tables
 * sized from the memory, the rest is heap. 0 or -EINVAL (too small).
 */
export function kernel_init(bytes: u32): i32 {
  if (bytes < MIN_MEMORY_BYTES) return -EINVAL;
  const objects: u32 = min<u32>(max<u32>(bytes >> 13, 64), 65536);
  const handles: u32 = objects * 4;
  const owners: u32 = KERNEL_BASE + KERNEL_HEADER_BYTES;
  const handleTable: u32 = owners + OWNERS_MAX * OWNER_BYTES;
  const objectTable: u32 = (handleTable + handles * HANDLE_BYTES + 63) & ~63;
  const heap: u32 = objectTable + objects * OBJECT_BYTES;
  if (heap >= bytes) return -EINVAL;
  memory.fill(hdr(0), 0, heap - KERNEL_BASE);
  store<u32>(hdr(HDR_MEMORY_BYTES), bytes);
  store<u32>(hdr(HDR_OWNERS), owners);
  store<u32>(hdr(HDR_OWNERS_MAX), OWNERS_MAX);
  store<u32>(hdr(HDR_HANDLES), handleTable);
  store<u32>(hdr(HDR_HANDLES_MAX), handles);
  store<u32>(hdr(HDR_OBJECTS), objectTable);
  store<u32>(hdr(HDR_OBJECTS_MAX), objects);
  heapInit(heap, bytes);
  // Published last: another instance checks the magic before trusting the tables.
  atomic.store<u32>(hdr(HDR_MAGIC), KERNEL_MAGIC);
  return 0;
}

/** Makes this instance act for `owner` (its handles, its locks). 0 or -EINVAL. */
export function kernel_attach(owner: i32): i32 {
  if (atomic.load<u32>(hdr(HDR_MAGIC)) != KERNEL_MAGIC || !ownerValid(owner)) return -EINVAL;
  setCurrentOwner(owner);
  return 0;
}

/** The second result of the last call (e.g. the writer handle of `pipe_create`). */
export function second_result(): i32 {
  return secondResult;
}

/** The scratch buffer of the current owner (0 before `kernel_attach`). */
export function scratch(): u32 {
  return currentOwner == 0 ? 0 : load<u32>(ownerAt(currentOwner) + OWNER_SCRATCH);
}

/**
 * Reaps a dead owner (a worker that exited or was terminated), run by its parent: breaks the
 * locks it held, takes its semaphore calls off their queues and applies its SEM_UNDO
 * adjustments, closes its handles (readers then see EOF, writers EPIPE), frees its slot.
 * The number of handles it closed, -EINVAL, or -EINTR (call again: it resumes where it stopped).
 */
export function owner_release(owner: i32): i32 {
  if (!ownerValid(owner) || owner == currentOwner) return -EINVAL;
  lockBreak(hdr(HDR_LOCK), owner);
  const objects = objectMax();
  for (let id = 1; id <= objects; id++) lockBreak(objectAt(id) + OBJ_LOCK, owner);
  if (!kernelLock()) return -EINTR;
  // Copies it left in flight first: its handles cannot close while their ring is marked busy.
  for (let id = 1; id <= objects; id++) {
    if (!streamReleaseOwner(id, owner)) {
      kernelUnlock();
      return -EINTR;
    }
  }
  if (!semReleaseOwner(owner)) {
    kernelUnlock();
    return -EINTR;
  }
  const handles = <i32>load<u32>(hdr(HDR_HANDLES_MAX));
  let closed = 0;
  for (let h = 1; h <= handles; h++) {
    const entry = handleAt(h);
    if (load<i32>(entry + HANDLE_OWNER) != owner) continue;
    if (!handleRelease(entry)) {
      kernelUnlock();
      return -EINTR;
    }
    closed++;
  }
  ownerFree(owner);
  kernelUnlock();
  return closed;
}

/** The object id of one of the current owner's handles, or -EBADF. */
export function handle_object(handle: i32): i32 {
  const entry = ownHandle(handle);
  return entry == 0 ? -EBADF : load<i32>(entry + HANDLE_OBJECT);
}

/** The end of one of the current owner's handles, or -EBADF. */
export function handle_end(handle: i32): i32 {
  const entry = ownHandle(handle);
  return entry == 0 ? -EBADF : load<i32>(entry + HANDLE_END);
}

/** The address of the wait cell (seq) of the object behind one of the current owner's handles, or 0. */
export function handle_wait_cell(handle: i32): u32 {
  const entry = ownHandle(handle);
  return entry == 0 ? 0 : <u32>(objectAt(load<i32>(entry + HANDLE_OBJECT)) + OBJ_SEQ);
}

/** The next linked (named) object after id `after`, or 0: for listing the namespace. */
export function object_next_linked(after: i32): i32 {
  const objects = objectMax();
  for (let id = after + 1; id <= objects; id++) {
    const entry = objectAt(id);
    if (atomic.load<i32>(entry + OBJ_KIND) != 0 && (atomic.load<i32>(entry + OBJ_FLAGS) & FLAG_LINKED) != 0) return id;
  }
  return 0;
}

/** Copies the name of object `id` to `dst` (at most `max` bytes) under the kernel lock: its length, 0 if unnamed, -EINTR. */
export function object_name(id: i32, dst: usize, max: u32): i32 {
  if (id < 1 || id > objectMax()) return -EINVAL;
  if (!kernelLock()) return -EINTR;
  const entry = objectAt(id);
  const len = (load<i32>(entry + OBJ_FLAGS) & FLAG_LINKED) != 0 ? min<u32>(load<u32>(entry + OBJ_NAME_LEN), max) : 0;
  memory.copy(dst, <usize>load<u32>(entry + OBJ_NAME_PTR), len);
  kernelUnlock();
  return <i32>len;
}

/** The kind of object `id` (0 = free slot). */
export function object_kind(id: i32): i32 {
  return id < 1 || id > objectMax() ? 0 : atomic.load<i32>(objectAt(id) + OBJ_KIND);
}

/** The creation serial of object `id`. */
export function object_serial(id: i32): u32 {
  return id < 1 || id > objectMax() ? 0 : atomic.load<u32>(objectAt(id) + OBJ_SERIAL);
}

/** Live objects (any kind). */
export function objects_live(): i32 {
  const objects = objectMax();
  let live = 0;
  for (let id = 1; id <= objects; id++) if (atomic.load<i32>(objectAt(id) + OBJ_KIND) != 0) live++;
  return live;
}

/** Size of the object table. */
export function objects_max(): i32 {
  return objectMax();
}

/** Free heap bytes (free lists + untouched heap), or -EINTR. */
export function heap_free_bytes(): i32 {
  if (!kernelLock()) return -EINTR;
  const bytes = freeBytes();
  kernelUnlock();
  return <i32>min<u32>(bytes, 0x7fffffff);
}


export {
  socketCreate as socket_create,
  socketPair as socket_pair,
  socketBind as socket_bind,
  socketUnlink as socket_unlink,
  socketListen as socket_listen,
  socketConnect as socket_connect,
  socketAccept as socket_accept,
  socketSend as socket_send,
  socketRecv as socket_recv,
  socketShutdown as socket_shutdown,
  socketName as socket_name,
  socketPeerCred as socket_peer_cred,
  socketInfo as socket_info,
  socketsInFlight as sockets_in_flight,
} from './socket';
export {
  SOCKET_BYTES,
  SOCKET_META_BYTES,
  META_LENGTH,
  META_FLAGS,
  META_FROM_LEN,
  META_RIGHTS,
  META_FROM,
  META_RIGHTS_AT,
  RECV_EOF,
  RECV_TRUNCATED,
  RECV_RIGHTS,
  BIND_REPLACE_STALE,
  BIND_AUTOBIND,
  SOCK_STREAM,
  SOCK_DGRAM,
  SOCK_SEQPACKET,
  SOCKET_ADDRESS_MAX,
  SOCKET_MAX_RIGHTS,
  SOCKET_BUFFER_BYTES,
  SOCKET_MESSAGE_MAX,
  SOCKET_STREAM_CAPACITY,
  END_SOCKET,
} from './socket';
export { KIND_SOCKET, KIND_SOCKET_FILE, KIND_LOCK_FILE, KIND_EVENTFD } from './object';
export { flockOpen as flock_open, flockUnlink as flock_unlink, flockSet as flock_set, flockGet as flock_get, flockRecords as flock_records, LOCK_RECORD_BYTES, LOCK_QUERY_TYPE, LOCK_QUERY_START, LOCK_QUERY_END, LOCK_QUERY_BYTES } from './file-lock';
export { efdCreate as efd_create, efdRead as efd_read, efdLastRead as efd_last_read, efdWrite as efd_write, efdSemaphore as efd_semaphore, efdParkedCell as efd_parked_cell, efdWaitCell as efd_wait_cell } from './eventfd';
export { ownerSetPid as owner_set_pid, ownerGrowScratch as owner_grow_scratch } from './owner';
export { EMSGSIZE, EPROTOTYPE, EADDRINUSE, ECONNREFUSED, ENOTCONN } from './errno';
