// Unix domain sockets (unix(7)): stream, datagram and seqpacket endpoints, listeners with accept
// queues, socket files (bound paths), the abstract namespace, peer credentials and passing open
// handles (SCM_RIGHTS).
//
// Every socket endpoint is one object (KIND_SOCKET) whose kind-specific record lives in the heap
// (object entry + OBJ_RECORD points to it). A path a socket is bound to is an object of its own
// (KIND_SOCKET_FILE, the "inode"): it stays in the namespace after its socket is gone, as a socket
// file does, so a stale path answers ECONNREFUSED to connect and EADDRINUSE to bind until it is
// unlinked. An abstract name is the socket object's own linked name ("\0" + name) and goes with it.
//
//   namespace ──"/tmp/s.sock"──► KIND_SOCKET_FILE ──(bound socket id, 0 when stale)──► listener
//   namespace ──"\0name"───────► KIND_SOCKET (listener or bound datagram socket)
//
//   listener ── accept queue: embryo ─► embryo ─► 0        (server-side sockets made by connect)
//   client  ◄──── peer ────►  embryo                       (each holds a reference on the other)
//   stream:    bytes the client writes go to the embryo's ring 0, and the other way round
//   datagram / seqpacket: messages go to the receiver's message queue (heap blocks below)
//
// Socket record (SOCKET_BYTES, heap):
//
//   +0  ┌──────────────────────┐
//       │ u32 type             │ SOCK_STREAM 1, SOCK_DGRAM 2, SOCK_SEQPACKET 5
//   +4  │ u32 state            │ STATE_OPEN, STATE_LISTENING, STATE_CONNECTED, STATE_RELEASED
//   +8  │ u32 holds            │ references on the object that are not handles (peers, queues)
//   +12 │ i32 peer id          │ connected peer / datagram default destination (a hold on it)
//   +16 │ u32 flags            │ SF_SHUT_WR, SF_PEER_SHUT, SF_PEER_GONE
//   +20 │ i32 file id          │ the KIND_SOCKET_FILE of its path, 0 if none
//   +24 │ u32 queue head       │ messages (datagram, seqpacket), rights records (stream),
//   +28 │ u32 queue tail       │ or embryos (listener)
//   +32 │ u32 queue count      │
//   +36 │ u32 queue bytes      │ bytes charged to the receive buffer
//   +40 │ u32 backlog          │ listener: pending connections allowed beyond the first
//   +44 │ u32 cred pid         │ peer credentials (SO_PEERCRED); a listener: its own, as of listen
//   +48 │ u32 cred uid         │
//   +52 │ u32 cred gid         │
//   +56 │ u32 next embryo      │ link in a listener's accept queue
//   +60 │ reserved             │
//   +64 └──────────────────────┘
//
// Message block (heap, one per datagram / seqpacket message; a stream's rights record has the
// same header, its "length" being the byte position the rights ride on, and no data):
//
//   +0   ┌──────────────────────┐
//        │ u32 next             │
//   +4   │ u32 block bytes      │ what was allocated (for free)
//   +8   │ u32 data length      │ (stream rights record: position in the byte stream)
//   +12  │ u32 from length      │ the sender's address, 0 if unbound
//   +16  │ u32 rights count     │ handles in flight (owner IN_FLIGHT) carried by the message
//   +20  │ reserved             │
//   +24  │ from bytes [112]     │
//   +136 │ u32 rights [count]   │ then the data bytes
//        └──────────────────────┘
//
// Receive metadata (what socket_recv writes at `meta`, SOCKET_META_BYTES):
//
//   +0   ┌──────────────────────┐
//        │ u32 message length   │ the whole message (datagram, seqpacket)
//   +4   │ u32 flags            │ RECV_EOF, RECV_TRUNCATED
//   +8   │ u32 from length      │
//   +12  │ u32 rights count     │
//   +16  │ from bytes [112]     │
//   +128 │ u32 rights [253]     │ handles now owned by the receiver
//   +1140└──────────────────────┘
//
// Locking: every socket entry point runs under the kernel lock. Messages allocate from the kernel
// heap, and connection state spans two objects (both ends, a listener and its embryos), so one lock
// makes connect, accept, send, receive and close atomic with respect to each other. A change bumps
// the wait cells of both ends of a connection (and of a listener), so a thread waiting on its own
// socket's cell sees room, data, a connection and EOF alike; cells are notified at once (the
// waiter re-checks under the kernel lock, so an early wake cannot lose a change).
//
// Passing handles: `send` with rights gives each passed handle's end a new handle owned by
// IN_FLIGHT (it counts like any handle: a pipe writer in flight keeps the pipe open, as an fd in
// flight does); `recv` hands those handles to the receiving owner; a message dropped unread (its
// socket released, or a stream's plain read past it) closes them.
import { alloc, free } from './alloc';
import {
  EACCES,
  EADDRINUSE,
  EAGAIN,
  EBADF,
  ECONNREFUSED,
  EINTR,
  EINVAL,
  EISCONN,
  EMSGSIZE,
  ENFILE,
  ENOENT,
  ENOMEM,
  ENOSPC,
  ENOTCONN,
  EOPNOTSUPP,
  EPIPE,
  EPROTOTYPE,
} from './errno';
import { HANDLE_OWNER, handleAt, handleCreate, handleRelease, ownHandle, handleEntry } from './handle';
import { currentOwner, kernelHeader, kernelLock, kernelUnlock, setSecondResult } from './kernel';
import { lockAcquire, lockRelease } from './lock';
import {
  KIND_FIFO,
  KIND_SOCKET,
  KIND_SOCKET_FILE,
  OBJ_LOCK,
  OBJ_RECORD,
  OBJ_RING0,
  OBJ_SEQ,
  countEnd,
  objectAt,
  objectCreate,
  objectDestroy,
  objectLookup,
  objectSetName,
  objectEntry,
  objectInfo,
} from './object';
import { ownerAt, ownerEntry } from './owner';
import { PERM_WRITE, currentGid, currentUid, permitted } from './permission';
import { ringRead, ringUnwrite, ringWrite, ringAt } from './ring';

