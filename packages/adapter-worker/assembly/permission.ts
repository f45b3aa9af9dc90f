// Permission checks of System V and POSIX objects (ipc_perm), emulated for the current owner's
// identity (owner.ts): the owner class (uid == owner uid or creator uid), then the group class,
// then others; uid 0 passes every check, as root (CAP_IPC_OWNER) does in the kernel.
import { currentOwner } from './kernel';
import { ownerGid, ownerUid } from './owner';

/** Read permission (the `r` bits). */
export const PERM_READ: u32 = 4;
/** Write (alter) permission (the `w` bits). */
export const PERM_WRITE: u32 = 2;

/**
 * True if the current owner may access an object owned by `uid`/`gid`, made by `cuid`/`cgid`,
 * with permission bits `mode`, for `want` (PERM_READ | PERM_WRITE).
 */
export function permitted(uid: u32, gid: u32, cuid: u32, cgid: u32, mode: u32, want: u32): bool {
  if (currentOwner == 0) return true;
  const me = ownerUid(currentOwner);
  if (me == 0) return true;
  let granted: u32;
  if (me == uid || me == cuid) granted = (mode >> 6) & 7;
  else if (ownerGid(currentOwner) == gid || ownerGid(currentOwner) == cgid) granted = (mode >> 3) & 7;
  else granted = mode & 7;
  return (granted & want) == want;
}

/** The current owner's emulated uid (0 before attach). */
export function currentUid(): u32 {
  return currentOwner == 0 ? 0 : ownerUid(currentOwner);
}

/** The current owner's emulated gid (0 before attach). */
export function currentGid(): u32 {
  return currentOwner == 0 ? 0 : ownerGid(currentOwner);
}
