/**
 * The ledger: a record, kept on disk, of every kernel object and file that ipcx created, so that
 * what a SIGKILLed program left behind can be found and removed later (`ipcx ls`, `ipcx clean`)
 * when no ipcx process runs any more. Python's multiprocessing resource tracker is a process that
 * cleans up when its program ends normally; a record on disk survives any death, the tracker's
 * own included, and the kernel objects it names outlive their creators by design.
 *
 * Where: one directory per user, `$XDG_RUNTIME_DIR/ipcx-<uid>/ledger/` when that runtime
 * directory exists, else `/tmp/ipcx-<uid>/ledger/` (`IPCX_LEDGER_DIR` overrides both, for tests
 * and for services that keep state elsewhere). Readers look in both defaults, since a program
 * started by a service manager and a shell may not agree on `XDG_RUNTIME_DIR`. Not in /dev/shm:
 * that is where the objects themselves live, and leak checks count its entries. A directory that
 * is not ours, is reachable through a symlink or is open to others is never used (another user
 * could otherwise plant or read entries).
 *
 * What: one small JSON file per object, named by a hash of its kind and its id, name or path, so
 * that whoever removes the object (this process, another, a child) can drop the entry without
 * reading the directory. Written to a temporary name and renamed: a reader never sees half an
 * entry, even when the writer is killed mid-write.
 *
 * Each entry holds the creator's pid AND its start time (field 22 of /proc/<pid>/stat) plus the
 * boot id, so that a recycled pid or a reboot is never taken for the creator still alive, and the
 * object's identity (dev+inode for anything with a file; id, key and creator uid, plus creator pid
 * for segments, for System V objects), so that an object made again under the same key, name or
 * path by someone else is never taken for ours.
 *
 * Cost: one file write and rename when an object is created, one unlink when ipcx removes it;
 * nothing on any send, receive or wait. A failure to write the ledger never fails the operation
 * that created the object (the object works; it is only not findable later): it is reported once
 * as a process warning.
 */
import { Errno } from '@ipcx/core';
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, lstatSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, unlinkSync, writeFileSync, type BigIntStats, type Stats } from 'node:fs';
import path from 'node:path';
import { addon } from './addon.js';

/** The kinds of object the ledger records (the names `ipcx ls` prints). */
export const LEDGER_KINDS = [
  'sysv-message-queue',
  'sysv-semaphore-set',
  'sysv-segment',
  'posix-message-queue',
  'posix-semaphore',
  'posix-segment',
  'fifo',
  'unix-socket',
  'file-mapping',
] as const;

/** A kind of object the ledger records. */
export type LedgerKind = (typeof LEDGER_KINDS)[number];

type SysvKind = 'sysv-message-queue' | 'sysv-semaphore-set' | 'sysv-segment';
type PosixNameKind = 'posix-message-queue' | 'posix-semaphore' | 'posix-segment';
type PathKind = 'fifo' | 'unix-socket' | 'file-mapping';

/**
 * What identifies the object beyond its name: kept at creation, compared before any removal. An
 * inode number alone is not enough: a file system hands a freed inode number to the next file
 * made (seen here: rm + mkfifo of the same path got the same inode), so files also carry their
 * birth time (statx btime, in ns) where the file system keeps one ('0' where it does not: the
 * mqueue file system, whose inode numbers come from a counter that only grows, as tmpfs's do).
 */
export type LedgerIdentity =
  | { readonly id: number; readonly key: number; readonly cuid: number; readonly cpid?: number }
  | FileIdentity;

/** Identity of an object that has an inode. */
export interface FileIdentity {
  readonly dev: number;
  readonly ino: number;
  readonly birth: string;
}

function fileIdentity(stat: BigIntStats): FileIdentity {
  return { dev: Number(stat.dev), ino: Number(stat.ino), birth: String(stat.birthtimeNs) };
}

function sameFile(stat: BigIntStats, identity: FileIdentity): boolean {
  return Number(stat.dev) === identity.dev && Number(stat.ino) === identity.ino && String(stat.birthtimeNs) === identity.birth;
}