/** A socket record in the heap (the diagram above); the compiler owns the offsets. */
@unmanaged export class SocketRecord {
  type: u32;
  state: u32;
  holds: u32;
  peer: i32;
  flags: u32;
  file: i32;
  queueHead: u32;
  queueTail: u32;
  queueCount: u32;
  queueBytes: u32;
  backlog: u32;
  credPid: u32;
  credUid: u32;
  credGid: u32;
  nextEmbryo: i32;
  /** Unused: keeps the record 64 bytes. */
  reserved: u32;
}
export const SOCKET_BYTES: u32 = offsetof<SocketRecord>();
export const SOCK_QHEAD: u32 = offsetof<SocketRecord>('queueHead');
export const SOCK_QTAIL: u32 = offsetof<SocketRecord>('queueTail');
/** The SocketRecord at `at`. */
@inline export function socketRecord(at: usize): SocketRecord {
  return changetype<SocketRecord>(at);
}

export const SOCK_STREAM: u32 = 1;
export const SOCK_DGRAM: u32 = 2;
export const SOCK_SEQPACKET: u32 = 5;

export const STATE_OPEN: u32 = 0;
export const STATE_LISTENING: u32 = 1;
export const STATE_CONNECTED: u32 = 2;
export const STATE_RELEASED: u32 = 3;

/** This socket shut its writing side: its peer reads EOF after the buffered data. */
export const SF_SHUT_WR: u32 = 1;
/** The peer shut its writing side. */
export const SF_PEER_SHUT: u32 = 2;
/** The peer was released (its last handle closed). */
export const SF_PEER_GONE: u32 = 4;

/** A message block's head (the diagram above): the sender's address bytes from `from`, then the rights, then the data. */
@unmanaged export class SocketMessage {
  next: u32;
  blockBytes: u32;
  length: u32;
  fromLength: u32;
  rights: u32;
  /** Unused: the address starts 8-byte aligned. */
  reserved: u32;
  /** The first of ADDRESS_BYTES address bytes. */
  from: u8;
}
export const MSG_FROM: u32 = offsetof<SocketMessage>('from');
/** The SocketMessage at `at`. */
@inline export function socketMessage(at: usize): SocketMessage {
  return changetype<SocketMessage>(at);
}

/** The receive metadata socket_recv writes (the diagram above; TypeScript reads it at the META_* offsets). */
@unmanaged export class RecvMeta {
  length: u32;
  flags: u32;
  fromLength: u32;
  rights: u32;
  from: u8;
}
export const META_LENGTH: u32 = offsetof<RecvMeta>('length');
export const META_FLAGS: u32 = offsetof<RecvMeta>('flags');
export const META_FROM_LEN: u32 = offsetof<RecvMeta>('fromLength');
export const META_RIGHTS: u32 = offsetof<RecvMeta>('rights');
export const META_FROM: u32 = offsetof<RecvMeta>('from');
/** The RecvMeta at `at`. */
@inline export function recvMeta(at: usize): RecvMeta {
  return changetype<RecvMeta>(at);
}

export const RECV_EOF: u32 = 1;
export const RECV_TRUNCATED: u32 = 2;
/** `socket_recv` flag: keep the rights (recvmsg with a control buffer); a stream receive stops at rights boundaries. */
export const RECV_RIGHTS: u32 = 1;
/** `socket_bind` flags. */
export const BIND_REPLACE_STALE: u32 = 1;
export const BIND_AUTOBIND: u32 = 2;

/** The owner of handles in flight inside a message (never a thread). */
export const IN_FLIGHT: i32 = -1;
/** Longest address in bytes (`sun_path`; an abstract one counts its leading NUL). */
export const SOCKET_ADDRESS_MAX: u32 = 108;
/** Most handles one message carries (SCM_MAX_FD). */
export const SOCKET_MAX_RIGHTS: u32 = 253;

/** What socket_peer_cred writes (struct ucred). */
@unmanaged export class PeerCred {
  pid: u32;
  uid: u32;
  gid: u32;
}
export const CRED_PID: u32 = offsetof<PeerCred>('pid');
export const CRED_UID: u32 = offsetof<PeerCred>('uid');
export const CRED_GID: u32 = offsetof<PeerCred>('gid');

/** Room for an address in a message block and in the receive metadata (SOCKET_ADDRESS_MAX, 8-byte aligned). */
const ADDRESS_BYTES: u32 = (SOCKET_ADDRESS_MAX + 7) & ~7;
/** Where the rights follow the address. */
export const MSG_RIGHTS_AT: u32 = MSG_FROM + ADDRESS_BYTES;
export const META_RIGHTS_AT: u32 = META_FROM + ADDRESS_BYTES;
/** The whole metadata record, rounded up to 16 bytes. */
export const SOCKET_META_BYTES: u32 = (META_RIGHTS_AT + SOCKET_MAX_RIGHTS * 4 + 15) & ~15;
/** Send and receive buffer size (net.core.wmem_default / rmem_default). */
export const SOCKET_BUFFER_BYTES: u32 = 212992;
/** Largest datagram or seqpacket message: the send buffer less the kernel's 32-byte allowance (EMSGSIZE above). */
export const SOCKET_MESSAGE_MAX: u32 = SOCKET_BUFFER_BYTES - 32;
/** Capacity of a stream socket's receive ring: wmem_default's payload rounded up to a power of two. */
export const SOCKET_STREAM_CAPACITY: u32 = 262144;
/** Queued datagrams a socket takes from senders other than its peer before they wait (net.unix.max_dgram_qlen). */
export const SOCKET_MAX_DGRAM_QLEN: u32 = 10;
/** Largest backlog (net.core.somaxconn). */
export const SOCKET_SOMAXCONN: u32 = 4096;

@inline function rec(id: i32): usize {
  return <usize>objectInfo(objectAt(id)).record;
}

@inline function isSocket(id: i32): bool {
  return objectEntry(objectAt(id)).kind == KIND_SOCKET;
}

