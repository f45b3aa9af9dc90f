/**
 * POSIX message queues on Redis. A name's keys share the hash tag `{<prefix>:pmq:<name>}`:
 * `<tag>:name` holds the generation of the queue the name stands for; the queue is `<tag>:g<gen>`
 * (limits, message count, owner), its messages the sorted set `<tag>:q<gen>` (scored so that the
 * highest priority comes first and, within one, the oldest) with payloads and priorities in
 * `<tag>:d<gen>` / `<tag>:p<gen>`, and its open handles are counted per client in `<tag>:r<gen>`.
 * `unlink` removes the name only; open handles keep working until the last one closes
 * (`lua/pmq-*.lua`).
 *
 * Limits are Linux's defaults: 10 messages and 8192 bytes unless given; an unprivileged caller may
 * ask for at most 10 messages of 8192 bytes (`msg_max`, `msgsize_max`), root for 65536 messages
 * of 16 MiB (the kernel's hard limits). `attributes()` is synchronous in the contract and goes
 * through the synchronous bridge.
 */
import {
  IpcError,
  abortErrorFor,
  transferSymbol,
  type PosixMessage,
  type PosixMessageQueue,
  type PosixMessageQueueAccess,
  type PosixMessageQueueAttributes,
  type PosixMessageQueueNotifyOptions,
  type PosixMessageQueueOpenOptions,
  type PosixMessageQueueReceiveOptions,
  type PosixMessageQueueSendOptions,
  type PosixMessageQueues,
  type TransferRecord,
  type Transferable,
} from '@ipcx/core';
import {
  checkPosixMessageQueueName,
  checkPosixMessageQueueOpen,
  checkPosixMessageQueueReceive,
  checkPosixMessageQueueSend,
  checkWaitOptions,
  posixQueueNotifications,
  checkBytes,
  backendSlice,
} from '@ipcx/core/backend';
import { registerReaper, type RedisConnection, type ScriptReply } from './connection.js';
import { Handle, type HandleRegistry, type RedisBackendContext } from './handle.js';
import { posixName } from './posix-semaphore.js';
import { blockingCall, quiet } from './wait.js';

/** The transfer kind of a POSIX message queue handle. */
export const POSIX_MESSAGE_QUEUE_KIND = 'redis-posix-message-queue';

let notifyCounter = 0;

/** Linux's defaults and limits (`/proc/sys/fs/mqueue`, and the hard limits for root). */
export const PMQ_LIMITS = {
  defaultMaxMessages: 10,
  defaultMessageSize: 8192,
  maxMessages: 10,
  maxMessageSize: 8192,
  hardMaxMessages: 65536,
  hardMaxMessageSize: 16 * 1024 * 1024,
} as const;

function tagOf(prefix: string, name: string): string {
  return `{${prefix}:pmq:${name}}`;
}

// A dead client's open handles (tracked as '<gen> <tag>'): forget them; an unlinked queue goes
// with its last handle.
registerReaper('pmq', async (connection, member, dead) => {
  const space = member.indexOf(' ');
  const tag = member.slice(space + 1);
  await connection.run('pmq-close', [`${tag}:name`, tag], [member.slice(0, space), dead, 0], 'mq_close');
});

function refuse(reply: ScriptReply, syscall: string, path: string): never {
  throw new IpcError(reply.status as 'EINVAL', { syscall, path, object: 'POSIX message queue' });
}

