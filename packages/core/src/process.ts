import type { IpcBackend } from './backend.js';
import { descriptorNumberOf, type DescriptorSource } from './descriptor.js';
import { IpcError } from './errors.js';
import type { ExitStatus } from './options.js';
import { isTransferable } from './transfer.js';
import { checkCloneable, checkInteger, checkOptions, checkString } from './validate.js';

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
export const Processes: unique symbol = Symbol.for('ipcx.Processes');

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
 * For backends: records the context before the child's module is imported, then runs its default
 * export if it is a function. Returns what the main function returned.
 */
export async function runChildMain(context: ChildContext<readonly unknown[]>, entry: string): Promise<unknown> {
  (globalThis as Record<symbol, unknown>)[contextSlot] = context;
  const module = (await import(/* @vite-ignore */ entry)) as { default?: unknown };
  if (typeof module.default === 'function') return await (module.default as ChildMain<readonly unknown[]>)(context);
  return undefined;
}

/** Validated arguments of {@link Processes.spawn}. */
export interface CheckedSpawn<A extends readonly unknown[]> {
  /** The entry module as a URL string. */
  readonly entry: string;
  /** `options.args`, if given. */
  readonly args: A | undefined;
  /** `options.env`, as given. */
  readonly env: SpawnOptions<A>['env'];
  /** `options.user`, if given (ids checked). */
  readonly user: SpawnOptions<A>['user'];
  /** `options.execArgv` (strings without NUL bytes), `[]` if not given. */
  readonly execArgv: readonly string[];
  /** `options.stderr`, `'inherit'` if not given. */
  readonly stderr: 'inherit' | 'ignore';
}

/**
 * For backends: checks the options of {@link Processes.spawn} (`args` an array, `user` ids from 0
 * to 0xfffffffe, `execArgv` strings, `stderr` `'inherit'` or `'ignore'`: TypeError otherwise), then its entry, a file URL or an absolute path (`TypeError` otherwise); returns
 * the entry as a URL. Core has no file system: `absolutePathUrl` is the platform's, giving the
 * file URL of an absolute path and `undefined` for a relative one.
 */
export function checkSpawn<A extends readonly unknown[]>(
  entry: unknown,
  options: unknown,
  absolutePathUrl: (path: string) => string | undefined,
): CheckedSpawn<A> {
  const { args, env, user, execArgv, stderr } = checkOptions<SpawnOptions<A>>('options', options);
  if (args !== undefined && !Array.isArray(args)) throw new TypeError('options.args must be an array');
  if (args !== undefined) checkCloneable('options.args', args);
  if (user !== undefined) {
    checkInteger('options.user.uid', user.uid, 0, 0xfffffffe);
    checkInteger('options.user.gid', user.gid, 0, 0xfffffffe);
  }
  if (execArgv !== undefined && !Array.isArray(execArgv)) throw new TypeError('options.execArgv must be an array of strings');
  const checkedExecArgv = (execArgv ?? []).map((option, index) => checkNoNul(`options.execArgv[${index}]`, option));
  if (stderr !== undefined && stderr !== 'inherit' && stderr !== 'ignore') throw new TypeError(`options.stderr must be 'inherit' or 'ignore'`);
  return { entry: entryUrl(entry, absolutePathUrl), args, env, user, execArgv: checkedExecArgv, stderr: stderr ?? 'inherit' };
}

function entryUrl(entry: unknown, absolutePathUrl: (path: string) => string | undefined): string {
  if (entry instanceof URL) return entry.href;
  if (typeof entry !== 'string' || entry.length === 0) throw new TypeError('entry must be a file URL or an absolute path');
  if (entry.startsWith('file:')) return entry;
  const url = absolutePathUrl(entry);
  if (url === undefined) throw new TypeError(`entry must be a file URL or an absolute path, received '${entry}'`);
  return url;
}

/** Validated arguments of {@link Processes.spawnExecutable}. */
export interface CheckedSpawnExecutable {
  readonly file: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>> | undefined;
  readonly cwd: string | undefined;
  /**
   * Descriptor number in the child -> number in this process, `'inherit'` or `'ignore'`, 0-2
   * always present; `null` for an ipcx object that has no OS descriptor (a System V queue, any
   * worker object), which a backend that runs executables rejects with `TypeError`.
   */
  readonly descriptors: ReadonlyMap<number, number | 'inherit' | 'ignore' | null>;
}