/** Bumps and wakes the wait cell of object `id` (0: none). */
function touch(id: i32): void {
  if (id == 0) return;
  const cell = objectAt(id) + OBJ_SEQ;
  atomic.add<i32>(cell, 1);
  atomic.notify(cell, 0x7fffffff);
}

/** The socket behind the current owner's `handle`, or 0. */
function socketOf(handle: i32): i32 {
  const entry = ownHandle(handle);
  if (entry == 0) return 0;
  const id = handleEntry(entry).object;
  return isSocket(id) ? id : 0;
}

/** A new socket object of `type` with `handles` handles' worth of references. Kernel lock held. 0 when full. */
function socketNew(type: u32, refs: i32): i32 {
  const record = alloc(SOCKET_BYTES);
  if (record == 0) return 0;
  const id = objectCreate(KIND_SOCKET, refs);
  if (id == 0) {
    free(record, SOCKET_BYTES);
    return 0;
  }
  memory.fill(record, 0, SOCKET_BYTES);
  socketRecord(record).type = type;
  objectInfo(objectAt(id)).record = <u32>record;
  return id;
}

/** Frees a socket with no reference left: its record, ring and name. Kernel lock held. */
function socketDestroy(id: i32): void {
  const object = objectAt(id);
  free(rec(id), SOCKET_BYTES);
  objectInfo(object).record = 0;
  objectDestroy(id);
}

/** Gives up one hold on socket `id`; destroys it with its last reference. Kernel lock held. */
function socketUnhold(id: i32): void {
  const object = objectAt(id);
  const record = rec(id);
  socketRecord(record).holds = socketRecord(record).holds - 1;
  const refs = objectEntry(object).refs - 1;
  objectEntry(object).refs = refs;
  if (refs == 0) socketDestroy(id);
}

@inline function socketHold(id: i32): void {
  const record = rec(id);
  socketRecord(record).holds = socketRecord(record).holds + 1;
  objectEntry(objectAt(id)).refs = objectEntry(objectAt(id)).refs + 1;
}

/** A receive ring for a stream socket. Kernel lock held. */
function streamRing(id: i32): bool {
  const ring = objectAt(id) + OBJ_RING0;
  const data = alloc(SOCKET_STREAM_CAPACITY);
  if (data == 0) return false;
  ringAt(ring).data = <u32>data;
  ringAt(ring).capacity = SOCKET_STREAM_CAPACITY;
  // This socket reads the ring, its peer writes it.
  ringAt(ring).readers = 1;
  ringAt(ring).writers = 1;
  return true;
}

/** Sets the peer credentials of socket `id` to those of `owner` (its emulated pid, uid, gid). */
function credFromOwner(id: i32, owner: i32): void {
  const record = rec(id);
  const entry = ownerAt(owner);
  socketRecord(record).credPid = ownerEntry(entry).pid;
  socketRecord(record).credUid = ownerEntry(entry).uid;
  socketRecord(record).credGid = ownerEntry(entry).gid;
}

/** Links `a` and `b` as connected peers, each holding the other. Kernel lock held. */
function connectPair(a: i32, b: i32): void {
  socketRecord(rec(a)).peer = b;
  socketRecord(rec(b)).peer = a;
  socketRecord(rec(a)).state = STATE_CONNECTED;
  socketRecord(rec(b)).state = STATE_CONNECTED;
  socketHold(a);
  socketHold(b);
}

/** Copies the name of socket `from` to socket `to` (an embryo takes its listener's address). Kernel lock held. */
function copyName(to: i32, from: i32): bool {
  const source = objectAt(from);
  const len = objectEntry(source).nameLen;
  if (len == 0) return true;
  const name = alloc(len);
  if (name == 0) return false;
  memory.copy(name, <usize>objectEntry(source).namePtr, len);
  const target = objectAt(to);
  objectEntry(target).namePtr = <u32>name;
  objectEntry(target).nameLen = len;
  objectEntry(target).nameHash = objectEntry(source).nameHash;
  return true;
}

/** Closes the in-flight handles of a message block and frees it. Kernel lock held. */
function dropBlock(block: usize): void {
  const count = socketMessage(block).rights;
  for (let i: u32 = 0; i < count; i++) {
    const handle = load<i32>(block + MSG_RIGHTS_AT + (i << 2));
    // A lock held by a dead owner is broken when it is reaped; until then the handle stays in flight.
    if (handle > 0) handleRelease(handleAt(handle));
  }
  free(block, socketMessage(block).blockBytes);
}

/** Drops every queued message (or rights record) of socket `id`. Kernel lock held. */
function dropQueue(id: i32): void {
  const record = rec(id);
  let block = <usize>socketRecord(record).queueHead;
  socketRecord(record).queueHead = 0;
  socketRecord(record).queueTail = 0;
  socketRecord(record).queueCount = 0;
  socketRecord(record).queueBytes = 0;
  while (block != 0) {
    const next = <usize>socketMessage(block).next;
    dropBlock(block);
    block = next;
  }
}

function enqueue(id: i32, block: usize, charge: u32): void {
  const record = rec(id);
  socketMessage(block).next = 0;
  const tail = <usize>socketRecord(record).queueTail;
  if (tail == 0) socketRecord(record).queueHead = <u32>block;
  else socketMessage(tail).next = <u32>block;
  socketRecord(record).queueTail = <u32>block;
  socketRecord(record).queueCount = socketRecord(record).queueCount + 1;
  socketRecord(record).queueBytes = socketRecord(record).queueBytes + charge;
}

function dequeue(id: i32, charge: u32): usize {
  const record = rec(id);
  const block = <usize>socketRecord(record).queueHead;
  if (block == 0) return 0;
  const next = socketMessage(block).next;
  socketRecord(record).queueHead = next;
  if (next == 0) socketRecord(record).queueTail = 0;
  socketRecord(record).queueCount = socketRecord(record).queueCount - 1;
  socketRecord(record).queueBytes = socketRecord(record).queueBytes - charge;
  return block;
}

/**
 * The last handle of socket `id` closed (`close` of its last descriptor): the peer reads EOF and
 * its writes fail, queued messages and pending connections are dropped (with the handles they
 * carried), an abstract name is freed, a path becomes stale. Kernel lock held.
 */