/** A handle on a POSIX message queue kept in Redis. */
export class RedisPosixMessageQueue extends Handle implements PosixMessageQueue, Transferable {
  private readonly keys: string[];
  private readonly channel: string;
  /** Pending sends, and pending receives, of this handle run one after another (call order). */
  private sendTail: Promise<unknown> = Promise.resolve();
  private receiveTail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly connection: RedisConnection,
    registry: HandleRegistry,
    /** The queue's name. */
    readonly name: string,
    /** The directions this handle may use. */
    readonly access: PosixMessageQueueAccess,
    private readonly gen: string,
    /** The queue's `messageSize`, for the receive buffer check. */
    private readonly messageSize: number,
  ) {
    super(registry, 'POSIX message queue');
    const tag = tagOf(connection.prefix, name);
    this.keys = [`${tag}:name`, tag];
    this.channel = `${tag}:ch`;
  }

  describe(): string {
    return `redis POSIX message queue ${this.name} (${this.access})`;
  }

  [transferSymbol](): TransferRecord {
    return { kind: POSIX_MESSAGE_QUEUE_KIND, data: { name: this.name, access: this.access } };
  }

  send(data: Uint8Array | string, options?: PosixMessageQueueSendOptions): Promise<void> {
    return quiet(this.sendNow(data, options));
  }

  private async sendNow(data: Uint8Array | string, options?: PosixMessageQueueSendOptions): Promise<void> {
    const bytes = checkBytes('data', data);
    const { priority, nowait, timeoutMs } = checkPosixMessageQueueSend(options);
    const syscall = timeoutMs === Infinity ? 'mq_send' : 'mq_timedsend';
    this.ensureOpen(syscall);
    if (this.access === 'read') throw new IpcError('EBADF', { syscall, path: this.name, object: 'POSIX message queue' });
    const previous = this.sendTail;
    const mine = (async () => {
      await previous.catch(() => undefined);
      this.ensureOpen(syscall);
      const c = this.connection;
      const { reply } = await blockingCall({
        connection: c,
        channel: this.channel,
        // A send waits for room: only a receive makes some, room for one message.
        filter: (notice) => (notice === 'r' ? 'one' : 'ignore'),
        attempt: () => c.run('pmq-send', this.keys, [this.gen, priority, bytes, nowait ? 1 : 0], syscall, { path: this.name }),
        timeoutMs,
        signal: options?.signal,
        timeoutError: () => new IpcError('ETIMEDOUT', { syscall, path: this.name, object: 'POSIX message queue' }),
        owner: this,
      });
      if (reply.status !== 'OK') refuse(reply, syscall, this.name);
    })();
    this.sendTail = mine;
    await mine;
  }

  receive(options?: PosixMessageQueueReceiveOptions): Promise<PosixMessage> {
    return quiet(this.receiveNow(options));
  }

  private async receiveNow(options?: PosixMessageQueueReceiveOptions): Promise<PosixMessage> {
    const { nowait, timeoutMs, maxBytes } = checkPosixMessageQueueReceive(options);
    const syscall = timeoutMs === Infinity ? 'mq_receive' : 'mq_timedreceive';
    this.ensureOpen(syscall);
    if (this.access === 'write') throw new IpcError('EBADF', { syscall, path: this.name, object: 'POSIX message queue' });
    // As the kernel: a buffer smaller than the queue's messageSize is refused at once.
    if (maxBytes !== undefined && maxBytes < this.messageSize) throw new IpcError('EMSGSIZE', { syscall, path: this.name, object: 'POSIX message queue' });
    const previous = this.receiveTail;
    const mine = (async () => {
      await previous.catch(() => undefined);
      this.ensureOpen(syscall);
      const c = this.connection;
      const { reply } = await blockingCall({
        connection: c,
        channel: this.channel,
        // A receive waits for a message: only a send brings one, for one receiver.
        filter: (notice) => (notice === 's' ? 'one' : 'ignore'),
        attempt: () => c.run('pmq-receive', this.keys, [this.gen, nowait ? 1 : 0], syscall, { path: this.name }),
        timeoutMs,
        signal: options?.signal,
        timeoutError: () => new IpcError('ETIMEDOUT', { syscall, path: this.name, object: 'POSIX message queue' }),
        owner: this,
      });
      if (reply.status !== 'OK') refuse(reply, syscall, this.name);
      return { priority: Number(reply.values[0]!.toString()), data: reply.values[1]! };
    })();
    this.receiveTail = mine;
    return mine;
  }

  notify(options?: PosixMessageQueueNotifyOptions): Promise<void> {
    return quiet(this.notifyNow(options));
  }

  notifications(options?: PosixMessageQueueNotifyOptions): AsyncIterableIterator<void> {
    return posixQueueNotifications((armed) => this.notify(armed), options);
  }

  /**
   * mq_notify on Redis: the registration is made synchronously (through the bridge) before this
   * returns, as the kernel makes it; then the wait listens for the notice of its firing ('n') or
   * of its drop when this client closes another handle ('k'). A firing that came before the
   * subscription was acknowledged is found by a check of the registration afterwards.
   */
  private async notifyNow(options?: PosixMessageQueueNotifyOptions): Promise<void> {
    const timeoutMs = checkWaitOptions(options);
    this.ensureOpen('mq_notify');
    if (options?.signal?.aborted) throw abortErrorFor(options.signal);
    const c = this.connection;
    const registration = `${c.clientId} ${++notifyCounter}`;
    const fail = (code: 'EBUSY' | 'ECANCELED' | 'ETIMEDOUT' | 'EBADF') => new IpcError(code, { syscall: 'mq_notify', path: this.name, object: 'POSIX message queue' });
    const registered = c.runSync('pmq-notify', this.keys, [this.gen, registration, 'register'], 'mq_notify');
    if (registered.status !== 'OK') throw fail(registered.status as 'EBUSY');
    const notifier = c.notifier;
    let cancelled: Error | undefined;
    let wake!: () => void;
    const woken = new Promise<void>((resolve) => {
      wake = resolve;
    });
    const cancel = (error: Error) => {
      cancelled ??= error;
      wake();
    };
    const onAbort = () => cancel(abortErrorFor(options!.signal!));
    options?.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = timeoutMs !== Infinity ? setTimeout(() => cancel(fail('ETIMEDOUT')), timeoutMs) : undefined;
    const stopOwner = this.onCancel(cancel);
    const stopLost = notifier.onLost(cancel);
    let outcome: 'fired' | 'dropped' | undefined;
    let held = false;
    let sleeper: { woken: Promise<{ notice: string }>; cancel: () => void } | undefined;
    try {
      await notifier.hold(this.channel);
      held = true;
      sleeper = notifier.sleep(this.channel, (notice) => (notice === `n${registration}` || notice === `k${registration}` ? 'all' : 'ignore'));
      void sleeper.woken.then(({ notice }) => {
        outcome = notice[0] === 'n' ? 'fired' : 'dropped';
        wake();
      });
      const check = await c.run('pmq-notify', this.keys, [this.gen, registration, 'check'], 'mq_notify', { path: this.name });
      const state = check.values[0]?.toString();
      if (state === 'fired' || state === 'dropped') outcome ??= state;
      if (outcome === undefined && cancelled === undefined) await woken;
      if (outcome === 'fired') return;
      // A cancellation (abort, timeout, close) wins over a drop that close() itself caused.
      if (outcome === 'dropped' && cancelled === undefined) throw fail('ECANCELED');
      await c.run('pmq-notify', this.keys, [this.gen, registration, 'unregister'], 'mq_notify', { path: this.name }).catch(() => undefined);
      throw cancelled;
    } catch (error) {
      if (outcome !== 'fired' && !(error instanceof IpcError && error.code === 'ECANCELED')) {
        await c.run('pmq-notify', this.keys, [this.gen, registration, 'unregister'], 'mq_notify').catch(() => undefined);
      }
      throw error;
    } finally {
      sleeper?.cancel();
      if (timer) clearTimeout(timer);
      options?.signal?.removeEventListener('abort', onAbort);
      stopOwner();
      stopLost();
      if (held) notifier.release(this.channel);
    }
  }

  attributes(): PosixMessageQueueAttributes {
    this.ensureOpen('mq_getattr');
    const reply = this.connection.runSync('pmq-attributes', this.keys, [this.gen], 'mq_getattr');
    if (reply.status !== 'OK') refuse(reply, 'mq_getattr', this.name);
    const [maxMessages, messageSize, currentMessages] = reply.values.map((v) => Number(v.toString()));
    return { maxMessages: maxMessages!, messageSize: messageSize!, currentMessages: currentMessages! };
  }

  protected override async closed_(): Promise<void> {
    const c = this.connection;
    await c.run('pmq-close', this.keys, [this.gen, c.clientId, 1], 'mq_close', { path: this.name }).catch(() => undefined);
  }
}

