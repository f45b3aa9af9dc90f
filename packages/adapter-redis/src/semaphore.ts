/**
 * System V semaphore sets on Redis. A set's keys share one hash tag, `{<prefix>:sem:k<key>}` or
 * `{<prefix>:sem:i<id>}` for a private set:
 *
 * - `<tag>:meta`: hash of the `semid_ds` fields (id, key, nsems, mode, owner, otime, ctime);
 * - `<tag>:val` / `<tag>:pid`: hashes from index to value and to the last pid (GETPID);
 * - `<tag>:undo`: hash from `<client id>:<index>` to that client's SEM_UNDO adjustment;
 * - `<tag>:wait`: hash from `<client id>:<waiter>` to `n<index>` / `z<index>`, the operation a
 *   blocked call waits on (GETNCNT / GETZCNT count these).
 *
 * `semop` is one Lua script (`lua/sem-operate.lua`): all operations or none, atomically. SEM_UNDO
 * across machines: each client holds a lease (see connection.ts); when it ends without closing,
 * the first client to notice runs `lua/sem-reap.lua` on each set the dead client touched, which
 * applies and deletes its adjustments in one atomic step: exactly once.
 *
 * The contract's `semctl` calls are synchronous; they go through the synchronous bridge (sync.ts).
 */
import {
  IpcError,
  SEMOPM,
  transferSymbol,
  type SemaphoreOperateOptions,
  type SemaphoreOperation,
  type SemaphorePostOptions,
  type SemaphoreSet,
  type SemaphoreSetAttributes,
  type SemaphoreSetOpenOptions,
  type SemaphoreSetStat,
  type SemaphoreWaitOptions,
  type Semaphores,
  type TransferRecord,
  type Transferable,
} from '@ipcx/core';
import {
  checkInteger,
  checkSemaphoreOperate,
  checkSemaphoreOperations,
  checkSemaphoreSetAttributes,
  checkSemaphoreOpen,
  checkSemaphoreSetValue,
  checkSemaphoreSetValues,
  checkSemaphoreUnitOperation,
  type CheckedSemaphoreOperation,
  backendSlice,
} from '@ipcx/core/backend';
import { redisFailure, registerReaper, type RedisConnection, type ScriptReply } from './connection.js';
import { Handle, type HandleRegistry, type RedisBackendContext } from './handle.js';
import type { ScriptArgument } from './scripts.js';
import { blockingCall, quiet } from './wait.js';

/** The transfer kind of a semaphore set handle. */
export const SEMAPHORE_SET_KIND = 'redis-semaphore-set';

interface SetRecord {
  readonly id: number;
  readonly key: number;
  readonly size: number;
  readonly tag: string;
}

/** The keys of a set, in the order the scripts take them. */
function setKeys(tag: string): { meta: string; val: string; pid: string; undo: string; wait: string } {
  return { meta: `${tag}:meta`, val: `${tag}:val`, pid: `${tag}:pid`, undo: `${tag}:undo`, wait: `${tag}:wait` };
}

// A dead client's adjustments in one set are applied by whoever reaps it.
registerReaper('sem', async (connection, tag, dead) => {
  const k = setKeys(tag);
  await connection.run('sem-reap', [k.meta, k.val, k.undo, k.wait], [dead, tag], 'semop');
});

function refuse(reply: ScriptReply, syscall: string, key: number, waited = false): never {
  const code = waited && reply.status === 'EINVAL' ? 'EIDRM' : reply.status;
  throw new IpcError(code as 'EINVAL', { syscall, key, object: 'semaphore set' });
}

let waiterCounter = 0;

/** A handle on a System V semaphore set kept in Redis. */
export class RedisSemaphoreSet extends Handle implements SemaphoreSet, Transferable {
  private readonly k: ReturnType<typeof setKeys>;
  private readonly channel: string;

