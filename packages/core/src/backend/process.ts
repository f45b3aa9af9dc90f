/**
 * Argument checks of `processes.spawn` and `spawnExecutable`.
 *
 * For backends only (`@ipcx/core/backend`): every backend validates through these, so misuse
 * raises the same `TypeError`/`RangeError` with the same message before any system call.
 */
import { descriptorNumberOf } from './descriptor.js';
import { checkCloneable, checkInteger, checkOptions, checkString } from './validate.js';
import { IpcError } from '../errors.js';
import type { SpawnExecutableOptions, SpawnOptions } from '../process.js';
import { isTransferable } from '../transfer.js';
import type { Processes } from '../process.js';

/** Validated arguments of {@link Processes.spawn}. */
export interface CheckedProcessSpawn<A extends readonly unknown[]> {
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
export function checkProcessSpawn<A extends readonly unknown[]>(
  entry: unknown,
  options: unknown,
  absolutePathUrl: (path: string) => string | undefined,
): CheckedProcessSpawn<A> {
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
export interface CheckedProcessSpawnExecutable {
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
 * string, `args` strings, `env` string values with non-empty keys without `=`, and no NUL byte in
 * any of them (file, args, env keys and values, cwd), `descriptors` keyed by
 * numbers 0-65535 (RangeError beyond) with values that are descriptor sources, `'inherit'` or
 * `'ignore'` (TypeError otherwise; an ipcx object without an OS descriptor too).
 */
export function checkProcessSpawnExecutable(file: unknown, options: unknown): CheckedProcessSpawnExecutable {
  checkString('file', file);
  const checkedFile = checkNoNul('file', file);
  const { args, env, cwd, descriptors } = checkOptions<SpawnExecutableOptions>('options', options);
  if (args !== undefined && !Array.isArray(args)) throw new TypeError('options.args must be an array of strings');
  const checkedArgs = (args ?? []).map((arg, index) => checkNoNul(`options.args[${index}]`, arg));
  if (env !== undefined) {
    if (typeof env !== 'object' || env === null) throw new TypeError('options.env must be an object of strings');
    for (const [key, value] of Object.entries(env)) {
      if (key.length === 0 || key.includes('=')) throw new TypeError(`options.env key '${key}' must be non-empty and without '='`);
      // The child's environment is C strings: a key with a NUL would be cut there, and the child
      // would get the part before it without its value (or a different variable than asked for).
      if (key.includes('\0')) throw new TypeError(`options.env key ${JSON.stringify(key)} must not contain NUL bytes`);
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
export function checkProcessEntryFile(url: string): void {
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