/** POSIX message queues of a Redis backend. */
export class RedisPosixMessageQueues implements PosixMessageQueues {
  constructor(
    private readonly connection: RedisConnection,
    private readonly registry: HandleRegistry,
  ) {}

  async open(name: string, options?: PosixMessageQueueOpenOptions): Promise<PosixMessageQueue> {
    checkPosixMessageQueueName(name);
    const checked = checkPosixMessageQueueOpen(options);
    const path = posixName(name, 'mq_open', 255);
    const c = this.connection;
    const privileged = c.uid === 0;
    const maxMessages = checked.maxMessages ?? PMQ_LIMITS.defaultMaxMessages;
    const messageSize = checked.messageSize ?? PMQ_LIMITS.defaultMessageSize;
    // Limits a new queue may not exceed: EINVAL only if this call creates the queue (Linux ignores
    // the attributes of an open that finds the queue there, create or not), so the script decides.
    const messageLimit = privileged ? PMQ_LIMITS.hardMaxMessages : PMQ_LIMITS.maxMessages;
    const sizeLimit = privileged ? PMQ_LIMITS.hardMaxMessageSize : PMQ_LIMITS.maxMessageSize;
    const attributesValid = maxMessages >= 1 && messageSize >= 1 && maxMessages <= messageLimit && messageSize <= sizeLimit;
    const tag = tagOf(c.prefix, path);
    const newGen = await c.newId('mq_open');
    const want = checked.access === 'read' ? 4 : checked.access === 'write' ? 2 : 6;
    const mode = checked.mode & ~process.umask();
    const args = [checked.create ? 1 : 0, checked.exclusive ? 1 : 0, mode, maxMessages, messageSize, c.uid, c.gid, c.clientId, newGen, want, attributesValid ? 1 : 0];
    await c.startLease('mq_open');
    const reply = await c.run('pmq-open', [`${tag}:name`, tag], args, 'mq_open', { path });
    if (reply.status !== 'OK') refuse(reply, 'mq_open', path);
    const gen = reply.values[0]!.toString();
    // The handle count carries this client's id: the lease finds it if this process dies.
    await c.track(`${gen} ${tag}`, 'pmq', 'mq_open');
    // The bridge starts now; a synchronous call waits for it if it is still starting.
    c.bridge.start();
    return new RedisPosixMessageQueue(c, this.registry, path, checked.access, gen, Number(reply.values[2]!.toString()));
  }

  async unlink(name: string): Promise<void> {
    checkPosixMessageQueueName(name);
    const path = posixName(name, 'mq_unlink', 255);
    const c = this.connection;
    const tag = tagOf(c.prefix, path);
    const reply = await c.run('pmq-unlink', [`${tag}:name`, tag], [c.uid], 'mq_unlink', { path });
    if (reply.status !== 'OK') refuse(reply, 'mq_unlink', path);
  }

  /** A handle in a child: opens the name again with the same access (it must still exist). */
  revive(data: unknown): Promise<PosixMessageQueue> {
    const { name, access } = data as { name: string; access: PosixMessageQueueAccess };
    return this.open(name, { access });
  }
}

/** POSIX message queues: this file's part of the Redis backend (backend.ts lists it), with its reviver for children. */
export const posixMessageQueueSlice = backendSlice('posixMessageQueues', ['posix-message-queue'], ({ connection, registry, revivers }: RedisBackendContext) => {
  const factory = new RedisPosixMessageQueues(connection, registry);
  revivers.set(POSIX_MESSAGE_QUEUE_KIND, (data) => factory.revive(data));
  return factory;
});