/** One ledger entry (one file). */
export interface LedgerEntry {
  readonly version: 1;
  readonly kind: LedgerKind;
  /** The key as `ipcs` prints it (`0x...`), the POSIX name, or the absolute path. */
  readonly name: string;
  /** System V only: the id (`msqid`, `semid`, `shmid`). */
  readonly id?: number;
  /** System V only: the key (0 for `IPC_PRIVATE`), as a signed 32-bit `key_t`. */
  readonly key?: number;
  readonly identity: LedgerIdentity;
  /** The creator's pid and its start time in clock ticks after boot (/proc/<pid>/stat field 22). */
  readonly pid: number;
  readonly pidStart: string;
  /** /proc/sys/kernel/random/boot_id when the entry was written. */
  readonly bootId: string;
  /** The creator's effective uid. */
  readonly uid: number;
  /** Creation time, milliseconds since the epoch. */
  readonly created: number;
}

/** The addon calls the ledger needs to probe and remove objects (declared here, as each primitive's file does). */
interface LedgerAddon {
  msgRemove(id: number): number;
  semRemove(id: number): number;
  shmRemove(id: number): number;
  mqOpen(name: string, access: number, create: boolean, exclusive: boolean, mode: number, maxMessages: number, messageSize: number): number;
  mqAttributes(fd: number): { readonly currentMessages: number };
  mqUnlink(name: string): number;
  /** Throws IpcError. */
  semUnlink(name: string): void;
  posixShmUnlink(name: string): number;
  close(fd: number): number;
}

const native = addon as unknown as LedgerAddon;

const { ENOENT, EEXIST, EACCES } = Errno;
/** mqOpen access codes (posix_message_queue.cc). */
const MQ_READ = 0;
const MQ_WRITE = 1;

// ---- Where the ledger lives ---------------------------------------------------------------

function effectiveUid(): number {
  return process.geteuid?.() ?? process.getuid?.() ?? 0;
}

let directories: { readonly for: string; readonly dirs: string[] } | undefined;

/** Every directory a reader looks in (existing or not), the writer's first; worked out once per environment setting. */
export function ledgerDirectories(): string[] {
  const override = process.env.IPCX_LEDGER_DIR;
  const runtime = process.env.XDG_RUNTIME_DIR;
  const setting = `${override}\0${runtime}\0${effectiveUid()}`;
  if (directories?.for === setting) return directories.dirs;
  const dirs: string[] = [];
  if (override !== undefined && override !== '') dirs.push(path.resolve(override));
  else {
    const user = `ipcx-${effectiveUid()}`;
    if (runtime !== undefined && path.isAbsolute(runtime) && isOwnDirectory(runtime, false)) dirs.push(path.join(runtime, user, 'ledger'));
    dirs.push(path.join('/tmp', user, 'ledger'));
  }
  directories = { for: setting, dirs };
  return dirs;
}

/** A directory that exists, is not a symlink, and belongs to `owner` (default: us), and, if `closed`, is closed to others. */
function isOwnDirectory(dir: string, closed: boolean, owner = effectiveUid()): boolean {
  let stat: Stats;
  try {
    stat = lstatSync(dir);
  } catch {
    return false;
  }
  return stat.isDirectory() && stat.uid === owner && (!closed || (stat.mode & 0o077) === 0);
}

/**
 * For root (`ipcx ls --all-users`): every user's ledger in the default places, each kept only if
 * it and its parent belong to the user it is named after and are closed to others, so that a
 * folder planted by someone else is never read.
 */
export function allUsersLedgerDirectories(): Array<{ dir: string; uid: number }> {
  const found: Array<{ dir: string; uid: number }> = [];
  const consider = (base: string, uid: number) => {
    const dir = path.join(base, 'ledger');
    if (isOwnDirectory(base, true, uid) && isOwnDirectory(dir, true, uid)) found.push({ dir, uid });
  };
  const named = (names: string[]) => names.map((name) => /^ipcx-(\d+)$/.exec(name)).filter((match) => match !== null);
  for (const match of named(listDirectory('/tmp'))) consider(path.join('/tmp', match[0]), Number(match[1]));
  for (const user of listDirectory('/run/user')) {
    for (const match of named(listDirectory(path.join('/run/user', user)))) {
      if (match[1] === user) consider(path.join('/run/user', user, match[0]), Number(match[1]));
    }
  }
  return found;
}

function listDirectory(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Makes `dir` (mode 0700) unless it exists, then checks that it is ours and closed to others. */
function ensurePrivateDirectory(dir: string): boolean {
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return false;
  }
  return isOwnDirectory(dir, true);
}

let writableDir: string | null | undefined;
let writableFor: string | undefined;