  constructor(
    private readonly connection: RedisConnection,
    registry: HandleRegistry,
    /** The set's id. */
    readonly id: number,
    /** The key it was opened by (0 for a private set or one opened by id). */
    readonly key: number,
    /** Number of semaphores. */
    readonly size: number,
    private readonly tag: string,
  ) {
    super(registry, 'semaphore set');
    this.k = setKeys(tag);
    this.channel = `${tag}:ch`;
  }

  describe(): string {
    return `redis semaphore set ${this.id} (key ${this.key})`;
  }

  [transferSymbol](): TransferRecord {
    return { kind: SEMAPHORE_SET_KIND, data: { id: this.id, key: this.key, size: this.size, tag: this.tag } satisfies SetRecord };
  }

  private operateArgs(operations: readonly CheckedSemaphoreOperation[], waiterKey: string, nowait: boolean): ScriptArgument[] {
    const c = this.connection;
    const args: ScriptArgument[] = [String(this.id), c.uid, c.gid, process.pid, c.clientId, waiterKey, nowait ? 1 : 0, this.tag];
    for (const op of operations) args.push(op.index, op.delta, (op.nowait ? 1 : 0) + (op.undo ? 2 : 0));
    return args;
  }

  operate(operations: readonly SemaphoreOperation[], options?: SemaphoreOperateOptions): Promise<void> {
    return quiet(this.operateNow(operations, options));
  }

  private async operateNow(operations: readonly SemaphoreOperation[], options?: SemaphoreOperateOptions): Promise<void> {
    const checked = checkSemaphoreOperations(operations, this.size);
    const { nowait, signal, timeoutMs } = checkSemaphoreOperate(options);
    const syscall = timeoutMs === Infinity ? 'semop' : 'semtimedop';
    this.ensureOpen(syscall);
    if (checked.length > SEMOPM) throw new IpcError('E2BIG', { syscall, key: this.key, object: 'semaphore set' });
    const c = this.connection;
    // Undo records and waiter entries carry this client's id: the lease finds them if it dies.
    await c.track(this.tag, 'sem', syscall);
    this.ensureOpen(syscall);
    const waiterKey = `${c.clientId}:${++waiterCounter}`;
    const k = this.k;
    const args = this.operateArgs(checked, waiterKey, nowait);
    const { reply, waited } = await blockingCall({
      connection: c,
      channel: this.channel,
      attempt: () => c.run('sem-operate', [k.meta, k.val, k.pid, k.undo, k.wait], args, syscall, { key: this.key }),
      timeoutMs,
      signal,
      // semtimedop reports a timeout as EAGAIN.
      timeoutError: () => new IpcError('EAGAIN', { syscall: 'semtimedop', key: this.key, object: 'semaphore set' }),
      owner: this,
      unregister: async () => {
        await c.run('sem-unwait', [k.wait], [waiterKey], syscall);
      },
    });
    if (reply.status !== 'OK') refuse(reply, syscall, this.key, waited);
  }

  wait(index: number, count = 1, options?: SemaphoreWaitOptions): Promise<void> {
    let operation: SemaphoreOperation;
    try {
      operation = checkSemaphoreUnitOperation(index, count, options, -1);
    } catch (error) {
      return Promise.reject(error);
    }
    const { undo: _undo, ...rest } = options ?? {};
    return this.operate([operation], rest);
  }

  post(index: number, count = 1, options?: SemaphorePostOptions): void {
    const [op] = checkSemaphoreOperations([checkSemaphoreUnitOperation(index, count, options, 1)], this.size);
    this.ensureOpen('semop');
    const c = this.connection;
    if (op!.undo) this.trackSync();
    const k = this.k;
    const reply = c.runSync('sem-operate', [k.meta, k.val, k.pid, k.undo, k.wait], this.operateArgs([op!], '', true), 'semop');
    if (reply.status !== 'OK') refuse(reply, 'semop', this.key);
  }

