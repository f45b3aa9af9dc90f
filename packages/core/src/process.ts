import type { IpcBackend } from './backend.js';
import type { DescriptorSource } from './descriptor.js';
import type { ExitStatus } from './options.js';
import { factoryToken } from './primitives.js';
import { reviveModuleTransfers, type ModuleTransfer } from './transfer.js';

/** Options of {@link Processes.spawn}. */
export interface SpawnOptions<A extends readonly unknown[] = unknown[]> {
  /**
   * Arguments for the child's main function: plain data (anything structured cloning keeps) next to
   * ipcx objects (pipe ends, sockets, queues, semaphores, segments), as in Python's
   * `Process(target=..., args=(...))`. Objects travel the kernel's way (inherited descriptors,
   * keys, names); the child sees equivalent ipcx objects.
   */
  readonly args?: A;
  /** Extra environment variables for an OS child (ignored by backends whose children share the process). */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Run the child as another user and group: permission checks (`EACCES`) then apply to it as to
   * that user. Starting an OS child as another user needs privilege (root); an emulating backend
   * gives its child that identity for its own permission checks.
   */
  readonly user?: { readonly uid: number; readonly gid: number };
  /**
   * Node options for the child (its `process.execArgv`), e.g. a loader so TypeScript child modules
   * run in tests (`['--import', 'tsx']`) or `['--max-old-space-size=256']`. Strings without NUL
   * bytes. An OS child gets them on its command line; a worker child gets those Node accepts per
   * worker (see the backend's `spawn`), the others are ignored there.
   */
  readonly execArgv?: readonly string[];
  /**
   * Where the child's standard error goes: `'inherit'` (default; this process's stderr) or
   * `'ignore'` (discarded), e.g. for a child that fails on purpose and would print its stack trace.
   */
  readonly stderr?: 'inherit' | 'ignore';
}

/**
 * What a child of {@link Processes.spawnExecutable} finds at one descriptor number: an ipcx object
 * or another descriptor (see {@link DescriptorSource}: pipe ends, FIFO ends, sockets, generic
 * descriptors, a Node `FileHandle`, a plain number), `'inherit'` (this process's descriptor of
 * the same number; `/dev/null` when it has none open) or `'ignore'` (`/dev/null`, opened for
 * reading and writing).
 */
export type ChildDescriptor = DescriptorSource | 'inherit' | 'ignore';