/** The directory this process writes to, made on first use; null when none can be used safely. */
function writerDirectory(): string | null {
  const dirs = ledgerDirectories();
  const wanted = dirs.join('\0');
  if (writableFor === wanted && writableDir !== undefined) return writableDir;
  writableFor = wanted;
  writableDir = null;
  for (const dir of dirs) {
    const usable = process.env.IPCX_LEDGER_DIR ? ensurePrivateDirectory(dir) : ensurePrivateDirectory(path.dirname(dir)) && ensurePrivateDirectory(dir);
    if (usable) {
      writableDir = dir;
      break;
    }
  }
  return writableDir;
}

// ---- Who we are ------------------------------------------------------------------------------

/** Field 22 of /proc/<pid>/stat (start time in clock ticks after boot) and the state letter; null if no such process. */
export function processStart(pid: number | 'self'): { start: string; state: string } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may hold spaces and ')': fields resume after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state), so field 22 is rest[19].
  return { start: rest[19] ?? '', state: rest[0] ?? '' };
}

let self: { pid: number; start: string } | undefined;
let cachedBootId: string | undefined;

/** This boot's id: entries of an earlier boot name creators that cannot be alive. */
export function bootId(): string {
  cachedBootId ??= (() => {
    try {
      return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      return '';
    }
  })();
  return cachedBootId;
}

function me(): { pid: number; start: string } {
  // A forked process gets a new pid: recompute then (ipcx children are new Node processes anyway).
  if (self === undefined || self.pid !== process.pid) self = { pid: process.pid, start: processStart('self')?.start ?? '' };
  return self;
}

/** Whether the process that wrote `entry` is still running: same boot, same pid, same start time, not a zombie. */
export function creatorAlive(entry: Pick<LedgerEntry, 'pid' | 'pidStart' | 'bootId'>): boolean {
  if (entry.bootId !== bootId()) return false;
  const now = processStart(entry.pid);
  return now !== null && now.start === entry.pidStart && now.state !== 'Z' && now.state !== 'X';
}

// ---- Writing ---------------------------------------------------------------------------------

/**
 * The entry's file name, derived from what names the object so that any remover finds it without
 * a scan: the id itself for System V objects (the cheapest, and readable in a listing), the name
 * for POSIX objects when it is short and plain, else a hash (paths hold '/', names may be long).
 */
function entryFile(kind: LedgerKind, reference: string): string {
  if (/^\d+$/.test(reference) || (/^\/[A-Za-z0-9._-]{1,100}$/.test(reference) && !reference.startsWith('/.'))) return `${kind}-${reference.replace('/', '')}.json`;
  return `${kind}-${createHash('sha256').update(`${kind}\0${reference}`).digest('hex').slice(0, 32)}.json`;
}

/** What names the object for {@link entryFile}: the id (System V), the name (POSIX) or the absolute path. */
function referenceOf(kind: LedgerKind, what: number | string): string {
  return typeof what === 'number' ? String(what) : kind === 'fifo' || kind === 'unix-socket' || kind === 'file-mapping' ? path.resolve(what) : what;
}

let warned = false;

function write(entry: Omit<LedgerEntry, 'version' | 'pid' | 'pidStart' | 'bootId' | 'uid' | 'created'>, reference: string): void {
  const { pid, start } = me();
  const text = JSON.stringify({ version: 1, ...entry, pid, pidStart: start, bootId: bootId(), uid: effectiveUid(), created: Date.now() } satisfies LedgerEntry);
  // Two tries: a folder removed under a long-running process (a /tmp cleaner) is made again.
  for (let attempt = 0; ; attempt++) {
    let temporary: string | undefined;
    try {
      const dir = writerDirectory();
      if (dir === null) throw new Error(`no private ledger directory among ${ledgerDirectories().join(', ')}`);
      temporary = path.join(dir, `.${pid}-${Math.random().toString(36).slice(2)}.tmp`);
      writeFileSync(temporary, text, { mode: 0o600, flag: 'wx' });
      // rename is atomic: a reader sees the old entry or the new one, never a torn one.
      renameSync(temporary, path.join(dir, entryFile(entry.kind, reference)));
      return;
    } catch (error) {
      if (temporary !== undefined) discardCreatedFile(temporary);
      if (attempt === 0 && (error as NodeJS.ErrnoException).code === 'ENOENT') {
        writableFor = undefined;
        continue;
      }
      if (!warned) {
        warned = true;
        process.emitWarning(`ipcx could not record a created object in its ledger (ipcx ls/clean will not see it): ${(error as Error).message}`, { code: 'IPCX_LEDGER' });
      }
      return;
    }
  }
}