// The highest descriptor number a child may be given (well under any RLIMIT_NOFILE hard limit).
const MAX_CHILD_DESCRIPTOR = 65535;

function checkNoNul(name: string, value: unknown): string {
  if (typeof value !== 'string') throw new TypeError(`${name} must be a string`);
  if (value.includes('\0')) throw new TypeError(`${name} must not contain NUL bytes`);
  return value;
}

/**
 * For backends: checks the arguments of {@link Processes.spawnExecutable}: `file` a non-empty
 * string, `args` strings, `env` string values with keys without `=`, `descriptors` keyed by
 * numbers 0-65535 (RangeError beyond) with values that are descriptor sources, `'inherit'` or
 * `'ignore'` (TypeError otherwise; an ipcx object without an OS descriptor too).
 */
export function checkSpawnExecutable(file: unknown, options: unknown): CheckedSpawnExecutable {
  checkString('file', file);
  const checkedFile = checkNoNul('file', file);
  const { args, env, cwd, descriptors } = checkOptions<SpawnExecutableOptions>('options', options);
  if (args !== undefined && !Array.isArray(args)) throw new TypeError('options.args must be an array of strings');
  const checkedArgs = (args ?? []).map((arg, index) => checkNoNul(`options.args[${index}]`, arg));
  if (env !== undefined) {
    if (typeof env !== 'object' || env === null) throw new TypeError('options.env must be an object of strings');
    for (const [key, value] of Object.entries(env)) {
      if (key.length === 0 || key.includes('=')) throw new TypeError(`options.env key '${key}' must be non-empty and without '='`);
      checkNoNul(`options.env.${key}`, value);
    }
  }
  if (cwd !== undefined) checkNoNul('options.cwd', cwd);
  const map = new Map<number, number | 'inherit' | 'ignore' | null>([
    [0, 'inherit'],
    [1, 'inherit'],
    [2, 'inherit'],
  ]);
  if (descriptors !== undefined) {
    if (typeof descriptors !== 'object' || descriptors === null) throw new TypeError('options.descriptors must be an object keyed by descriptor numbers');
    for (const [key, value] of Object.entries(descriptors)) {
      const number = Number(key);
      if (!/^\d+$/.test(key)) throw new TypeError(`options.descriptors key '${key}' must be a descriptor number`);
      checkInteger(`options.descriptors key`, number, 0, MAX_CHILD_DESCRIPTOR);
      const name = `options.descriptors[${key}]`;
      if (value === 'inherit' || value === 'ignore') {
        map.set(number, value);
        continue;
      }
      const fd = descriptorNumberOf(name, value);
      if (fd === undefined && !isTransferable(value)) throw new TypeError(`${name} must be an ipcx object, a FileHandle, a descriptor number, 'inherit' or 'ignore'`);
      map.set(number, fd ?? null);
    }
  }
  return { file: checkedFile, args: checkedArgs, env, cwd, descriptors: map };
}

/**
 * For backends whose children load their entry from a file (Node hosts): throws before anything
 * starts when the `file:` URL `url` names no readable file, with the code access(2) gives
 * (`ENOENT`, `EACCES`) as an {@link IpcError}; the child would only exit 1 after printing Node's
 * ERR_MODULE_NOT_FOUND, and a caller waiting on it for a reply would wait forever. A URL Node
 * cannot turn into a path (a NUL byte, a bad %-escape) is a TypeError. Does nothing for other URLs
 * or where there is no Node (core loads no `node:` module statically, so it also loads in browsers).
 */
export function checkEntryFile(url: string): void {
  const getBuiltin = typeof process === 'object' ? process.getBuiltinModule : undefined;
  if (!url.startsWith('file:') || typeof getBuiltin !== 'function') return;
  const fs = getBuiltin('node:fs') as typeof import('node:fs');
  const { fileURLToPath } = getBuiltin('node:url') as typeof import('node:url');
  let file = url;
  try {
    file = fileURLToPath(url);
    fs.accessSync(file, fs.constants.R_OK);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    // Node's argument errors (ERR_*; a URIError has no code) mean the entry names no file: misuse.
    if (typeof code !== 'string' || !/^E[A-Z0-9]+$/.test(code)) throw new TypeError(`entry must be a file URL or an absolute path of a file, received '${url}'`, { cause: error });
    throw new IpcError(code as `E${string}`, { syscall: 'access', path: file, object: 'entry module' });
  }
}
