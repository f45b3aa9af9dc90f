/**
 * Children of the Redis backend: local OS processes (`node child-main.js`) whose backend connects
 * to the same Redis with the parent's settings. Objects travel by their keys and names inside the
 * serialized args; the child opens nothing new, it attaches to the same server-side objects.
 */
import { spawn as spawnProcess, type ChildProcess as NodeChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { serialize } from 'node:v8';
import { checkSpawn, packTransferables, type ChildProcess, type ExitStatus, type Processes, type SpawnOptions, type TransferRecord } from '@ipcx/core';
import type { ConnectionSpec } from './connection.js';

/** Environment variable that carries a child's spec. */
export const CHILD_SPEC_VARIABLE = 'IPCX_REDIS_CHILD';
const childMain = path.join(path.dirname(fileURLToPath(import.meta.url)), 'child-main.js');

/** What a child receives. */
export interface ChildSpec {
  readonly entry: string;
  readonly packed: unknown;
  readonly records: TransferRecord[];
  readonly connection: ConnectionSpec;
}

function absolutePathUrl(entry: string): string | undefined {
  return path.isAbsolute(entry) ? pathToFileURL(entry).href : undefined;
}

/** A running child process. */
class RedisChildProcess implements ChildProcess {
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

/** {@link Processes} of the Redis backend. */
export class RedisProcesses implements Processes {
  constructor(private readonly connection: ConnectionSpec) {}

  async spawn<A extends readonly unknown[]>(entry: string | URL, options?: SpawnOptions<A>): Promise<ChildProcess> {
    const { entry: url, args, env, user } = checkSpawn<A>(entry, options, absolutePathUrl);
    const { packed, records } = packTransferables(args ?? []);
    for (const record of records) {
      if (!record.kind.startsWith('redis-')) throw new TypeError(`the redis backend cannot pass an object of kind '${record.kind}' to a child`);
    }
    const spec: ChildSpec = { entry: url, packed, records, connection: this.connection };
    const child = spawnProcess(process.execPath, [childMain], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, ...env, [CHILD_SPEC_VARIABLE]: serialize(spec).toString('base64') },
      ...(user !== undefined ? { uid: user.uid, gid: user.gid } : {}),
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    return new RedisChildProcess(child);
  }
}