/** The creator records a System V object it created (`id`, `key`). */
export function recordSysv(kind: SysvKind, id: number, key: number): void {
  // The id carries a sequence number that the kernel advances on each creation, so the same id
  // comes back only after tens of thousands of creations; key and creator uid must match too.
  // (ctime is no identity: IPC_SET, and SETVAL for semaphores, change it.) A segment also has
  // its creator's pid (shm_cpid), which we know: it is us.
  const identity = kind === 'sysv-segment' ? { id, key, cuid: effectiveUid(), cpid: process.pid } : { id, key, cuid: effectiveUid() };
  write({ kind, name: keyText(key), id, key, identity }, String(id));
}

/** The creator records a POSIX object it created; `fd` is a descriptor on it when there is one (message queues). */
export function recordPosix(kind: PosixNameKind, name: string, fd?: number): void {
  try {
    const stat = fd !== undefined ? fstatSync(fd, { bigint: true }) : lstatSync(devShmPath(kind, name), { bigint: true });
    write({ kind, name, identity: fileIdentity(stat) }, name);
  } catch {
    // Gone already (another process unlinked it): nothing to record.
  }
}

/** The creator records a file it created (FIFO, socket file, a mapped file it made). */
export function recordPath(kind: PathKind, file: string): void {
  try {
    const absolute = path.resolve(file);
    write({ kind, name: absolute, identity: fileIdentity(lstatSync(absolute, { bigint: true })) }, absolute);
  } catch {
    // Gone already: nothing to record.
  }
}

/** ipcx removed the object (by any process): its entry goes too. Never throws. */
export function recordRemoved(kind: LedgerKind, what: number | string): void {
  const name = entryFile(kind, referenceOf(kind, what));
  for (const dir of ledgerDirectories()) {
    try {
      unlinkSync(path.join(dir, name));
      return;
    } catch {
      // No entry here (made by another user, before the ledger existed, or dropped already).
    }
  }
}

/**
 * Runs an open call that returns an id/descriptor or `-errno`, learning whether it created the
 * object: with `create` but not `exclusive`, it tries create + exclusive first and, on `EEXIST`,
 * opens the existing object without create. The outcome and its error codes are those of the
 * plain call (the kernel checks existence before anything else an `IPC_CREAT`/`O_CREAT` call
 * checks); if the object disappears between the two calls, it tries again.
 */
export function openNoting(create: boolean, exclusive: boolean, call: (create: boolean, exclusive: boolean) => number): { result: number; created: boolean } {
  if (!create) return { result: call(false, false), created: false };
  if (exclusive) {
    const result = call(true, true);
    return { result, created: result >= 0 };
  }
  for (let attempt = 0; attempt < 4; attempt++) {
    const made = call(true, true);
    if (made !== -EEXIST) return { result: made, created: made >= 0 };
    const opened = call(false, false);
    if (opened !== -ENOENT) return { result: opened, created: false };
  }
  return { result: call(true, false), created: false };
}

/** {@link openNoting} for an open call that throws (an `IpcError` with `code`) instead of returning `-errno`. */
export function openNotingThrown<T>(create: boolean, exclusive: boolean, call: (create: boolean, exclusive: boolean) => T): { result: T; created: boolean } {
  if (!create || exclusive) return { result: call(create, exclusive), created: create };
  const codeOf = (error: unknown) => (error as { code?: unknown }).code;
  for (let attempt = 0; attempt < 4; attempt++) {
    try {
      return { result: call(true, true), created: true };
    } catch (error) {
      if (codeOf(error) !== 'EEXIST') throw error;
    }
    try {
      return { result: call(false, false), created: false };
    } catch (error) {
      if (codeOf(error) !== 'ENOENT') throw error;
    }
  }
  return { result: call(true, false), created: false };
}

// ---- Reading, probing, removing (the CLI and diagnostics) -----------------------------------

/** An entry as found on disk. */
export interface FoundEntry {
  readonly file: string;
  readonly entry: LedgerEntry;
}

/**
 * Every entry in the ledger directories of this user (or, with `allUsers`, for root, of every
 * user); unreadable or foreign files are skipped.
 */