  /**
   * {@link RedisConnection.track} for the synchronous `post` with undo, which cannot wait for the
   * lease renewal thread to start: until it has, the bridge's thread renews the lease (see
   * {@link RedisConnection.holdLeaseSync}).
   */
  private trackSync(): void {
    const c = this.connection;
    c.bridge.command('sadd', [c.clientObjectsKey(c.clientId), `sem ${this.tag}`], 'semop');
    c.bridge.command('zadd', [c.clientsKey, 'NX', Date.now() + c.spec.leaseMs, c.clientId], 'semop');
    c.holdLeaseSync();
  }

  waitForZero(index: number, options?: SemaphoreOperateOptions): Promise<void> {
    return this.operate([{ index, delta: 0 }], options);
  }

  private read(what: string, index: number | '' = ''): readonly Buffer[] {
    this.ensureOpen('semctl');
    const c = this.connection;
    const k = this.k;
    const reply = c.runSync('sem-read', [k.meta, k.val, k.pid, k.wait], [String(this.id), c.uid, c.gid, what, index], 'semctl');
    if (reply.status !== 'OK') refuse(reply, 'semctl', this.key);
    return reply.values;
  }

  private checkIndex(index: unknown): number {
    return checkInteger('index', index, 0, this.size - 1);
  }

  value(index: number): number {
    return Number(this.read('val', this.checkIndex(index))[0]!.toString());
  }

  private write(args: ScriptArgument[]): void {
    this.ensureOpen('semctl');
    const c = this.connection;
    const k = this.k;
    const reply = c.runSync('sem-write', [k.meta, k.val, k.undo, k.pid], [String(this.id), c.uid, c.gid, process.pid, this.tag, ...args], 'semctl');
    if (reply.status !== 'OK') refuse(reply, 'semctl', this.key);
  }

  setValue(index: number, value: number): void {
    checkSemaphoreSetValue(this.size, index, value);
    this.write(['setval', index, value]);
  }

  values(): number[] {
    return this.read('all').map((v) => Number(v.toString()));
  }

  setValues(values: readonly number[]): void {
    this.write(['setall', ...checkSemaphoreSetValues(this.size, values)]);
  }

  waitingForIncrease(index: number): number {
    return Number(this.read('ncnt', this.checkIndex(index))[0]!.toString());
  }

  waitingForZero(index: number): number {
    return Number(this.read('zcnt', this.checkIndex(index))[0]!.toString());
  }

  lastPid(index: number): number {
    return Number(this.read('pid', this.checkIndex(index))[0]!.toString());
  }

  stat(): SemaphoreSetStat {
    const [key, nsems, mode, uid, gid, cuid, cgid, otime, ctime] = this.read('stat').map((v) => Number(v.toString()));
    return { key: key!, size: nsems!, mode: mode!, uid: uid!, gid: gid!, cuid: cuid!, cgid: cgid!, otime: otime ? new Date(otime * 1000) : null, ctime: new Date(ctime! * 1000) };
  }

  set(attributes: SemaphoreSetAttributes): void {
    const { mode, uid, gid } = checkSemaphoreSetAttributes(attributes);
    this.ensureOpen('semctl');
    const c = this.connection;
    const field = (value: number | undefined) => (value === undefined ? '' : String(value));
    const reply = c.runSync('sem-set', [this.k.meta], [String(this.id), c.uid, field(mode), field(uid), field(gid)], 'semctl');
    if (reply.status !== 'OK') refuse(reply, 'semctl', this.key);
  }

  async remove(): Promise<void> {
    this.ensureOpen('semctl');
    const c = this.connection;
    const k = this.k;
    const reply = await c.run('sem-remove', [k.meta, k.val, k.pid, k.undo, k.wait], [String(this.id), c.uid, this.tag], 'semctl', { key: this.key });
    if (reply.status !== 'OK') refuse(reply, 'semctl', this.key);
    await c.client.del(idKey(c.prefix, this.id)).catch(() => undefined);
  }
}