function socketRelease(id: i32): void {
  const record = rec(id);
  if (socketRecord(record).state == STATE_RELEASED) return;
  const wasListening = socketRecord(record).state == STATE_LISTENING;
  socketRecord(record).state = STATE_RELEASED;
  const object = objectAt(id);
  objectEntry(object).flags = 0;
  // Nobody reads this socket any more: a peer writing to it gets EPIPE.
  ringAt(object + OBJ_RING0).readers = 0;
  const file = socketRecord(record).file;
  if (file != 0) {
    // The socket file stays, stale: nobody listens there any more.
    if (load<i32>(objectAt(file) + OBJ_RECORD) == id) store<i32>(objectAt(file) + OBJ_RECORD, 0);
    socketRecord(record).file = 0;
  }
  if (wasListening) {
    // Connections not yet accepted are reset: their clients read EOF and get EPIPE.
    let embryo = load<i32>(record + SOCK_QHEAD);
    socketRecord(record).queueHead = 0;
    socketRecord(record).queueTail = 0;
    socketRecord(record).queueCount = 0;
    while (embryo != 0) {
      const next = socketRecord(rec(embryo)).nextEmbryo;
      socketRelease(embryo);
      socketUnhold(embryo);
      embryo = next;
    }
  } else {
    dropQueue(id);
  }
  const peer = socketRecord(record).peer;
  if (peer != 0) {
    socketRecord(record).peer = 0;
    const peerRecord = rec(peer);
    if (socketRecord(peerRecord).peer == id) {
      socketRecord(peerRecord).flags = socketRecord(peerRecord).flags | SF_PEER_GONE;
      // The peer's ring has no writer left: it reads EOF after what is buffered.
      ringAt(objectAt(peer) + OBJ_RING0).writers = 0;
    }
    touch(peer);
    socketUnhold(peer);
  }
  touch(id);
}

/**
 * Called by handleRelease for a socket handle after its reference is gone: releases the socket
 * with its last handle and destroys it with its last reference. Kernel lock held.
 */
export function socketHandleClosed(id: i32): void {
  const refs = objectEntry(objectAt(id)).refs;
  const record = rec(id);
  if (<u32>refs == socketRecord(record).holds) {
    // Hold the object through the release: dropping the peer's hold may come back to it.
    socketHold(id);
    socketRelease(id);
    socketUnhold(id);
  } else if (refs == 0) socketDestroy(id);
}

/** Emulated `socket(AF_UNIX, type)`: an unbound, unconnected socket's handle, or -errno. */
export function socketCreate(type: u32): i32 {
  if (type != SOCK_STREAM && type != SOCK_DGRAM && type != SOCK_SEQPACKET) return -EINVAL;
  if (!kernelLock()) return -EINTR;
  let result: i32 = -ENFILE;
  const id = socketNew(type, 1);
  if (id != 0) {
    result = handleCreate(currentOwner, id, END_SOCKET);
    if (result == 0) {
      result = -ENFILE;
      socketDestroy(id);
    }
  }
  kernelUnlock();
  return result;
}

/** The end value of every socket handle (no pipe ring counts it). */
export const END_SOCKET: i32 = 16;

/** `socketpair(AF_UNIX, type)`: end A's handle (end B's in `second_result`), or -errno. */
export function socketPair(type: u32): i32 {
  if (type != SOCK_STREAM && type != SOCK_DGRAM && type != SOCK_SEQPACKET) return -EINVAL;
  if (!kernelLock()) return -EINTR;
  let result: i32 = -ENFILE;
  const a = socketNew(type, 1);
  const b = a == 0 ? 0 : socketNew(type, 1);
  if (b == 0) {
    if (a != 0) socketDestroy(a);
  } else if (type == SOCK_STREAM && (!streamRing(a) || !streamRing(b))) {
    socketDestroy(a);
    socketDestroy(b);
    result = -ENOMEM;
  } else {
    const first = handleCreate(currentOwner, a, END_SOCKET);
    const second = first == 0 ? 0 : handleCreate(currentOwner, b, END_SOCKET);
    if (second == 0) {
      if (first != 0) handleEntry(handleAt(first)).owner = 0;
      socketDestroy(a);
      socketDestroy(b);
    } else {
      connectPair(a, b);
      // Both ends name the process that made the pair.
      credFromOwner(a, currentOwner);
      credFromOwner(b, currentOwner);
      setSecondResult(second);
      result = first;
    }
  }
  kernelUnlock();
  return result;
}

/** The socket file at `len` bytes of `at` (a path), or 0. Kernel lock held. */
function fileLookup(at: usize, len: u32): i32 {
  return objectLookup(KIND_SOCKET_FILE, at, len);
}

/** Removes socket file `file` from the namespace and frees it. Kernel lock held. */
function fileUnlink(file: i32): void {
  const object = objectAt(file);
  const bound = load<i32>(object + OBJ_RECORD);
  if (bound != 0) socketRecord(rec(bound)).file = 0;
  store<i32>(object + OBJ_RECORD, 0);
  objectEntry(object).refs = 0;
  objectDestroy(file);
}

/**
 * The socket an address names, or -errno: a path through its socket file (ENOENT if none, EACCES
 * if its mode does not let the caller write, as connect and sendto need; ECONNREFUSED if stale), an
 * abstract name directly (ECONNREFUSED if nobody has it; abstract names have no permissions).
 * Kernel lock held.
 */
function resolve(at: usize, len: u32): i32 {
  if (len == 0 || len > SOCKET_ADDRESS_MAX) return -EINVAL;
  if (load<u8>(at) == 0) {
    const id = objectLookup(KIND_SOCKET, at, len);
    return id == 0 ? -ECONNREFUSED : id;
  }
  const file = fileLookup(at, len);
  if (file == 0) return -ENOENT;
  const inode = objectAt(file);
  const uid = objectInfo(inode).fileUid;
  const gid = objectInfo(inode).fileGid;
  // unix_find_bsd: the path's inode must be writable by the caller, checked before the socket.
  if (!permitted(uid, gid, uid, gid, objectInfo(inode).mode, PERM_WRITE)) return -EACCES;
  const id = load<i32>(objectAt(file) + OBJ_RECORD);
  return id == 0 ? -ECONNREFUSED : id;
}