export function readLedger(allUsers = false): FoundEntry[] {
  const found: FoundEntry[] = [];
  const seen = new Set<string>();
  const places = allUsers ? allUsersLedgerDirectories() : ledgerDirectories().map((dir) => ({ dir, uid: effectiveUid() }));
  for (const { dir, uid } of places) {
    if (!isOwnDirectory(dir, true, uid)) continue;
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      if (!name.endsWith('.json')) continue;
      const file = path.join(dir, name);
      try {
        const entry = JSON.parse(readFileSync(file, 'utf8')) as LedgerEntry;
        if (entry.version !== 1 || !(LEDGER_KINDS as readonly string[]).includes(entry.kind)) continue;
        // The same object recorded in two directories (different XDG_RUNTIME_DIR) is one object.
        const identityKey = `${entry.kind}\0${entry.name}\0${entry.id ?? ''}`;
        if (seen.has(identityKey)) continue;
        seen.add(identityKey);
        found.push({ file, entry });
      } catch {
        // Being replaced, or not ours to read: skip.
      }
    }
  }
  return found;
}

/** Drops an entry file (its object is gone, replaced, or removed). */
export function dropEntry(found: FoundEntry): void {
  try {
    unlinkSync(found.file);
  } catch {
    // Already dropped.
  }
}

/** What a probe found: the object as recorded, gone, replaced by another, or unverifiable (no permission). */
export interface Probe {
  readonly state: 'present' | 'gone' | 'replaced' | 'unverifiable';
  /** Permission bits. */
  readonly mode?: number;
  /** Bytes (segments, files, a System V queue's queued bytes), messages (POSIX queues) or semaphores. */
  readonly size?: number;
  readonly sizeUnit?: 'bytes' | 'messages' | 'semaphores';
  /** The object's id now (System V). */
  readonly id?: number;
}

/** The path under /dev/shm where glibc keeps a POSIX semaphore or segment. */
function devShmPath(kind: PosixNameKind, name: string): string {
  return kind === 'posix-semaphore' ? `/dev/shm/sem.${name.slice(1)}` : `/dev/shm/${name.slice(1)}`;
}

const SYSV_FILES: Record<SysvKind, string> = { 'sysv-message-queue': 'msg', 'sysv-semaphore-set': 'sem', 'sysv-segment': 'shm' };

/** Rows of /proc/sysvipc/<file> (what `ipcs` reads), by id, as named columns. */
function sysvRows(kind: SysvKind): Map<number, Record<string, string>> {
  const rows = new Map<number, Record<string, string>>();
  let text = '';
  try {
    text = readFileSync(`/proc/sysvipc/${SYSV_FILES[kind]}`, 'utf8');
  } catch {
    return rows;
  }
  const [header, ...lines] = text.split('\n');
  const columns = (header ?? '').trim().split(/\s+/);
  for (const line of lines) {
    const cells = line.trim().split(/\s+/);
    if (cells.length < columns.length) continue;
    const row: Record<string, string> = {};
    columns.forEach((column, i) => (row[column] = cells[i]!));
    rows.set(Number(row.msqid ?? row.semid ?? row.shmid), row);
  }
  return rows;
}

/** Looks at the object an entry names now, without changing anything. */
export function probe(entry: LedgerEntry, sysv?: Map<SysvKind, Map<number, Record<string, string>>>): Probe {
  switch (entry.kind) {
    case 'sysv-message-queue':
    case 'sysv-semaphore-set':
    case 'sysv-segment': {
      const rows = sysv?.get(entry.kind) ?? sysvRows(entry.kind);
      const row = rows.get(entry.id!);
      if (row === undefined) return { state: 'gone' };
      const identity = entry.identity as { key: number; cuid: number; cpid?: number };
      const same = (Number(row.key) | 0) === identity.key && Number(row.cuid) === identity.cuid && (identity.cpid === undefined || Number(row.cpid) === identity.cpid);
      if (!same) return { state: 'replaced' };
      const mode = Number.parseInt(row.perms ?? '0', 8) & 0o777;
      if (entry.kind === 'sysv-message-queue') return { state: 'present', mode, size: Number(row.cbytes), sizeUnit: 'bytes', id: entry.id! };
      if (entry.kind === 'sysv-semaphore-set') return { state: 'present', mode, size: Number(row.nsems), sizeUnit: 'semaphores', id: entry.id! };
      return { state: 'present', mode, size: Number(row.size), sizeUnit: 'bytes', id: entry.id! };
    }
    case 'posix-message-queue':
      return probePosixQueue(entry);
    case 'posix-semaphore':
    case 'posix-segment':
      return probeFile(entry, devShmPath(entry.kind, entry.name), (stat) => stat.isFile());
    case 'fifo':
      return probeFile(entry, entry.name, (stat) => stat.isFIFO());
    case 'unix-socket':
      return probeFile(entry, entry.name, (stat) => stat.isSocket());
    case 'file-mapping':
      return probeFile(entry, entry.name, (stat) => stat.isFile());
  }
}

