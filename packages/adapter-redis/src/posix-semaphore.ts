/**
 * POSIX named semaphores on Redis. A name's keys share the hash tag `{<prefix>:psem:<name>}`:
 * `<tag>:name` holds the generation of the semaphore the name stands for; the semaphore is
 * `<tag>:g<gen>` (value, mode, owner) and its open handles are counted per client in
 * `<tag>:r<gen>`. `unlink` removes the name only: open handles keep their generation and work on,
 * and the semaphore is deleted with its last handle (`lua/psem-*.lua`). Handles of a client that
 * died are dropped by whoever reaps its lease.
 *
 * `tryWait()`, `post()` and `value()` are synchronous in the contract: they go through the
 * synchronous bridge (sync.ts). Unnamed semaphores live in shared memory, which this backend does
 * not have: `init`/`attach` reject with `ENOSYS`.
 */
import {
  IpcError,
  transferSymbol,
  type PosixSemaphore,
  type PosixSemaphoreOpenOptions,
  type PosixSemaphoreWaitOptions,
  type PosixSemaphores,
  type SharedSegment,
  type TransferRecord,
  type Transferable,
} from '@ipcx/core';
import { checkPosixSemaphoreOpen, checkPosixSemaphoreWait, checkString, backendSlice } from '@ipcx/core/backend';
import { registerReaper, type RedisConnection, type ScriptReply } from './connection.js';
import { Handle, type HandleRegistry, type RedisBackendContext } from './handle.js';
import { blockingCall, quiet } from './wait.js';

/** The transfer kind of a POSIX semaphore handle. */
export const POSIX_SEMAPHORE_KIND = 'redis-posix-semaphore';

/** Longest name after the slash, as `/dev/shm/sem.<name>` allows (NAME_MAX 255 - 4). */
const NAME_MAX = 251;

/** Checks a POSIX object name: `/` then a name without other slashes (EINVAL), not too long (ENAMETOOLONG). */
export function posixName(name: string, syscall: string, nameMax: number): string {
  const bare = name.startsWith('/') ? name.slice(1) : name;
  if (bare.length === 0 || bare.includes('/')) throw new IpcError('EINVAL', { syscall, path: name });
  if (Buffer.byteLength(bare) > nameMax) throw new IpcError('ENAMETOOLONG', { syscall, path: name });
  return `/${bare}`;
}

function tagOf(prefix: string, name: string): string {
  return `{${prefix}:psem:${name}}`;
}

// A dead client's open handles (tracked as '<gen> <tag>'): forget them; an unlinked semaphore
// goes with its last handle.
registerReaper('psem', async (connection, member, dead) => {
  const space = member.indexOf(' ');
  const tag = member.slice(space + 1);
  await connection.run('psem-close', [`${tag}:name`, tag], [member.slice(0, space), dead, 0], 'sem_close');
});

function refuse(reply: ScriptReply, syscall: string, path: string): never {
  throw new IpcError(reply.status as 'EINVAL', { syscall, path, object: 'POSIX semaphore' });
}

/** A handle on a POSIX named semaphore kept in Redis. */
export class RedisPosixSemaphore extends Handle implements PosixSemaphore, Transferable {
  private readonly keys: string[];
  private readonly channel: string;

  constructor(
    private readonly connection: RedisConnection,
    registry: HandleRegistry,
    /** The name it was opened by. */
    readonly name: string,
    private readonly gen: string,
  ) {
    super(registry, 'POSIX semaphore');
    const tag = tagOf(connection.prefix, name);
    this.keys = [`${tag}:name`, tag];
    this.channel = `${tag}:ch`;
  }

  describe(): string {
    return `redis POSIX semaphore ${this.name}`;
  }

  [transferSymbol](): TransferRecord {
    return { kind: POSIX_SEMAPHORE_KIND, data: { name: this.name } };
  }

  wait(options?: PosixSemaphoreWaitOptions): Promise<void> {
    return quiet(this.waitNow(options));
  }

  private async waitNow(options?: PosixSemaphoreWaitOptions): Promise<void> {
    const { nowait, signal, timeoutMs } = checkPosixSemaphoreWait(options);
    const syscall = nowait ? 'sem_trywait' : timeoutMs === Infinity ? 'sem_wait' : 'sem_timedwait';
    this.ensureOpen(syscall);
    const c = this.connection;
    const { reply } = await blockingCall({
      connection: c,
      channel: this.channel,
      // Only a post lets a wait through, and one post one wait.
      filter: (notice) => (notice === 'p' ? 'one' : 'ignore'),
      attempt: () => c.run('psem-wait', this.keys, [this.gen, nowait ? 1 : 0], syscall, { path: this.name }),
      timeoutMs,
      signal,
      timeoutError: () => new IpcError('ETIMEDOUT', { syscall, path: this.name, object: 'POSIX semaphore' }),
      owner: this,
    });
    if (reply.status !== 'OK') refuse(reply, syscall, this.name);
  }

