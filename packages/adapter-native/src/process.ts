/**
 * Children as OS processes: `node child-main.js`, with the ipcx objects in `args` carried the
 * kernel's way. Descriptors (pipe ends, sockets, FIFO ends) are inherited as fds 3, 4, ...;
 * keyed and named objects travel as their keys and names inside the serialized args.
 */
import { spawn as spawnProcess, type ChildProcess as NodeChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants as fsConstants, fstatSync, openSync, statSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { serialize } from 'node:v8';
import {
  IpcError,
  packTransferables,
  type ChildProcess,
  type ExitStatus,
  type Processes,
  type SpawnExecutableOptions,
  type SpawnOptions,
  type TransferRecord,
} from '@ipcx/core';
import { checkProcessSpawn, checkProcessSpawnExecutable, checkProcessEntryFile } from '@ipcx/core/backend';
import { PollEvent, addon } from './addon.js';

/** The addon functions of process.cc (and the poller's). */
interface ProcessAddon {
  spawnExecutable(path: string, argv: string[], envp: string[], cwd: string | null, map: [number, number][]): [number, number];
  reapChild(pidfd: number): [number | null, number] | null;
  signalChild(pidfd: number, signal: number): number;
  pollStart(fd: number, events: number, callback: (status: number, events: number) => void): number;
  pollClose(id: number): void;
  close(fd: number): number;
}

const native = addon as unknown as ProcessAddon;

/** Environment variable that carries the child's spec (entry, args, records). */
export const CHILD_SPEC_VARIABLE = 'IPCX_NATIVE_CHILD';
/** The first descriptor number a child receives objects at (0-2 are stdio). */
const FIRST_INHERITED_FD = 3;
const childMain = path.join(path.dirname(fileURLToPath(import.meta.url)), 'child-main.js');

/** What a native child receives. */
export interface ChildSpec {
  readonly entry: string;
  readonly packed: unknown;
  readonly records: TransferRecord[];
}

/** The file URL of an absolute path; `undefined` for a relative one (core's `checkProcessSpawn` rejects it). */
function absolutePathUrl(entry: string): string | undefined {
  return path.isAbsolute(entry) ? pathToFileURL(entry).href : undefined;
}

/** A running OS child. */
class NativeChildProcess implements ChildProcess {
  readonly exited: Promise<ExitStatus>;
  private ended = false;

  constructor(private readonly child: NodeChildProcess) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.ended = true;
        resolve({ code, signal });
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    if (this.ended) return false;
    return this.child.kill(signal);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.kill('SIGKILL');
    await this.exited;
  }
}

/** The name of a signal number (`'SIGKILL'`), or `'SIG<n>'` for one Node has no name for. */
function signalName(signal: number): string {
  for (const [name, number] of Object.entries(osConstants.signals)) if (number === signal) return name;
  return `SIG${signal}`;
}

/**
 * A program started by spawnExecutable, followed through a pidfd: readable once it has ended
 * (polled by libuv, which keeps the loop alive meanwhile, as Node's own children do), reaped with
 * waitid(P_PIDFD) and signalled with pidfd_send_signal, so no pid reuse can ever misdirect either.
 */
class NativeExecutableChild implements ChildProcess {
  readonly exited: Promise<ExitStatus>;
  private ended = false;
  private pollId = 0;

  constructor(
    readonly pid: number,
    private readonly pidfd: number,
  ) {
    this.exited = new Promise((resolve) => {
      this.pollId = native.pollStart(pidfd, PollEvent.readable, () => {
        const status = native.reapChild(pidfd);
        if (status === null) return;
        this.ended = true;
        native.pollClose(this.pollId);
        native.close(pidfd);
        resolve({ code: status[0], signal: status[0] === null ? signalName(status[1]) : null });
      });
    });
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    const number = (osConstants.signals as Record<string, number | undefined>)[signal];
    if (typeof number !== 'number') throw new TypeError(`unknown signal '${String(signal)}'`);
    if (this.ended) return false;
    return native.signalChild(this.pidfd, number) === 0;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.kill('SIGKILL');
    await this.exited;
  }
}