/**
 * `bind(handle, address)`: a path gets a socket file of permission bits `mode`, owned by the caller
 * (EADDRINUSE if the path exists: a socket file, stale or not, or a FIFO; with BIND_REPLACE_STALE a
 * stale socket file is unlinked first), an
 * abstract name ("\0...") is the socket's own (EADDRINUSE if taken); BIND_AUTOBIND with no address
 * picks a free abstract name of five hex digits, as Linux does. 0 or -errno.
 */
export function socketBind(handle: i32, at: usize, len: u32, flags: u32, mode: u32): i32 {
  if (!kernelLock()) return -EINTR;
  const result = bindLocked(handle, at, len, flags, mode & 0o7777);
  kernelUnlock();
  return result;
}

function bindLocked(handle: i32, at: usize, len: u32, flags: u32, mode: u32): i32 {
  const id = socketOf(handle);
  if (id == 0) return -EBADF;
  const object = objectAt(id);
  if (objectEntry(object).nameLen != 0) return -EINVAL;
  if ((flags & BIND_AUTOBIND) != 0) {
    // "\0" + five hex digits, from the object's serial on, skipping names in use.
    const scratchName = at;
    let n = objectInfo(object).serial;
    for (let tries: u32 = 0; tries < 0x100000; tries++, n++) {
      store<u8>(scratchName, 0);
      for (let i: u32 = 0; i < 5; i++) {
        const digit = (n >> ((4 - i) << 2)) & 15;
        store<u8>(scratchName + 1 + i, <u8>(digit < 10 ? 48 + digit : 87 + digit));
      }
      if (objectLookup(KIND_SOCKET, scratchName, 6) == 0) return objectSetName(id, scratchName, 6, true) ? 0 : -ENOMEM;
    }
    return -EADDRINUSE;
  }
  if (len == 0 || len > SOCKET_ADDRESS_MAX) return -EINVAL;
  if (load<u8>(at) == 0) {
    if (objectLookup(KIND_SOCKET, at, len) != 0) return -EADDRINUSE;
    return objectSetName(id, at, len, true) ? 0 : -ENOMEM;
  }
  const existing = fileLookup(at, len);
  if (existing != 0) {
    const stale = load<i32>(objectAt(existing) + OBJ_RECORD) == 0;
    if (!stale || (flags & BIND_REPLACE_STALE) == 0) return -EADDRINUSE;
    fileUnlink(existing);
  }
  // A FIFO (or any other file) at the path is in the way too.
  if (objectLookup(KIND_FIFO, at, len) != 0) return -EADDRINUSE;
  const file = objectCreate(KIND_SOCKET_FILE, 1);
  if (file == 0) return -ENOSPC;
  // The file's name and the socket's own copy; objectDestroy frees the file's name if the second fails.
  if (!objectSetName(file, at, len, true) || !objectSetName(id, at, len, false)) {
    objectDestroy(file);
    return -ENOMEM;
  }
  store<i32>(objectAt(file) + OBJ_RECORD, id);
  // The file is made with its final mode: no instant at which it is more open than asked.
  objectInfo(objectAt(file)).mode = mode;
  objectInfo(objectAt(file)).fileUid = currentUid();
  objectInfo(objectAt(file)).fileGid = currentGid();
  socketRecord(rec(id)).file = file;
  return 0;
}

/** `unlink` of the socket's own path, if the socket file there is still the one it bound. 0, or -ENOENT. */
export function socketUnlink(handle: i32): i32 {
  if (!kernelLock()) return -EINTR;
  let result: i32 = -EBADF;
  const id = socketOf(handle);
  if (id != 0) {
    const file = socketRecord(rec(id)).file;
    result = -ENOENT;
    if (file != 0 && load<i32>(objectAt(file) + OBJ_RECORD) == id) {
      fileUnlink(file);
      result = 0;
    }
  }
  kernelUnlock();
  return result;
}

/** `listen(handle, backlog)` on a bound stream or seqpacket socket: 0 or -errno. */
export function socketListen(handle: i32, backlog: u32): i32 {
  if (!kernelLock()) return -EINTR;
  let result: i32 = 0;
  const id = socketOf(handle);
  if (id == 0) result = -EBADF;
  else {
    const record = rec(id);
    const state = socketRecord(record).state;
    if (socketRecord(record).type == SOCK_DGRAM) result = -EOPNOTSUPP;
    else if (state != STATE_OPEN && state != STATE_LISTENING) result = -EINVAL;
    else if (objectEntry(objectAt(id)).nameLen == 0) result = -EINVAL;
    else {
      socketRecord(record).backlog = min<u32>(backlog, SOCKET_SOMAXCONN);
      socketRecord(record).state = STATE_LISTENING;
      // Clients connecting see the listener's credentials as of now (init_peercred at listen).
      credFromOwner(id, currentOwner);
      touch(id);
    }
  }
  kernelUnlock();
  return result;
}

/**
 * `connect(handle, address)`. Stream / seqpacket: makes the server-side socket (the embryo) and
 * queues it on the listener; -EAGAIN while the listener's queue is full (the listener's wait cell
 * in `second_result`). Datagram: sets the default destination. 0 or -ENOENT / -ECONNREFUSED /
 * -EPROTOTYPE / -EISCONN / -ENOMEM / -EINTR.
 */
export function socketConnect(handle: i32, at: usize, len: u32): i32 {
  if (!kernelLock()) return -EINTR;
  const result = connectLocked(handle, at, len);
  kernelUnlock();
  return result;
}