  tryWait(): boolean {
    this.ensureOpen('sem_trywait');
    const reply = this.connection.runSync('psem-wait', this.keys, [this.gen, 1], 'sem_trywait');
    if (reply.status === 'EAGAIN') return false;
    if (reply.status !== 'OK') refuse(reply, 'sem_trywait', this.name);
    return true;
  }

  post(): void {
    this.ensureOpen('sem_post');
    const reply = this.connection.runSync('psem-post', this.keys, [this.gen], 'sem_post');
    if (reply.status !== 'OK') refuse(reply, 'sem_post', this.name);
  }

  value(): number {
    this.ensureOpen('sem_getvalue');
    const reply = this.connection.runSync('psem-value', this.keys, [this.gen], 'sem_getvalue');
    if (reply.status !== 'OK') refuse(reply, 'sem_getvalue', this.name);
    return Number(reply.values[0]!.toString());
  }

  protected override async closed_(): Promise<void> {
    const c = this.connection;
    await c.run('psem-close', this.keys, [this.gen, c.clientId, 1], 'sem_close', { path: this.name }).catch(() => undefined);
  }
}

/** POSIX semaphores of a Redis backend (named only). */
export class RedisPosixSemaphores implements PosixSemaphores {
  constructor(
    private readonly connection: RedisConnection,
    private readonly registry: HandleRegistry,
  ) {}

  async open(name: string, options?: PosixSemaphoreOpenOptions): Promise<PosixSemaphore> {
    const checked = checkPosixSemaphoreOpen(name, options);
    const path = posixName(name, 'sem_open', NAME_MAX);
    const c = this.connection;
    const tag = tagOf(c.prefix, path);
    const newGen = await c.newId('sem_open');
    const mode = checked.mode & ~process.umask();
    const args = [checked.create ? 1 : 0, checked.exclusive ? 1 : 0, mode, checked.initial, c.uid, c.gid, c.clientId, newGen];
    await c.startLease('sem_open');
    const reply = await c.run('psem-open', [`${tag}:name`, tag], args, 'sem_open', { path });
    if (reply.status !== 'OK') refuse(reply, 'sem_open', path);
    const gen = reply.values[0]!.toString();
    // The handle count carries this client's id: the lease finds it if this process dies.
    await c.track(`${gen} ${tag}`, 'psem', 'sem_open');
    // The bridge starts now; a synchronous call waits for it if it is still starting.
    c.bridge.start();
    return new RedisPosixSemaphore(c, this.registry, path, gen);
  }

  async unlink(name: string): Promise<void> {
    checkString('name', name);
    const path = posixName(name, 'sem_unlink', NAME_MAX);
    const c = this.connection;
    const tag = tagOf(c.prefix, path);
    const reply = await c.run('psem-unlink', [`${tag}:name`, tag], [c.uid], 'sem_unlink', { path });
    if (reply.status !== 'OK') refuse(reply, 'sem_unlink', path);
  }

  init(_segment: SharedSegment, _byteOffset: number, _initial?: number): Promise<PosixSemaphore> {
    return Promise.reject(new IpcError('ENOSYS', { syscall: 'sem_init', message: 'ENOSYS: the redis backend has no shared memory, so no unnamed semaphores' }));
  }

  attach(_segment: SharedSegment, _byteOffset: number): Promise<PosixSemaphore> {
    return Promise.reject(new IpcError('ENOSYS', { syscall: 'sem_init', message: 'ENOSYS: the redis backend has no shared memory, so no unnamed semaphores' }));
  }

  /** A handle in a child: opens the name again (it must still exist), as the native backend does. */
  revive(data: unknown): Promise<PosixSemaphore> {
    return this.open((data as { name: string }).name);
  }
}

/** POSIX semaphores: this file's part of the Redis backend (backend.ts lists it), with its reviver for children. */
export const posixSemaphoreSlice = backendSlice('posixSemaphores', ['posix-semaphore'], ({ connection, registry, revivers }: RedisBackendContext) => {
  const factory = new RedisPosixSemaphores(connection, registry);
  revivers.set(POSIX_SEMAPHORE_KIND, (data) => factory.revive(data));
  return factory;
});