/**
 * The program to execute: `file` itself when it holds a slash (relative to `cwd`), else the first
 * executable regular file of that name in the child's `PATH`, as execvp searches it. ENOENT (or
 * EACCES when only non-executable files of that name exist) otherwise.
 */
function resolveExecutable(file: string, searchPath: string | undefined, cwd: string | undefined): string {
  const base = cwd ?? process.cwd();
  if (file.includes('/')) return path.resolve(base, file);
  let denied = false;
  for (const dir of (searchPath ?? '/usr/local/bin:/usr/bin:/bin').split(':')) {
    const candidate = path.resolve(base, dir === '' ? '.' : dir, file);
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EACCES') denied = true;
    }
  }
  throw new IpcError(denied ? 'EACCES' : 'ENOENT', { syscall: 'execvp', path: file, object: `executable '${file}'` });
}

/** True if `fd` is an open descriptor of this process. */
function isOpen(fd: number): boolean {
  try {
    fstatSync(fd);
    return true;
  } catch {
    return false;
  }
}

/** The native {@link Processes}. */
export class NativeProcesses implements Processes {
  /**
   * Starts `node [execArgv] child-main.js` running `entry`'s default export. Rejects with `ENOENT`
   * (syscall `access`) when the entry file does not exist; `stderr: 'ignore'` gives the child
   * /dev/null as descriptor 2.
   */
  async spawn<A extends readonly unknown[]>(entry: string | URL, options?: SpawnOptions<A>): Promise<ChildProcess> {
    const { entry: url, args, env, user, execArgv, stderr } = checkProcessSpawn<A>(entry, options, absolutePathUrl);
    checkProcessEntryFile(url);
    const { packed, records } = packTransferables(args ?? []);
    const inherited: number[] = [];
    const childRecords = records.map((record) => ({
      ...record,
      handles: record.handles?.map((fd) => FIRST_INHERITED_FD + inherited.push(fd) - 1),
    }));
    const spec: ChildSpec = { entry: url, packed, records: childRecords };
    const child = spawnProcess(process.execPath, [...execArgv, childMain], {
      // Each inherited descriptor lands at its index here: libuv dup2()s it into place, which also
      // clears close-on-exec for the child's copy only.
      stdio: ['ignore', 'inherit', stderr, ...inherited],
      env: { ...process.env, ...env, [CHILD_SPEC_VARIABLE]: serialize(spec).toString('base64') },
      ...(user !== undefined ? { uid: user.uid, gid: user.gid } : {}),
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    return new NativeChildProcess(child);
  }

  /**
   * Runs `file` with posix_spawn (process.cc): each descriptor of `options.descriptors` placed at
   * its number, every other descriptor closed in the child, signal dispositions reset; followed
   * through a pidfd. `'ignore'` is /dev/null, opened here for the spawn only.
   */
  async spawnExecutable(file: string, options?: SpawnExecutableOptions): Promise<ChildProcess> {
    const checked = checkProcessSpawnExecutable(file, options);
    const environment = checked.env ?? Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined));
    const executable = resolveExecutable(checked.file, environment.PATH, checked.cwd);
    const opened: number[] = [];
    try {
      // [number here, number in the child]; 'inherit' is the same number on both sides.
      const pairs: [number, number][] = [];
      for (const [target, source] of checked.descriptors) {
        if (source === null) throw new TypeError(`options.descriptors[${target}] is an ipcx object without an OS descriptor (pass its key or name in args instead)`);
        // 'inherit' of a number this process does not have open: /dev/null, as 'ignore'.
        if (source === 'inherit' && isOpen(target)) pairs.push([target, target]);
        else if (source === 'inherit' || source === 'ignore') {
          const devNull = openSync('/dev/null', 'r+');
          opened.push(devNull);
          pairs.push([devNull, target]);
        } else pairs.push([source, target]);
      }
      const envp = Object.entries(environment).map(([key, value]) => `${key}=${value}`);
      const [pid, pidfd] = native.spawnExecutable(executable, [checked.file, ...checked.args], envp, checked.cwd ?? null, pairs);
      return new NativeExecutableChild(pid, pidfd);
    } finally {
      for (const fd of opened) closeSync(fd);
    }
  }
}