function connectLocked(handle: i32, at: usize, len: u32): i32 {
  const id = socketOf(handle);
  if (id == 0) return -EBADF;
  const record = rec(id);
  if (socketRecord(record).state != STATE_OPEN) return -EISCONN;
  const target = resolve(at, len);
  if (target < 0) return target;
  const targetRecord = rec(target);
  const type = socketRecord(record).type;
  if (socketRecord(targetRecord).type != type) return -EPROTOTYPE;
  if (type == SOCK_DGRAM) {
    socketRecord(record).peer = target;
    socketHold(target);
    return 0;
  }
  if (socketRecord(targetRecord).state != STATE_LISTENING) return -ECONNREFUSED;
  // unix_recvq_full: more pending than the backlog allows.
  if (socketRecord(targetRecord).queueCount > socketRecord(targetRecord).backlog) {
    setSecondResult(<i32>(objectAt(target) + OBJ_SEQ));
    return -EAGAIN;
  }
  const embryo = socketNew(type, 1); // the listener's queue holds it
  if (embryo == 0) return -ENFILE;
  socketRecord(rec(embryo)).holds = 1;
  if ((type == SOCK_STREAM && (!streamRing(embryo) || !streamRing(id))) || !copyName(embryo, target)) {
    const ring = objectAt(id) + OBJ_RING0;
    if (ringAt(ring).data != 0) {
      free(<usize>ringAt(ring).data, ringAt(ring).capacity);
      ringAt(ring).data = 0;
    }
    socketDestroy(embryo);
    return -ENOMEM;
  }
  connectPair(id, embryo);
  // Each side names the other's process: the client sees the listener's, the server the client's.
  socketRecord(record).credPid = socketRecord(targetRecord).credPid;
  socketRecord(record).credUid = socketRecord(targetRecord).credUid;
  socketRecord(record).credGid = socketRecord(targetRecord).credGid;
  credFromOwner(embryo, currentOwner);
  const tail = load<i32>(targetRecord + SOCK_QTAIL);
  if (tail == 0) store<i32>(targetRecord + SOCK_QHEAD, embryo);
  else socketRecord(rec(tail)).nextEmbryo = embryo;
  store<i32>(targetRecord + SOCK_QTAIL, embryo);
  socketRecord(targetRecord).queueCount = socketRecord(targetRecord).queueCount + 1;
  touch(target);
  touch(id);
  return 0;
}

/** `accept4(handle)`: the accepted connection's handle, or -EAGAIN (none pending) / -EINVAL (not listening) / -errno. */
export function socketAccept(handle: i32): i32 {
  if (!kernelLock()) return -EINTR;
  let result: i32 = -EBADF;
  const id = socketOf(handle);
  if (id != 0) {
    const record = rec(id);
    const embryo = load<i32>(record + SOCK_QHEAD);
    if (socketRecord(record).state != STATE_LISTENING) result = -EINVAL;
    else if (embryo == 0) result = -EAGAIN;
    else {
      const accepted = handleCreate(currentOwner, embryo, END_SOCKET);
      if (accepted == 0) result = -ENFILE;
      else {
        const next = socketRecord(rec(embryo)).nextEmbryo;
        store<i32>(record + SOCK_QHEAD, next);
        if (next == 0) store<i32>(record + SOCK_QTAIL, 0);
        socketRecord(record).queueCount = socketRecord(record).queueCount - 1;
        socketRecord(rec(embryo)).nextEmbryo = 0;
        // The handle's reference replaces the queue's hold.
        objectEntry(objectAt(embryo)).refs = objectEntry(objectAt(embryo)).refs + 1;
        socketUnhold(embryo);
        // Room in the queue: connects waiting on the listener's cell retry.
        touch(id);
        touch(socketRecord(rec(embryo)).peer);
        result = accepted;
      }
    }
  }
  kernelUnlock();
  return result;
}

/**
 * Gives each of the `count` handles at `rights` (the current owner's) a handle owned by IN_FLIGHT
 * on the same end, written at `out`: 0, or -EBADF (not the owner's) / -ENFILE (table full), with
 * nothing left behind. Kernel lock held.
 */
function dupInFlight(rights: usize, count: u32, out: usize): i32 {
  for (let i: u32 = 0; i < count; i++) {
    const entry = ownHandle(load<i32>(rights + (i << 2)));
    if (entry == 0) return -EBADF;
  }
  for (let i: u32 = 0; i < count; i++) {
    const entry = ownHandle(load<i32>(rights + (i << 2)));
    const id = handleEntry(entry).object;
    const end = handleEntry(entry).end;
    const object = objectAt(id);
    let copy = 0;
    if (lockAcquire(object + OBJ_LOCK, currentOwner)) {
      copy = handleCreate(IN_FLIGHT, id, end);
      if (copy != 0) {
        countEnd(object, end, 1);
        objectEntry(object).refs = objectEntry(object).refs + 1;
      }
      lockRelease(object + OBJ_LOCK);
    }
    if (copy == 0) {
      for (let j: u32 = 0; j < i; j++) handleRelease(handleAt(load<i32>(out + (j << 2))));
      return -ENFILE;
    }
    store<i32>(out + (i << 2), copy);
  }
  return 0;
}

/**
 * `sendmsg(handle, data, rights, to)`. Stream: writes what fits (at least one byte, or all of a
 * write of at most PIPE_BUF), the rights riding on its first byte. Datagram / seqpacket: one whole
 * message (EMSGSIZE above SOCKET_MESSAGE_MAX). Bytes sent, or -EAGAIN (the wait cell to watch in
 * `second_result`) / -EPIPE / -ENOTCONN / -ECONNREFUSED / -ENOENT / -EPROTOTYPE / -EMSGSIZE / -errno.
 */
export function socketSend(handle: i32, src: usize, len: u32, rights: usize, count: u32, to: usize, toLen: u32): i32 {
  if (count > SOCKET_MAX_RIGHTS) return -EINVAL;
  if (!kernelLock()) return -EINTR;
  const result = sendLocked(handle, src, len, rights, count, to, toLen);
  kernelUnlock();
  return result;
}

