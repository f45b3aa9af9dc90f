/**
 * Children that receive this package's objects: Python's `Process(target=..., args=(...))`.
 *
 * The parent packs every object of this package in `args` into its record (ids, sizes) with the
 * core objects it needs inherited left in place, and starts the child with core's
 * `processes.spawn`, which carries those the kernel's way. The child module wraps its main in this
 * package's {@link defineChild}, which rebuilds the objects before calling it.
 */
import { defineChild as defineCoreChild, type ChildContext, type ChildMain, type ChildProcess, type ExitStatus, type IpcBackend, type SpawnOptions } from '@ipcx/core';
import { packForSpawn, reviveValue } from './share.js';

/** A started child (core's {@link ChildProcess}) with Python's `join`. */
export interface Process extends ChildProcess {
  /** Waits for the child to end (the same as awaiting `exited`). */
  join(): Promise<ExitStatus>;
}

/**
 * Starts `entry` (a module URL whose default export comes from {@link defineChild}) in a child:
 * an OS process on the native backend, a worker thread on the worker backend. `args` may hold
 * this package's objects (Queues, Locks, Connections, Values, ...) next to plain data and core
 * objects. Resolves once the child is started.
 */
export async function spawn<A extends readonly unknown[]>(backend: IpcBackend, entry: string | URL, args: A = [] as unknown as A, options: Omit<SpawnOptions, 'args'> = {}): Promise<Process> {
  if (!Array.isArray(args)) throw new TypeError('args must be an array');
  const child = await backend.processes.spawn(entry, { ...options, args: packForSpawn(args) as unknown[] });
  return Object.assign(child, { join: () => child.exited });
}

/**
 * Types and wraps a child module's main: `export default defineChild<[Queue<number>]>(async ({ args: [q] }) => ...)`.
 * The objects in `args` are rebuilt in the child before `main` runs; the child's backend is the
 * parent's kind.
 */
export function defineChild<A extends readonly unknown[]>(main: ChildMain<A>): ChildMain<A> {
  return defineCoreChild<A>(async (context: ChildContext<A>) => {
    const args = (await reviveValue(context.args, context.backend)) as A;
    return main({ backend: context.backend, pid: context.pid, args });
  });
}
