/**
 * Children of the Redis backend: local OS processes (`node child-main.js`) whose backend connects
 * to the same Redis with the parent's settings. Objects travel by their keys and names inside the
 * serialized args; the child opens nothing new, it attaches to the same server-side objects.
 *
 * Local pipe ends of the native backend (`@ipcx/adapter-native`) may ride along in the args (a
 * child on the same host can report through a pipe): their descriptors are inherited as fds 3, 4,
 * ... and the child wraps them with the native backend's classes. Any other foreign object is a
 * `TypeError`.
 */
import { spawn as spawnProcess, type ChildProcess as NodeChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { serialize } from 'node:v8';
import { IpcError, packTransferables, type ChildProcess, type ExitStatus, type Processes, type SpawnExecutableOptions, type SpawnOptions, type TransferRecord } from '@ipcx/core';
import { checkProcessSpawn, checkProcessSpawnExecutable, checkProcessEntryFile } from '@ipcx/core/backend';
import { newClientId, type ConnectionSpec, type RedisConnection } from './connection.js';

/** Environment variable that carries a child's spec. */
export const CHILD_SPEC_VARIABLE = 'IPCX_REDIS_CHILD';
/** The first descriptor number a child receives pipe ends at (0-2 are stdio). */
const FIRST_INHERITED_FD = 3;
/** Native objects a child can take by descriptor. */
export const LOCAL_PIPE_KINDS = new Set(['pipe-reader', 'pipe-writer', 'duplex-pipe']);
const childMain = path.join(path.dirname(fileURLToPath(import.meta.url)), 'child-main.js');

/** What a child receives. */
export interface ChildSpec {
  readonly entry: string;
  readonly packed: unknown;
  readonly records: TransferRecord[];
  readonly connection: ConnectionSpec;
  /** The child's client id (its parent reaps it when it exits). */
  readonly clientId: string;
}

function absolutePathUrl(entry: string): string | undefined {
  return path.isAbsolute(entry) ? pathToFileURL(entry).href : undefined;
}

/** A running child process. */
class RedisChildProcess implements ChildProcess {
  readonly exited: Promise<ExitStatus>;
  private ended = false;

  /**
   * `exited` settles once the child has ended and its SEM_UNDO records (if it died without
   * closing its backend) have been applied, as the kernel applies them when a process ends.
   */
  constructor(
    private readonly child: NodeChildProcess,
    reap: () => Promise<void>,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.ended = true;
        reap().then(
          () => resolve({ code, signal }),
          // The server is away: the child's lease runs out and another client reaps it.
          () => resolve({ code, signal }),
        );
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

/** {@link Processes} of the Redis backend. */
export class RedisProcesses implements Processes {
  constructor(private readonly connection: RedisConnection) {}

  /**
   * Not available: the backend's objects are no OS descriptors, so a program that is not ipcx
   * could not be given them (no `executables` feature). Rejects with `ENOSYS` after checking the
   * arguments as every backend does.
   */
  async spawnExecutable(file: string, options?: SpawnExecutableOptions): Promise<ChildProcess> {
    checkProcessSpawnExecutable(file, options);
    throw new IpcError('ENOSYS', { syscall: 'execve', object: 'redis backend', message: 'ENOSYS: the redis backend cannot run executables (its objects are no OS descriptors)' });
  }

  async spawn<A extends readonly unknown[]>(entry: string | URL, options?: SpawnOptions<A>): Promise<ChildProcess> {
    const { entry: url, args, env, user, execArgv, stderr } = checkProcessSpawn<A>(entry, options, absolutePathUrl);
    checkProcessEntryFile(url);
    const { packed, records } = packTransferables(args ?? []);
    const inherited: number[] = [];
    const childRecords = records.map((record) => {
      if (record.kind.startsWith('redis-')) return record;
      if (!LOCAL_PIPE_KINDS.has(record.kind)) throw new TypeError(`the redis backend cannot pass an object of kind '${record.kind}' to a child`);
      return { ...record, handles: record.handles?.map((fd) => FIRST_INHERITED_FD + inherited.push(fd) - 1) };
    });
    const clientId = newClientId();
    const spec: ChildSpec = { entry: url, packed, records: childRecords, connection: this.connection.spec, clientId };
    const child = spawnProcess(process.execPath, [...execArgv, childMain], {
      stdio: ['ignore', 'inherit', stderr, ...inherited],
      env: { ...process.env, ...env, [CHILD_SPEC_VARIABLE]: serialize(spec).toString('base64') },
      ...(user !== undefined ? { uid: user.uid, gid: user.gid } : {}),
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    return new RedisChildProcess(child, () => this.connection.reap(clientId));
  }
}