function sendLocked(handle: i32, src: usize, len: u32, rights: usize, count: u32, to: usize, toLen: u32): i32 {
  const id = socketOf(handle);
  if (id == 0) return -EBADF;
  const record = rec(id);
  const type = socketRecord(record).type;
  if (type == SOCK_STREAM) return streamSend(id, src, len, rights, count);
  if (len > SOCKET_MESSAGE_MAX) return -EMSGSIZE;
  let target: i32;
  if (toLen > 0) {
    if (type != SOCK_DGRAM) return -EISCONN;
    target = resolve(to, toLen);
    if (target < 0) return target;
    if (socketRecord(rec(target)).type != SOCK_DGRAM) return -EPROTOTYPE;
  } else {
    if ((socketRecord(record).flags & SF_SHUT_WR) != 0) return -EPIPE;
    target = socketRecord(record).peer;
    if (target == 0) {
      if (type == SOCK_SEQPACKET && (socketRecord(record).flags & SF_PEER_GONE) != 0) return -EPIPE;
      return type == SOCK_DGRAM ? -ENOTCONN : -ENOTCONN;
    }
    if (socketRecord(rec(target)).state == STATE_RELEASED) return type == SOCK_DGRAM ? -ECONNREFUSED : -EPIPE;
  }
  const targetRecord = rec(target);
  const queued = socketRecord(targetRecord).queueBytes;
  // Flow control as unix_dgram_sendmsg: the receive buffer is full, or (from a socket that is not
  // the receiver's peer) its queue holds more than max_dgram_qlen datagrams.
  const fromPeer = socketRecord(targetRecord).peer == id;
  if (queued >= SOCKET_BUFFER_BYTES || (!fromPeer && socketRecord(targetRecord).queueCount > SOCKET_MAX_DGRAM_QLEN)) {
    setSecondResult(<i32>(objectAt(target) + OBJ_SEQ));
    return -EAGAIN;
  }
  const bytes = MSG_RIGHTS_AT + (count << 2) + len;
  const block = alloc(bytes);
  if (block == 0) return -ENOMEM;
  socketMessage(block).blockBytes = bytes;
  socketMessage(block).length = len;
  socketMessage(block).rights = 0;
  // The sender's address, so the receiver can reply (datagram `from`).
  const nameLen = objectEntry(objectAt(id)).nameLen;
  socketMessage(block).fromLength = nameLen;
  if (nameLen != 0) memory.copy(block + MSG_FROM, <usize>objectEntry(objectAt(id)).namePtr, nameLen);
  if (count > 0) {
    const duped = dupInFlight(rights, count, block + MSG_RIGHTS_AT);
    if (duped < 0) {
      free(block, bytes);
      return duped;
    }
    socketMessage(block).rights = count;
  }
  memory.copy(block + MSG_RIGHTS_AT + (count << 2), src, len);
  enqueue(target, block, bytes);
  touch(target);
  touch(id);
  return <i32>len;
}

function streamSend(id: i32, src: usize, len: u32, rights: usize, count: u32): i32 {
  const record = rec(id);
  const peer = socketRecord(record).peer;
  if (peer == 0) return (socketRecord(record).flags & SF_PEER_GONE) != 0 ? -EPIPE : -ENOTCONN;
  const ring = objectAt(peer) + OBJ_RING0;
  if ((socketRecord(record).flags & SF_SHUT_WR) != 0) return -EPIPE;
  let block: usize = 0;
  let bytes: u32 = 0;
  if (count > 0) {
    // A rights record at the position of the first byte written (allocated first: nothing to undo).
    bytes = MSG_RIGHTS_AT + (count << 2);
    block = alloc(bytes);
    if (block == 0) return -ENOMEM;
  }
  const position = ringAt(ring).tail;
  const n = ringWrite(ring, src, len, 0, false);
  if (n <= 0) {
    if (block != 0) free(block, bytes);
    if (n == -EAGAIN) setSecondResult(<i32>(objectAt(peer) + OBJ_SEQ));
    return n;
  }
  if (block != 0) {
    const duped = dupInFlight(rights, count, block + MSG_RIGHTS_AT);
    if (duped < 0) {
      // Take the bytes back: the send fails whole, as sendmsg does when it cannot take the rights.
      ringUnwrite(ring, position);
      free(block, bytes);
      return duped;
    }
    socketMessage(block).blockBytes = bytes;
    socketMessage(block).length = position;
    socketMessage(block).fromLength = 0;
    socketMessage(block).rights = count;
    enqueue(peer, block, 0);
  }
  touch(peer);
  touch(id);
  return n;
}

/** Hands the in-flight handles of `block` to the current owner, listing them at `meta`. */
function takeRights(block: usize, meta: usize): void {
  const count = socketMessage(block).rights;
  for (let i: u32 = 0; i < count; i++) {
    const handle = load<i32>(block + MSG_RIGHTS_AT + (i << 2));
    handleEntry(handleAt(handle)).owner = currentOwner;
    if (meta != 0) store<i32>(meta + META_RIGHTS_AT + (i << 2), handle);
  }
  if (meta != 0) recvMeta(meta).rights = count;
  socketMessage(block).rights = 0;
}

/**
 * `recvmsg(handle)`: copies at most `max` bytes to `dst` and returns how many, or -EAGAIN / -EBADF.
 * Writes the metadata at `meta` (if not 0): the whole length, RECV_TRUNCATED, RECV_EOF (stream:
 * 0 bytes; seqpacket: the peer is gone or shut and the queue is empty), the sender's address, and
 * with RECV_RIGHTS the handles received. Without RECV_RIGHTS, rights are dropped (their handles closed).
 */
export function socketRecv(handle: i32, meta: usize, dst: usize, max: u32, flags: u32): i32 {
  if (!kernelLock()) return -EINTR;
  const result = recvLocked(handle, meta, dst, max, flags);
  kernelUnlock();
  return result;
}

