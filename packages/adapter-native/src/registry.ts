/**
 * The objects this environment has open, for `diagnostics.openObjects()`, for closing what a
 * child's main function left open when it returns, and for closing descriptors of objects that
 * were dropped without `close()` (a FinalizationRegistry closes the descriptor, never leaks it).
 */
import { addon } from './addon.js';

/** An open native object. */
export interface TrackedObject {
  /** A short description for leak reports, e.g. `'pipe reader (fd 23)'`. */
  describe(): string;
  close(): Promise<void>;
}

const open = new Set<TrackedObject>();

// Holds only the descriptor numbers, so the object itself can be collected.
const forgotten = new FinalizationRegistry<{ fds: number[]; polls: number[] }>((held) => {
  for (const id of held.polls) addon.pollClose(id);
  for (const fd of held.fds) addon.close(fd);
});

/** Records an object as open; `fds` are closed if it is garbage-collected without `close()`. */
export function track(object: TrackedObject, held: { fds: number[]; polls: number[] }): void {
  open.add(object);
  forgotten.register(object, held, object);
}

/** Records that an object was closed. */
export function untrack(object: TrackedObject): void {
  open.delete(object);
  forgotten.unregister(object);
}

/** Descriptions of the objects open now. */
export function openObjects(): string[] {
  return [...open].map((object) => object.describe());
}

/** Closes every open object (a child's cleanup after its main function). */
export async function closeAll(): Promise<void> {
  await Promise.allSettled([...open].map((object) => object.close()));
}