function probeFile(entry: LedgerEntry, file: string, rightType: (stat: BigIntStats) => boolean): Probe {
  let stat: BigIntStats;
  try {
    stat = lstatSync(file, { bigint: true });
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? { state: 'gone' } : { state: 'unverifiable' };
  }
  if (!rightType(stat) || !sameFile(stat, entry.identity as FileIdentity)) return { state: 'replaced' };
  return { state: 'present', mode: Number(stat.mode) & 0o777, size: entry.kind === 'posix-semaphore' ? 1 : Number(stat.size), sizeUnit: entry.kind === 'posix-semaphore' ? 'semaphores' : 'bytes' };
}

/**
 * A POSIX queue has no path while /dev/mqueue is not mounted: open it by name (read, else write
 * access) and compare the descriptor's inode with the recorded one.
 */
function probePosixQueue(entry: LedgerEntry): Probe {
  let fd = native.mqOpen(entry.name, MQ_READ, false, false, 0, -1, -1);
  if (fd === -EACCES) fd = native.mqOpen(entry.name, MQ_WRITE, false, false, 0, -1, -1);
  if (fd === -ENOENT) return { state: 'gone' };
  if (fd < 0) return { state: 'unverifiable' };
  try {
    const stat = fstatSync(fd, { bigint: true });
    if (!sameFile(stat, entry.identity as FileIdentity)) return { state: 'replaced' };
    let messages: number | undefined;
    try {
      messages = native.mqAttributes(fd).currentMessages;
    } catch {
      messages = undefined;
    }
    return { state: 'present', mode: Number(stat.mode) & 0o777, ...(messages === undefined ? {} : { size: messages, sizeUnit: 'messages' as const }) };
  } finally {
    native.close(fd);
  }
}

/** Probes every System V entry against one read of /proc/sysvipc per kind. */
export function sysvSnapshot(): Map<SysvKind, Map<number, Record<string, string>>> {
  return new Map((['sysv-message-queue', 'sysv-semaphore-set', 'sysv-segment'] as const).map((kind) => [kind, sysvRows(kind)]));
}

/**
 * Removes the object an entry names, after checking once more that it is the one recorded.
 * Returns 0 or `-errno` (the removal's own error, e.g. `-EPERM`); `'replaced'`/`'gone'` when the
 * check failed and nothing was touched.
 */
export function removeObject(entry: LedgerEntry): number | 'replaced' | 'gone' | 'unverifiable' {
  const now = probe(entry);
  if (now.state !== 'present') return now.state;
  switch (entry.kind) {
    case 'sysv-message-queue':
      return native.msgRemove(entry.id!);
    case 'sysv-semaphore-set':
      return native.semRemove(entry.id!);
    case 'sysv-segment':
      return native.shmRemove(entry.id!);
    case 'posix-message-queue':
      return native.mqUnlink(entry.name);
    case 'posix-semaphore':
      try {
        native.semUnlink(entry.name);
        return 0;
      } catch (error) {
        return -((error as { errno?: number }).errno ?? 1);
      }
    case 'posix-segment':
      return native.posixShmUnlink(entry.name);
    case 'fifo':
    case 'unix-socket':
    case 'file-mapping':
      try {
        unlinkSync(entry.name);
        return 0;
      } catch (error) {
        return -((error as { errno?: number }).errno ?? 1);
      }
  }
}

/** How `ipcs` prints a key. */
export function keyText(key: number): string {
  return `0x${(key >>> 0).toString(16).padStart(8, '0')}`;
}

/** For `diagnostics.kernelObjects()`: POSIX queues that ipcx processes of this user created and that still exist. */
export function recordedPosixQueues(): string[] {
  return readLedger()
    .filter(({ entry }) => entry.kind === 'posix-message-queue' && probe(entry).state !== 'gone')
    .map(({ entry }) => `posix message queue ${entry.name}`);
}

/**
 * For a mapped file that ipcx is asked to create: makes it with `O_CREAT | O_EXCL` first (the
 * umask applies as it does to the addon's `open`), so that we know whether the file is ours.
 * Returns false when it existed already.
 */
export function createFileExclusively(file: string, mode: number): boolean {
  try {
    closeSync(openSync(file, 'wx', mode));
    return true;
  } catch {
    // EEXIST: not ours. Any other failure: the addon's own open reports it as an IpcError.
    return false;
  }
}

/** Removes a file that {@link createFileExclusively} made for a call that then failed; never throws. */
export function discardCreatedFile(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // Gone already: the caller's own error is what matters.
  }
}