/** Options of {@link Processes.spawnExecutable}. */
export interface SpawnExecutableOptions {
  /** Arguments after the program name (`argv[1]...`). Strings without NUL bytes. */
  readonly args?: readonly string[];
  /**
   * The child's whole environment, as for Python's `subprocess` and Node's `child_process`
   * (default: this process's environment). Also the `PATH` searched for a `file` without a slash.
   */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Working directory of the child (default: this process's). `ENOENT` if it does not exist. The
   * native backend needs glibc 2.29+ for it (`posix_spawn_file_actions_addchdir_np`); on an older
   * glibc a `cwd` rejects with `ENOSYS`.
   */
  readonly cwd?: string;
  /**
   * The child's descriptors by number: `{ 0: reader, 1: writer, 3: socket }`. Descriptors 0, 1
   * and 2 that are not given are `'inherit'`ed. Every other descriptor of this process is closed
   * in the child (whatever its close-on-exec flag): the child has exactly 0, 1, 2 and the numbers
   * given here. The child gets its own copy of each (the same open file description, blocking as
   * the kernel makes it); this process keeps its objects and should close the ends it no longer
   * needs (a pipe reports EOF only once every writer, here and in the child, is closed).
   */
  readonly descriptors?: Readonly<Record<number, ChildDescriptor>>;
}

/** A running child: an OS process (native backend) or a worker thread (worker backend). */
export interface ChildProcess extends AsyncDisposable {
  /** OS process id, or the worker's thread id. */
  readonly pid: number;
  /**
   * Settles when the child has ended: its main function returned (code 0) or threw (code 1), it
   * called `process.exit`, or it was killed.
   */
  readonly exited: Promise<ExitStatus>;
  /** Ends the child (`'SIGTERM'` by default). Returns false if it had already ended. */
  kill(signal?: NodeJS.Signals): boolean;
}

/**
 * Starts children that run a module, like Python's `multiprocessing.Process`.
 *
 * The module's default export is called with a {@link ChildContext}: the child's backend and the
 * `args`. The module imports only `@ipcx/core`, so the same module runs on every backend.
 */
export interface Processes {
  /**
   * Starts a child running `entry` (a file URL or absolute path of an ES module, already JavaScript).
   * Resolves once the child is started. The child ends when its default export's promise settles.
   * Where the backend can see the file system (Node), an entry file that does not exist or cannot
   * be read rejects at once with `IpcError` `ENOENT`/`EACCES` (syscall `access`, `path` the file)
   * instead of a child that exits with code 1.
   */
  spawn<A extends readonly unknown[]>(entry: string | URL, options?: SpawnOptions<A>): Promise<ChildProcess>;
  /**
   * Runs any executable (`file`: a path, or a name searched in `PATH`), with ipcx objects and other
   * descriptors at the numbers chosen in `options.descriptors`, as Python's
   * `subprocess.Popen(pass_fds=...)` does. Resolves once the program has been executed; rejects with
   * the kernel's code when it cannot be (`ENOENT`, `EACCES`, `ENOEXEC`, ...). The handle is the
   * same as {@link Processes.spawn}'s: `exited` gives the exit code or the signal, `kill()` signals
   * it, `await using` kills and waits. Only backends with the `executables` feature run programs;
   * others reject with `ENOSYS`.
   */
  spawnExecutable(file: string, options?: SpawnExecutableOptions): Promise<ChildProcess>;
}

/** DI token for {@link Processes}. */
export const Processes: symbol = factoryToken('processes');

/** What a child's main function receives. */
export interface ChildContext<A extends readonly unknown[] = unknown[]> {
  /** The backend the parent used, set up for this child. */
  readonly backend: IpcBackend;
  /** The `args` given to `spawn`, with ipcx objects revived. */
  readonly args: A;
  /**
   * This child's id as its parent sees it ({@link ChildProcess.pid}): the OS process id on the
   * native backend, the worker's thread id on the worker backend (where `process.pid` is the
   * parent's, since the child shares the process).
   */
  readonly pid: number;
}

/** The shape of a child module's default export. */
export type ChildMain<A extends readonly unknown[] = unknown[]> = (context: ChildContext<A>) => unknown;

/** Types a child module's default export: `export default defineChild<[PipeWriter]>(async ({ args }) => ...)`. */
export function defineChild<A extends readonly unknown[]>(main: ChildMain<A>): ChildMain<A> {
  return main;
}

// One slot on globalThis, so that two copies of @ipcx/core in one process still agree.
const contextSlot = Symbol.for('ipcx.childContext');

/**
 * The context of the child this code runs in (for code that is not the main function itself).
 * Throws if this process or worker was not started by `processes.spawn`.
 */
export function childContext<A extends readonly unknown[] = unknown[]>(): ChildContext<A> {
  const context = (globalThis as Record<symbol, unknown>)[contextSlot];
  if (context === undefined) throw new Error('childContext(): this code is not running in a child started by processes.spawn');
  return context as ChildContext<A>;
}

/** True inside a child started by `processes.spawn`. */
export function isChild(): boolean {
  return (globalThis as Record<symbol, unknown>)[contextSlot] !== undefined;
}

/**
 * For backends: rebuilds the objects in the args that libraries packed by module (importing
 * each {@link ModuleTransfer.module}), records the context before the child's module is imported,
 * then runs its default export if it is a function. Returns what the main function returned.
 */
export async function runChildMain(unrevived: ChildContext<readonly unknown[]>, entry: string): Promise<unknown> {
  const args = (await reviveModuleTransfers(unrevived.args, unrevived.backend)) as readonly unknown[];
  const context: ChildContext<readonly unknown[]> = { ...unrevived, args };
  (globalThis as Record<symbol, unknown>)[contextSlot] = context;
  const module = (await import(/* @vite-ignore */ entry)) as { default?: unknown };
  if (typeof module.default === 'function') return await (module.default as ChildMain<readonly unknown[]>)(context);
  return undefined;
}
