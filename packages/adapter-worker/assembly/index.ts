// The emulated kernel's entry points: what the TypeScript side calls (src/kernel.ts), plus the
// layout constants exported as globals. Export lists only: the logic lives in the files named.
// scripts/build-kernel.mjs reads every export of the compiled module and writes the TypeScript
// side's constants and entry-point types (src/generated/kernel.ts) from it.
//
// Conventions: every call returns a value >= 0 on success or -errno (Linux numbers); -EINTR means
// "a lock stayed taken during the bounded spin: call again later" (lock.ts says why).
import './kinds';

export { KERNEL_BASE, KERNEL_HEADER_BYTES, KERNEL_MAGIC, MIN_MEMORY_BYTES } from './kernel';
export { MIN_CLASS, KERNEL_HEADER_USED } from './alloc';
export { OWNER_BYTES, OWNERS_MAX, SCRATCH_BYTES } from './owner';
export { HANDLE_BYTES } from './handle';
export { KIND_SHM, KIND_POSIX_SHM, KIND_SHM_FILE } from './object';
export { OBJECT_BYTES, OBJ_SEQ, OBJ_RING_SEQ, OBJ_LOCK, KIND_PIPE, KIND_DUPLEX, KIND_FIFO, KIND_SEM_SET, KIND_POSIX_SEM, END_READ, END_WRITE, END_A, END_B, NAME_MAX_BYTES } from './object';
export { KIND_MSG, KIND_PMQ, END_MQ_READ, END_MQ_WRITE } from './object';
export { SPAN_BYTES, SPAN_FIRST, SPAN_FIRST_LENGTH, SPAN_SECOND, RING_FLIGHT, RING_FLIGHT_BYTES } from './ring';
export { OBJ_PARKED, OBJ_RING0, KIND_AREA_BYTES, OBJECT_INFO_BYTES } from './object';
// Where each kind's record ends in its object entry (the layout test checks they fit).
export { MSQ_RECORD_END } from './message-queue';
export { PMQ_RECORD_END } from './posix-message-queue';
export { SET_RECORD_END } from './semaphore';
export { PSEM_RECORD_END } from './posix-semaphore';
export { LOCK_FILE_RECORD_END } from './file-lock';
export { RING_BYTES, PIPE_BUF, RING_DEFAULT_CAPACITY, RING_MIN_CAPACITY, RING_MAX_CAPACITY } from './ring';
export { copyBytes as copy_bytes } from './ring';
export { DUPLEX_CAPACITY } from './pipe';
export { EINTR, EAGAIN, EPIPE, EBADF, ENOMEM, ENOSPC, ENXIO, ENOENT, EEXIST } from './errno';
export { E2BIG, EACCES, EMFILE, ENOMSG, EIDRM, EMSGSIZE, EINVAL, EPERM, ENAMETOOLONG } from './errno';
export {
  MSGMAX,
  MSGMNB,
  MSGMNI,
  MSG_HEADER_BYTES,
  MSG_RECEIVED_TYPE,
  MSG_RECEIVED_PAYLOAD,
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
  PMQ_RECEIVED_AT,
  PMQ_RECEIVED_PRIORITY,
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
export { LOCK_SPINS, LOCK_SPINS_AWAKE, LOCK_SLEEPS, lockMaySleep as lock_may_sleep } from './lock';

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
export {
  ownerCreate as owner_create,
  ownerSetIdentity as owner_set_identity,
  ownerSetPid as owner_set_pid,
  ownerStop as owner_stop,
  ownerStopDescendants as owner_stop_descendants,
  ownerNextDescendant as owner_next_descendant,
  ownerSerial as owner_serial,
} from './owner';
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
  SEM_STAT_KEY,
  SEM_STAT_NSEMS,
  SEM_STAT_MODE,
  SEM_STAT_UID,
  SEM_STAT_GID,
  SEM_STAT_CUID,
  SEM_STAT_CGID,
  SEM_STAT_OTIME,
  SEM_STAT_CTIME,
  SEM_LIST_ID,
  SEM_LIST_KEY,
  KEEP,
  semGet as sem_get,
  semOp as sem_op,
  semWaitEnd as sem_wait_end,
  semWaitCell as sem_wait_cell,
  semValueAddress as sem_value_address,
  semSizeAddress as sem_size_address,
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

export {
  staticEnd as static_end,
  kernelInit as kernel_init,
  kernelAttach as kernel_attach,
  secondResultOf as second_result,
  currentScratch as scratch,
} from './setup';
export { heapFreeBytes as heap_free_bytes } from './alloc';
export { handleObject as handle_object, handleEnd as handle_end, handleWaitCell as handle_wait_cell, ownerRelease as owner_release } from './handle';
export {
  objectNextLinked as object_next_linked,
  objectName as object_name,
  objectKind as object_kind,
  objectSerial as object_serial,
  objectsLive as objects_live,
  objectsMax as objects_max,
} from './object';

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
  CRED_PID,
  CRED_UID,
  CRED_GID,
} from './socket';
export { KIND_SOCKET, KIND_SOCKET_FILE, KIND_LOCK_FILE, KIND_EVENTFD } from './object';
export { flockOpen as flock_open, flockUnlink as flock_unlink, flockSet as flock_set, flockGet as flock_get, flockRecords as flock_records, LOCK_RECORD_BYTES, LOCK_SHARED, LOCK_EXCLUSIVE, LOCK_UNLOCK, LOCK_QUERY_TYPE, LOCK_QUERY_START, LOCK_QUERY_END, LOCK_QUERY_BYTES } from './file-lock';
export { ownerGrowScratch as owner_grow_scratch } from './owner';
export { efdCreate as efd_create, efdRead as efd_read, efdLastRead as efd_last_read, efdWrite as efd_write, efdSemaphore as efd_semaphore, efdParkedCell as efd_parked_cell, efdWaitCell as efd_wait_cell, EFD_RECORD_END } from './eventfd';
export { EMSGSIZE, EPROTOTYPE, EADDRINUSE, ECONNREFUSED, ENOTCONN } from './errno';