/** Key of the id index entry of a set: id -> tag, for `openById`. */
function idKey(prefix: string, id: number): string {
  return `${prefix}:semid:${id}`;
}

/** System V semaphore sets of a Redis backend. */
export class RedisSemaphores implements Semaphores {
  constructor(
    private readonly connection: RedisConnection,
    private readonly registry: HandleRegistry,
  ) {}

  async open(key: number | 'private', options?: SemaphoreSetOpenOptions): Promise<SemaphoreSet> {
    const checked = checkSemaphoreOpen(key, options);
    const c = this.connection;
    const newId = await c.newId('semget');
    const tag = checked.key === 0 ? `{${c.prefix}:sem:i${newId}}` : `{${c.prefix}:sem:k${checked.key}}`;
    const k = setKeys(tag);
    const args = [String(newId), checked.key, checked.create ? 1 : 0, checked.exclusive ? 1 : 0, checked.size, checked.mode, c.uid, c.gid];
    const reply = await c.run('sem-open', [k.meta, k.val], args, 'semget', { key: checked.key });
    if (reply.status !== 'OK') refuse(reply, 'semget', checked.key);
    const id = Number(reply.values[0]!.toString());
    const size = Number(reply.values[1]!.toString());
    try {
      if (id === newId) await c.client.set(idKey(c.prefix, id), tag);
    } catch (error) {
      throw redisFailure(error, 'semget', { key: checked.key });
    }
    // The bridge starts now; a synchronous call waits for it if it is still starting.
    c.bridge.start();
    return new RedisSemaphoreSet(c, this.registry, id, checked.key, size, tag);
  }

  async openById(id: number): Promise<SemaphoreSet> {
    checkInteger('id', id, 0, 0x7fffffff);
    const c = this.connection;
    let tag: string | null;
    try {
      tag = await c.client.get(idKey(c.prefix, id));
    } catch (error) {
      throw redisFailure(error, 'semctl');
    }
    if (tag === null) throw new IpcError('EINVAL', { syscall: 'semctl', object: 'semaphore set' });
    const k = setKeys(tag);
    const reply = await c.run('sem-read', [k.meta, k.val, k.pid, k.wait], [String(id), c.uid, c.gid, 'stat', ''], 'semctl');
    if (reply.status !== 'OK') refuse(reply, 'semctl', 0);
    // The bridge starts now; a synchronous call waits for it if it is still starting.
    c.bridge.start();
    return new RedisSemaphoreSet(c, this.registry, id, 0, Number(reply.values[1]!.toString()), tag);
  }

  async removeById(id: number): Promise<void> {
    checkInteger('id', id, 0, 0x7fffffff);
    const c = this.connection;
    let tag: string | null;
    try {
      tag = await c.client.get(idKey(c.prefix, id));
    } catch (error) {
      throw redisFailure(error, 'semctl');
    }
    if (tag === null) throw new IpcError('EINVAL', { syscall: 'semctl', object: `semaphore set ${id}` });
    const k = setKeys(tag);
    const reply = await c.run('sem-remove', [k.meta, k.val, k.pid, k.undo, k.wait], [String(id), c.uid, tag], 'semctl');
    if (reply.status !== 'OK') refuse(reply, 'semctl', 0);
    await c.client.del(idKey(c.prefix, id)).catch(() => undefined);
  }

  /** Rebuilds a handle from its transfer record (in a child). */
  revive(data: unknown): RedisSemaphoreSet {
    const { id, key, size, tag } = data as SetRecord;
    return new RedisSemaphoreSet(this.connection, this.registry, id, key, size, tag);
  }
}

/** System V semaphore sets: this file's part of the Redis backend (backend.ts lists it), with its reviver for children. */
export const semaphoreSlice = backendSlice('semaphores', ['semaphore'], ({ connection, registry, revivers }: RedisBackendContext) => {
  const factory = new RedisSemaphores(connection, registry);
  revivers.set(SEMAPHORE_SET_KIND, (data) => factory.revive(data));
  return factory;
});
