// The one place that knows every object kind: what happens to an object of each kind when it is
// destroyed, when one of its handles closes or is duplicated, and when an owner dies. The generic
// tables call these through kind-hooks.ts (installed below, once per instance), so object.ts and
// handle.ts import no primitive and no primitive imports this file: no import cycle.
//
// A new kind: its constant in object.ts, then one `case` line in each switch below where it has
// something to do (most kinds need none: an object whose state lives in its entry and rings is
// freed by objectDestroy alone).
import { lockFileHandleClosed } from './file-lock';
import { handleEntry } from './handle';
import { installKindHooks } from './kind-hooks';
import { msgFreeAll } from './message-queue';
import {
  KIND_DUPLEX,
  KIND_FIFO,
  KIND_LOCK_FILE,
  KIND_MSG,
  KIND_PIPE,
  KIND_PMQ,
  KIND_POSIX_SHM,
  KIND_SHM,
  KIND_SHM_FILE,
  KIND_SOCKET,
  OBJ_RING0,
  objectAt,
  objectEntry,
  objectMax,
} from './object';
import { streamReleaseOwner } from './pipe';
import { pmqFreeAll, pmqHandleClosed } from './posix-message-queue';
import { ringAt, ringReset } from './ring';
import { semReleaseOwner } from './semaphore';
import { segmentDupEnd, segmentRelease } from './shared-memory';
import { socketHandleClosed } from './socket';

/** Queues keep messages in the heap and their own record where rings live: free and clear them first. */
function destroying(kind: i32, entry: usize): void {
  switch (kind) {
    case KIND_MSG: msgFreeAll(entry); break;
    case KIND_PMQ: pmqFreeAll(entry); break;
  }
}

/** Before a handle's end stops counting (kernel and object locks held). */
function handleClosing(kind: i32, object: usize, handle: usize): void {
  switch (kind) {
    case KIND_SHM:
    case KIND_POSIX_SHM:
    case KIND_SHM_FILE: segmentRelease(object, handle); break;
    case KIND_LOCK_FILE: lockFileHandleClosed(object, handle); break;
    case KIND_PMQ: pmqHandleClosed(object, handleEntry(handle).owner); break;
  }
}

/** After a handle's end stopped counting. */
function handleCounted(kind: i32, object: usize): void {
  switch (kind) {
    // A FIFO drops its buffered bytes when its last end closes, as the kernel does.
    case KIND_FIFO: {
      const ring = object + OBJ_RING0;
      if (ringAt(ring).readers == 0 && ringAt(ring).writers == 0) ringReset(ring);
      break;
    }
  }
}

/** A socket's references also count peers and queues holding it: socket.ts decides when it goes. */
function selfReleasing(kind: i32): bool {
  return kind == KIND_SOCKET;
}

function handleGone(kind: i32, id: i32): void {
  if (kind == KIND_SOCKET) socketHandleClosed(id);
}

/** A mapping's duplicate is attached or not as its segment's rules say. */
function dupEnd(kind: i32, end: i32): i32 {
  switch (kind) {
    case KIND_SHM:
    case KIND_POSIX_SHM:
    case KIND_SHM_FILE: return segmentDupEnd(end);
    default: return end;
  }
}

/** Copies a dead owner left in flight (before its handles close: a busy ring cannot), then its semaphore calls and undo. */
function ownerDying(owner: i32): bool {
  const objects = objectMax();
  for (let id = 1; id <= objects; id++) {
    switch (objectEntry(objectAt(id)).kind) {
      case KIND_PIPE:
      case KIND_DUPLEX:
      case KIND_FIFO:
        if (!streamReleaseOwner(id, owner)) return false;
        break;
    }
  }
  return semReleaseOwner(owner);
}

installKindHooks(destroying, handleClosing, handleCounted, selfReleasing, handleGone, dupEnd, ownerDying);
