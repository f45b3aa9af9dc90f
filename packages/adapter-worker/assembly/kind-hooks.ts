// What the generic tables (object.ts, handle.ts) ask of an object's kind, as function references
// that kinds.ts installs when the module starts. object.ts and handle.ts call through these and
// import no primitive's file; the primitives import object.ts and handle.ts; kinds.ts imports both
// sides. So dependencies point one way and the kind switch is in one file (kinds.ts).
//
// The references are top-level functions, which AssemblyScript keeps in the module's static data
// (nothing is allocated), and each instance sets its own globals in its start function, before
// any entry point runs. The defaults do nothing, as for a kind with no extra state.

function noDestroy(kind: i32, entry: usize): void {}
function noHandleClosing(kind: i32, object: usize, handle: usize): void {}
function noHandleCounted(kind: i32, object: usize): void {}
function notSelfReleasing(kind: i32): bool {
  return false;
}
function noHandleGone(kind: i32, id: i32): void {}
function sameEnd(kind: i32, end: i32): i32 {
  return end;
}
function noOwnerState(owner: i32): bool {
  return true;
}

/** An object of `kind` at `entry` is destroyed: free what it keeps outside its entry. Kernel lock held. */
export let kindDestroying: (kind: i32, entry: usize) => void = noDestroy;
/** The handle at `handle` on the object at `object` is about to close (its end still counts). Kernel and object locks held. */
export let kindHandleClosing: (kind: i32, object: usize, handle: usize) => void = noHandleClosing;
/** A handle on the object at `object` closed: its end no longer counts, its reference is gone. Both locks held. */
export let kindHandleCounted: (kind: i32, object: usize) => void = noHandleCounted;
/** True if the kind decides itself when its object goes (then kindHandleGone runs instead of destroy at 0 references). */
export let kindSelfReleasing: (kind: i32) => bool = notSelfReleasing;
/** A handle on self-releasing object `id` is gone; the object's lock is released, the kernel lock held. */
export let kindHandleGone: (kind: i32, id: i32) => void = noHandleGone;
/** The end a duplicate of a handle with `end` gets (inheritance by a worker). */
export let kindDupEnd: (kind: i32, end: i32) => i32 = sameEnd;
/** Undoes what dead `owner` left in objects beyond its handles. Kernel lock held; false: call again. */
export let kindOwnerDying: (owner: i32) => bool = noOwnerState;

/** Installs the kind switch (kinds.ts, once per instance). */
export function installKindHooks(
  destroying: (kind: i32, entry: usize) => void,
  handleClosing: (kind: i32, object: usize, handle: usize) => void,
  handleCounted: (kind: i32, object: usize) => void,
  selfReleasing: (kind: i32) => bool,
  handleGone: (kind: i32, id: i32) => void,
  dupEnd: (kind: i32, end: i32) => i32,
  ownerDying: (owner: i32) => bool,
): void {
  kindDestroying = destroying;
  kindHandleClosing = handleClosing;
  kindHandleCounted = handleCounted;
  kindSelfReleasing = selfReleasing;
  kindHandleGone = handleGone;
  kindDupEnd = dupEnd;
  kindOwnerDying = ownerDying;
}
