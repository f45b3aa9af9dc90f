/**
 * Children as OS processes: `node child-main.js`, with the ipcx objects in `args` carried the
 * kernel's way. Descriptors (pipe ends, sockets, FIFO ends) are inherited as fds 3, 4, ...;
 * keyed and named objects travel as their keys and names inside the serialized args.
 */
import { spawn as spawnProcess, type ChildProcess as NodeChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { serialize } from 'node:v8';
import { checkSpawn, packTransferables, type ChildProcess, type ExitStatus, type Processes, type SpawnOptions, type TransferRecord } from '@ipcx/core';

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

/** The file URL of an absolute path; `undefined` for a relative one (core's `checkSpawn` rejects it). */
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

/** The native {@link Processes}. */
export class NativeProcesses implements Processes {
  async spawn<A extends readonly unknown[]>(entry: string | URL, options?: SpawnOptions<A>): Promise<ChildProcess> {
    const { entry: url, args, env, user } = checkSpawn<A>(entry, options, absolutePathUrl);
    const { packed, records } = packTransferables(args ?? []);
    const inherited: number[] = [];
    const childRecords = records.map((record) => ({
      ...record,
      handles: record.handles?.map((fd) => FIRST_INHERITED_FD + inherited.push(fd) - 1),
    }));
    const spec: ChildSpec = { entry: url, packed, records: childRecords };
    const child = spawnProcess(process.execPath, [childMain], {
      // Each inherited descriptor lands at its index here: libuv dup2()s it into place, which also
      // clears close-on-exec for the child's copy only.
      stdio: ['ignore', 'inherit', 'inherit', ...inherited],
      env: { ...process.env, ...env, [CHILD_SPEC_VARIABLE]: serialize(spec).toString('base64') },
      ...(user !== undefined ? { uid: user.uid, gid: user.gid } : {}),
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    return new NativeChildProcess(child);
  }
}