function recvLocked(handle: i32, meta: usize, dst: usize, max: u32, flags: u32): i32 {
  const id = socketOf(handle);
  if (id == 0) return -EBADF;
  const record = rec(id);
  if (meta != 0) memory.fill(meta, 0, META_RIGHTS_AT);
  const type = socketRecord(record).type;
  if (socketRecord(record).state == STATE_LISTENING) return -EINVAL;
  if (type == SOCK_STREAM) return streamRecv(id, meta, dst, max, flags);
  const block = <usize>socketRecord(record).queueHead;
  if (block == 0) {
    const ended = (socketRecord(record).flags & (SF_PEER_GONE | SF_PEER_SHUT)) != 0;
    if (type == SOCK_SEQPACKET && ended) {
      if (meta != 0) recvMeta(meta).flags = RECV_EOF;
      return 0;
    }
    return -EAGAIN;
  }
  dequeue(id, socketMessage(block).blockBytes);
  const len = socketMessage(block).length;
  const count = socketMessage(block).rights;
  const n = min<u32>(len, max);
  memory.copy(dst, block + MSG_RIGHTS_AT + (count << 2), n);
  if (meta != 0) {
    recvMeta(meta).length = len;
    recvMeta(meta).flags = n < len ? RECV_TRUNCATED : 0;
    const fromLen = socketMessage(block).fromLength;
    recvMeta(meta).fromLength = fromLen;
    memory.copy(meta + META_FROM, block + MSG_FROM, fromLen);
  }
  if ((flags & RECV_RIGHTS) != 0) takeRights(block, meta);
  dropBlock(block);
  // Room in this socket's buffer: senders wait on this cell; a connected peer on its own.
  touch(id);
  touch(socketRecord(record).peer);
  return <i32>n;
}

function streamRecv(id: i32, meta: usize, dst: usize, max: u32, flags: u32): i32 {
  const record = rec(id);
  const ring = objectAt(id) + OBJ_RING0;
  if (ringAt(ring).data == 0) return -ENOTCONN;
  const head = ringAt(ring).head;
  const first = <usize>socketRecord(record).queueHead;
  let limit = max;
  let carried: usize = 0;
  if ((flags & RECV_RIGHTS) != 0 && first != 0) {
    // A receive stops at bytes that carry rights, and one that starts there takes them.
    let boundary = first;
    if (socketMessage(first).length == head) {
      carried = first;
      boundary = <usize>socketMessage(first).next;
    }
    if (boundary != 0) limit = min<u32>(limit, socketMessage(boundary).length - head);
  }
  const n = ringRead(ring, dst, limit);
  if (n < 0) return n;
  if (n == 0) {
    if (meta != 0) recvMeta(meta).flags = RECV_EOF;
    return 0;
  }
  if (carried != 0) {
    dequeue(id, 0);
    takeRights(carried, meta);
    dropBlock(carried);
  }
  // Rights on bytes read past without a control buffer are dropped, as the kernel closes them.
  for (let block = <usize>socketRecord(record).queueHead; block != 0; block = <usize>socketRecord(record).queueHead) {
    if (socketMessage(block).length - head >= <u32>n) break;
    dequeue(id, 0);
    dropBlock(block);
  }
  if (meta != 0) recvMeta(meta).length = <u32>n;
  touch(id);
  touch(socketRecord(record).peer);
  return n;
}

/** `shutdown(SHUT_WR)`: the peer reads EOF (stream) or null (seqpacket) after what is queued. 0 or -errno. */
export function socketShutdown(handle: i32): i32 {
  if (!kernelLock()) return -EINTR;
  let result: i32 = 0;
  const id = socketOf(handle);
  if (id == 0) result = -EBADF;
  else {
    const record = rec(id);
    const peer = socketRecord(record).peer;
    if (socketRecord(record).state != STATE_CONNECTED && peer == 0) result = -ENOTCONN;
    else {
      socketRecord(record).flags = socketRecord(record).flags | SF_SHUT_WR;
      if (peer != 0) {
        const peerRecord = rec(peer);
        socketRecord(peerRecord).flags = socketRecord(peerRecord).flags | SF_PEER_SHUT;
        ringAt(objectAt(peer) + OBJ_RING0).shut = 1;
        touch(peer);
      }
      touch(id);
    }
  }
  kernelUnlock();
  return result;
}

/** `getsockname` (peer 0) / `getpeername` (peer 1): the address's length copied to `dst` (0 = unnamed), or -errno. */
export function socketName(handle: i32, peer: i32, dst: usize): i32 {
  if (!kernelLock()) return -EINTR;
  let result: i32 = -EBADF;
  let id = socketOf(handle);
  if (id != 0 && peer != 0) {
    id = socketRecord(rec(id)).peer;
    result = 0;
  }
  if (id != 0) {
    const object = objectAt(id);
    const len = objectEntry(object).nameLen;
    memory.copy(dst, <usize>objectEntry(object).namePtr, len);
    result = <i32>len;
  }
  kernelUnlock();
  return result;
}

/** `SO_PEERCRED`: writes pid, uid, gid (3 × u32) to `dst`; 0, -ENOTCONN (never connected), -EBADF. */
export function socketPeerCred(handle: i32, dst: usize): i32 {
  if (!kernelLock()) return -EINTR;
  let result: i32 = -EBADF;
  const id = socketOf(handle);
  if (id != 0) {
    const record = rec(id);
    const state = socketRecord(record).state;
    if (state != STATE_CONNECTED && state != STATE_LISTENING) result = -ENOTCONN;
    else {
      const cred = changetype<PeerCred>(dst);
      cred.pid = socketRecord(record).credPid;
      cred.uid = socketRecord(record).credUid;
      cred.gid = socketRecord(record).credGid;
      result = 0;
    }
  }
  kernelUnlock();
  return result;
}

/** The socket's type, with 256 added while it listens (for reviving a passed listener), or -EBADF. */
export function socketInfo(handle: i32): i32 {
  if (!kernelLock()) return -EINTR;
  let result: i32 = -EBADF;
  const id = socketOf(handle);
  if (id != 0) {
    const record = rec(id);
    result = <i32>socketRecord(record).type + (socketRecord(record).state == STATE_LISTENING ? 256 : 0);
  }
  kernelUnlock();
  return result;
}

/** Handles in flight right now (diagnostics and tests: none may be left once messages are gone). */
export function socketsInFlight(): i32 {
  const handles = <i32>kernelHeader().handlesMax;
  let count = 0;
  for (let h = 1; h <= handles; h++) if (atomic.load<i32>(handleAt(h) + HANDLE_OWNER) == IN_FLIGHT) count++;
  return count;
}
