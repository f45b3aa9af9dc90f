/**
 * System V message queues on Redis. A queue's keys share one hash tag, `{<prefix>:mq:k<key>}` for
 * a keyed queue and `{<prefix>:mq:i<id>}` for a private one, so the queue lives on one shard and
 * every operation is one atomic Lua script (`lua/mq-*.lua`):
 *
 * - `<tag>:meta`: hash of the `msqid_ds` fields (id, key, mode, owner, qbytes, cbytes, qnum, pids, times) and the next sequence number;
 * - `<tag>:order`: sorted set of the messages' sequence numbers (queue order);
 * - `<tag>:typ` / `<tag>:data`: hashes from sequence number to type and payload;
 * - `<tag>:types`: sorted set of the types present (score = type), for `type < 0`;
 * - `<tag>:t:<type>`: sorted set of the sequence numbers of one type, for `type > 0`;
 * - `<tag>:blocked`: per handle, the number of its send that waits (later sends of that handle
 *   wait behind it, so pipelined sends keep their call order);
 * - `<tag>:claims`: per handle and receive, the message it took, until the handle's next call
 *   acknowledges it; a receive whose reply was lost with the connection gets its message put
 *   back by the next call (no message is lost to a server that died after the script ran);
 * - `<tag>:waiters` / `<tag>:wq`: receives that wait (hash waiter -> rule, type, noError, maxBytes,
 *   pid, inbox; and the waiters in arrival order). A send that suits one hands it the message in
 *   the same script, through the receiving process's inbox (see inbox.ts), as Linux's
 *   pipelined_send does: one script call and one blocking pop per message.
 *
 * The sends a handle makes in one tick share one mq-send call, and its receive attempts one
 * mq-receive call (see batchedSend, receiveScript): each keeps the outcome it would have had alone.
 *
 * Notices of every change go to `<tag>:ch` (see notifier.ts). A removed queue's keys are deleted;
 * its id is never given out again, so a handle on it gets `EINVAL` (`EIDRM` while it waited).
 */
import { stat } from 'node:fs/promises';
import {
  abortErrorFor,
  closedError,
  IPC_PRIVATE,
  IpcError,
  MSGMAX_DEFAULT,
  isIpcError,
  MSGMNB_DEFAULT,
  transferSymbol,
  type Message,
  type MessageQueue,
  type MessageQueueOpenOptions,
  type MessageQueueReceiveOptions,
  type MessageQueueSendOptions,
  type MessageQueueSetOptions,
  type MessageQueueStat,
  type MessageQueues,
  type TransferRecord,
  type Transferable,
} from '@ipcx/core';
import {
  checkMessageQueueFtok,
  checkMessageQueueId,
  checkMessageQueueOpen,
  checkMessageQueueSet,
  checkMessageQueueReceive,
  checkMessageQueueSend,
  backendSlice,
} from '@ipcx/core/backend';
import { decodeReply, redisFailure, registerReaper, type RedisConnection, type ScriptReply } from './connection.js';
import { WAKE, type Delivery, type Inbox } from './inbox.js';
import { scriptSha, type ScriptArgument } from './scripts.js';
import type { Relevance } from './notifier.js';
import { Handle, type HandleRegistry, type RedisBackendContext } from './handle.js';
import { blockingCall, quiet } from './wait.js';

/** The transfer kind of a queue handle. */
export const MESSAGE_QUEUE_KIND = 'redis-message-queue';

/** The data a queue handle travels with. */
interface QueueRecord {
  readonly id: number;
  readonly key: number;
  readonly tag: string;
}

let handleCounter = 0;

/** A queue's keys, after its tag, in the order the scripts take them (see the file comment). */
const QUEUE_KEYS = ['meta', 'order', 'typ', 'data', 'types', 'blocked', 'claims', 'waiters', 'wq'];

// A client whose lease ran out waits no more: its registrations and claims in each queue where it
// waited are dropped, and its inbox deleted (see lua/mq-reap.lua).
registerReaper('mq', async (connection, tag, dead) => {
  await connection.run('mq-reap', [`${tag}:waiters`, `${tag}:wq`, `${tag}:claims`], [dead, connection.inboxKey(dead)], 'msgrcv');
});

/** Throws the script's refusal as an IpcError (EINVAL after a wait becomes EIDRM). */
function refuse(reply: ScriptReply, syscall: string, key: number, waited = false): never {
  const code = waited && reply.status === 'EINVAL' ? 'EIDRM' : reply.status;
  throw new IpcError(code as 'EINVAL', { syscall, key, object: 'message queue' });
}

/** At most this many sends (or receives) of one handle share a script call. */
const BATCH_MAX = 256;

/** A send's first attempt, waiting for its tick's script call. */
interface QueuedSend {
  readonly send: ScriptArgument[];
  resolve(status: string): void;
  reject(error: unknown): void;
}

/** A receive attempt, waiting for its tick's script call. */
interface QueuedReceive {
  readonly receive: readonly ScriptArgument[];
  readonly number: number;
  resolve(reply: ScriptReply): void;
  reject(error: unknown): void;
}

/** A handle on a System V message queue kept in Redis. */
export class RedisMessageQueue extends Handle implements MessageQueue, Transferable {
  private readonly keys: string[];
  private readonly channel: string;
  /** This handle's name in the queue's `blocked` hash (client id and handle number). */
  private readonly handleKey: string;
  /** Sends made through this handle so far (numbers them, for their order). */
  private sendCounter = 0;
  /** Receives made through this handle so far (numbers them, for their claims). */
  private receiveCounter = 0;
  /** Receives whose message arrived here: their claims are dropped by the next call. */
  private acknowledged: number[] = [];
  /** Receives whose reply was lost with the connection: their messages go back at the next call. */
  private lost: number[] = [];
  /** Sends waiting for this tick's script call (see batchedSend). */
  private sendBatch: QueuedSend[] = [];
  /** Receive attempts waiting for this tick's script call, by inbox key ('' none; see receiveScript). */
  private readonly receiveBatches = new Map<string, QueuedReceive[]>();
  /** Receives not settled yet (each may still get a claim: a close waits for them). */
  private readonly receiving = new Set<Promise<Message>>();
  /** KEYS of mq-receive (the queue's keys without `blocked`). */
  private readonly receiveKeys: string[];

  constructor(
    private readonly connection: RedisConnection,
    registry: HandleRegistry,
    /** The queue's id. */
    readonly id: number,
    /** The key it was opened by. */
    readonly key: number,
    private readonly tag: string,
  ) {
    super(registry, 'message queue');
    this.keys = QUEUE_KEYS.map((part) => `${tag}:${part}`);
    this.receiveKeys = this.keys.slice(0, 5).concat(this.keys.slice(6));
    this.handleKey = `${connection.clientId}:${++handleCounter}`;
    this.channel = `${tag}:ch`;
  }

  describe(): string {
    return `redis message queue ${this.id} (key ${this.key})`;
  }

  [transferSymbol](): TransferRecord {
    return { kind: MESSAGE_QUEUE_KIND, data: { id: this.id, key: this.key, tag: this.tag } satisfies QueueRecord };
  }

  send(type: number, data: Uint8Array | string, options?: MessageQueueSendOptions): Promise<void> {
    return quiet(this.sendNow(type, data, options));
  }

  private async sendNow(type: number, data: Uint8Array | string, options?: MessageQueueSendOptions): Promise<void> {
    const checked = checkMessageQueueSend(type, data, options);
    this.ensureOpen('msgsnd');
    const signal = (options as MessageQueueSendOptions | undefined)?.signal;
    if (signal?.aborted) throw abortErrorFor(signal);
    // Sends are pipelined on the connection (it keeps their order), and the sends of one tick go
    // in one script call; a send that has to wait holds back the later sends of this handle on the
    // server (see lua/mq-send.lua).
    const number = ++this.sendCounter;
    const send: ScriptArgument[] = [String(checked.type), checked.bytes, number, checked.nowait ? 1 : 0];
    const first = await this.batchedSend(send);
    if (first === 'OK') return;
    if (first !== 'BLOCK') refuse({ status: first, values: [] }, 'msgsnd', this.key);
    const c = this.connection;
    const unblock = async (): Promise<void> => {
      await c.run('mq-unblock', [this.keys[5]!], [this.handleKey, number, this.tag], 'msgsnd', { key: this.key });
    };
    let reply: ScriptReply;
    try {
      ({ reply } = await blockingCall({
        connection: c,
        channel: this.channel,
        // A send waits for room or for its handle's earlier send: receives, limit changes, the
        // earlier send getting through ('u') and removal can help it, other sends not.
        filter: (notice) => (notice[0] === 's' ? 'ignore' : 'all'),
        attempt: async () => {
          const reply = await c.run('mq-send', this.keys, [...this.sendArgs(), ...send], 'msgsnd', { key: this.key });
          return { status: reply.status === 'OK' ? (reply.values[0]?.toString() ?? 'EINVAL') : reply.status, values: [] };
        },
        timeoutMs: checked.timeoutMs,
        signal,
        timeoutError: () => new IpcError('ETIMEDOUT', { syscall: 'msgsnd', key: this.key, object: 'message queue' }),
        owner: this,
        unregister: unblock,
      }));
    } catch (error) {
      // Cancelled before blockingCall's first attempt (an abort that came while the batch ran):
      // the batch's attempt may have made this send the handle's waiting one; give that place up.
      await unblock().catch(() => undefined);
      throw error;
    }
    if (reply.status !== 'OK') refuse(reply, 'msgsnd', this.key, true);
  }

  /** The arguments of mq-send before its sends (see lua/mq-send.lua), built once per handle. */
  private sendHead: readonly ScriptArgument[] | undefined;

  /** The arguments of mq-send before its sends (see lua/mq-send.lua): a new list to append to. */
  private sendArgs(): ScriptArgument[] {
    const c = this.connection;
    this.sendHead ??= [String(this.id), process.pid, c.uid, c.gid, this.tag, MSGMAX_DEFAULT, this.handleKey];
    return this.sendHead.slice();
  }

  /**
   * Runs one send's first attempt together with the other sends this handle makes in the same
   * tick (one script call for all of them, flushed on the next tick); resolves to its status.
   */
  private batchedSend(send: ScriptArgument[]): Promise<string> {
    return new Promise((resolve, reject) => {
      if (this.sendBatch.length === 0) process.nextTick(() => this.flushSends());
      this.sendBatch.push({ send, resolve, reject });
      // A long batch would hold the (single-threaded) server for long: it goes now, the next starts.
      if (this.sendBatch.length >= BATCH_MAX) this.flushSends();
    });
  }

  private flushSends(): void {
    if (this.sendBatch.length === 0) return;
    const batch = this.sendBatch;
    this.sendBatch = [];
    const args = this.sendArgs();
    for (const queued of batch) args.push(...queued.send);
    this.connection.run('mq-send', this.keys, args, 'msgsnd', { key: this.key }).then(
      (reply) => {
        batch.forEach((queued, i) => queued.resolve(reply.status === 'OK' ? (reply.values[i]?.toString() ?? 'EINVAL') : reply.status));
      },
      (error: unknown) => {
        for (const queued of batch) queued.reject(error);
      },
    );
  }

  receive(options?: MessageQueueReceiveOptions): Promise<Message> {
    const receiving = this.receiveNow(options);
    // Counted until settled: a close waits for it, so that the claim it may get is acknowledged (see closed_).
    this.receiving.add(receiving);
    const forget = (): void => void this.receiving.delete(receiving);
    receiving.then(forget, forget);
    return quiet(receiving);
  }

  private async receiveNow(options?: MessageQueueReceiveOptions): Promise<Message> {
    const checked = checkMessageQueueReceive(options);
    this.ensureOpen('msgrcv');
    const c = this.connection;
    const rule = checked.type === 0 ? 'any' : checked.type < 0 ? 'le' : checked.except ? 'except' : 'eq';
    const number = ++this.receiveCounter;
    const args = [number, rule, String(Math.abs(checked.type)), checked.noError ? 1 : 0, checked.maxBytes ?? MSGMAX_DEFAULT, checked.nowait ? 1 : 0];
    const inbox = checked.nowait ? undefined : c.inbox;
    if (inbox !== undefined) return this.receiveByInbox(inbox, args, number, checked.timeoutMs, options?.signal);
    const { reply, waited } = await blockingCall({
      connection: c,
      channel: this.channel,
      filter: receiveFilter(rule, checked.type),
      attempt: () => this.receiveScript(args, number, ''),
      timeoutMs: checked.timeoutMs,
      signal: options?.signal,
      timeoutError: () => new IpcError('ETIMEDOUT', { syscall: 'msgrcv', key: this.key, object: 'message queue' }),
      owner: this,
    });
    if (reply.status !== 'OK') refuse(reply, 'msgrcv', this.key, waited);
    return { type: Number(reply.values[0]!.toString()), data: reply.values[1]! };
  }

  /**
   * Runs one receive's attempt of mq-receive, together with the other attempts this handle makes
   * in the same tick with the same inbox (one script call for all, flushed on the next tick); with
   * an inbox, a receive that would block registers there. Keeps the handle's acknowledged and lost
   * requests (see the file comment).
   */
  private receiveScript(receive: readonly ScriptArgument[], number: number, inbox: string): Promise<ScriptReply> {
    return new Promise((resolve, reject) => {
      let batch = this.receiveBatches.get(inbox);
      if (batch === undefined) {
        batch = [];
        this.receiveBatches.set(inbox, batch);
        const first = batch;
        process.nextTick(() => void this.flushReceives(inbox, first));
      }
      batch.push({ receive, number, resolve, reject });
      // A long batch would hold the (single-threaded) server for long: it goes now, the next starts.
      if (batch.length >= BATCH_MAX) void this.flushReceives(inbox, batch);
    });
  }

  private async flushReceives(inbox: string, batch: QueuedReceive[]): Promise<void> {
    // Already flushed (it was full)?
    if (this.receiveBatches.get(inbox) !== batch) return;
    this.receiveBatches.delete(inbox);
    const c = this.connection;
    const acknowledged = this.acknowledged.splice(0);
    const lost = this.lost.length === 0 ? '' : this.lost.join(',');
    // Through the inbox connection, with its pop behind the script in one write, when no pop is
    // outstanding there and no call of this process is in flight on the command connection (this
    // receive must reach the server after them); otherwise on the command connection.
    const box = inbox === '' ? undefined : c.inbox;
    const viaInbox = box !== undefined && box.idle && c.inFlight === 0;
    const args: ScriptArgument[] = [String(this.id), process.pid, c.uid, c.gid, this.tag, this.handleKey, acknowledged.length === 0 ? '' : acknowledged.join(','), lost, inbox, viaInbox ? 1 : 0];
    for (const queued of batch) args.push(...queued.receive);
    let reply: ScriptReply;
    try {
      if (viaInbox) {
        reply = await this.receiveThroughInbox(box, args);
      } else {
        box?.ensurePopping();
        reply = await c.run('mq-receive', this.receiveKeys, args, 'msgrcv', { key: this.key });
      }
    } catch (error) {
      this.acknowledged.push(...acknowledged);
      for (const queued of batch) {
        // The script may have run and taken a message whose reply is gone: the next call puts it back.
        if (isIpcError(error, 'ECONNRESET') && !this.lost.includes(queued.number)) this.lost.push(queued.number);
        queued.reject(error);
      }
      return;
    }
    if (this.lost.length > 0) {
      const settled = new Set((reply.values[0]?.toString() ?? '').split(',').filter((n) => n !== '').map(Number));
      this.lost = this.lost.filter((n) => !settled.has(n));
    }
    batch.forEach((queued, i) => {
      if (reply.status !== 'OK') return queued.resolve({ status: reply.status, values: [] });
      const status = reply.values[1 + 3 * i]!.toString();
      if (status === 'OK') this.acknowledged.push(queued.number);
      queued.resolve({ status, values: [reply.values[2 + 3 * i]!, reply.values[3 + 3 * i]!] });
    });
  }

  /**
   * Runs mq-receive on the inbox connection with the inbox's pop behind it (see inbox.ts). If the
   * script fails there, the pop would block behind it: it is woken with a push from the command
   * connection, and after `NOSCRIPT` (a restarted server; the raw `EVALSHA` there cannot load the
   * script) the call runs again on the command connection, which loads it.
   */
  private async receiveThroughInbox(box: Inbox, args: ScriptArgument[]): Promise<ScriptReply> {
    const c = this.connection;
    try {
      // A receive's arguments are strings and numbers only (no bytes to convert).
      const raw = await box.registerAndPop(scriptSha('mq-receive'), this.receiveKeys, args as Array<string | number>);
      return decodeReply(raw);
    } catch (error) {
      const failure = redisFailure(error, 'msgrcv', { key: this.key });
      // A lost link took the pop with it; anything else leaves the pop waiting behind the failed script.
      if (failure.code === 'ECONNRESET') throw failure;
      try {
        await c.client.rpush(box.key, WAKE);
      } catch (wakeError) {
        throw redisFailure(wakeError, 'msgrcv', { key: this.key });
      }
      if (!/NOSCRIPT/.test(error instanceof Error ? error.message : String(error))) throw failure;
      args[9] = 0;
      return c.run('mq-receive', this.receiveKeys, args, 'msgrcv', { key: this.key });
    }
  }

  /**
   * A receive through the inbox: one script call that takes a message or registers the receive,
   * then (if registered) the delivery a send hands over. Cancelling unregisters; a receive that a
   * send served meanwhile takes its message (completed anyway: nothing is lost to a cancel).
   */
  private async receiveByInbox(inbox: Inbox, args: readonly ScriptArgument[], number: number, timeoutMs: number, signal: AbortSignal | undefined): Promise<Message> {
    if (signal?.aborted) throw abortErrorFor(signal);
    const waiter = `${this.handleKey}:${number}`;
    // Known before it can register: if this client dies waiting, whoever reaps it drops the
    // registration, so no send hands a message to a dead inbox (a round trip the first time only).
    if (!this.connection.tracked(this.tag, 'mq')) await this.connection.track(this.tag, 'mq', 'msgrcv');
    // Expected before the script runs: a send may serve the registration before its reply comes.
    const expected = inbox.expect(waiter);
    const reapedBefore = this.connection.reapedCount;
    let reply: ScriptReply;
    try {
      reply = await this.receiveScript(args, number, inbox.key);
    } catch (error) {
      expected.cancel();
      throw error;
    }
    if (reply.status !== 'BLOCK') {
      expected.cancel();
      if (reply.status !== 'OK') refuse(reply, 'msgrcv', this.key);
      return { type: Number(reply.values[0]!.toString()), data: reply.values[1]! };
    }
    const c = this.connection;
    let cancel!: (error: Error) => void;
    const cancelled = new Promise<Error>((resolve) => {
      cancel = resolve;
    });
    const onAbort = (): void => cancel(abortErrorFor(signal!));
    signal?.addEventListener('abort', onAbort, { once: true });
    const stopOwner = this.onCancel(cancel);
    // Reaped while alive (now, or while the script ran): the registration may have been dropped
    // with the client's state.
    const stopReaped = c.onReaped(cancel);
    if (c.reapedCount !== reapedBefore) cancel(c.reapedError!);
    const timer = timeoutMs === Infinity ? undefined : setTimeout(() => cancel(new IpcError('ETIMEDOUT', { syscall: 'msgrcv', key: this.key, object: 'message queue' })), timeoutMs);
    // An abort or close that came while the script ran fired before these listeners existed.
    if (signal?.aborted) onAbort();
    if (this.closed) cancel(closedError(this.objectName, 'close'));
    let delivery: Delivery;
    try {
      const first = await Promise.race([expected.delivery, cancelled]);
      if (first instanceof Error) {
        // Give up the registration, unless a send was first: then its delivery is on the way.
        let gone: boolean;
        try {
          gone = (await c.run('mq-unwait', [this.keys[7]!, this.keys[8]!, this.keys[6]!], [waiter], 'msgrcv', { key: this.key })).status === 'GONE';
        } catch (error) {
          expected.cancel();
          if (!this.lost.includes(number)) this.lost.push(number);
          throw error;
        }
        if (!gone) {
          expected.cancel();
          throw first;
        }
      }
      // Delivered (the common case): no second wait on the same promise.
      delivery = first instanceof Error ? await expected.delivery : first;
    } catch (error) {
      if (isIpcError(error, 'ECONNRESET') && !this.lost.includes(number)) this.lost.push(number);
      throw error;
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      stopOwner();
      stopReaped();
    }
    if (delivery.status !== 'OK') refuse({ status: delivery.status, values: [] }, 'msgrcv', this.key, true);
    this.acknowledged.push(number);
    return { type: delivery.type, data: delivery.data };
  }

  async stat(): Promise<MessageQueueStat> {
    this.ensureOpen('msgctl');
    const c = this.connection;
    const reply = await c.run('mq-stat', this.keys.slice(0, 1), [String(this.id), c.uid, c.gid], 'msgctl', { key: this.key });
    if (reply.status !== 'OK') refuse(reply, 'msgctl', this.key);
    const [key, uid, gid, cuid, cgid, mode, qbytes, qnum, cbytes, lspid, lrpid, stime, rtime, ctime] = reply.values.map((v) => Number(v.toString()));
    return {
      perm: { key: key!, uid: uid!, gid: gid!, cuid: cuid!, cgid: cgid!, mode: mode! },
      maxBytes: qbytes!,
      messages: qnum!,
      bytes: cbytes!,
      lastSendPid: lspid!,
      lastReceivePid: lrpid!,
      lastSendTime: stime!,
      lastReceiveTime: rtime!,
      changeTime: ctime!,
    };
  }

  async set(options: MessageQueueSetOptions): Promise<void> {
    const checked = checkMessageQueueSet(options);
    this.ensureOpen('msgctl');
    const c = this.connection;
    const field = (value: number | undefined) => (value === undefined ? '' : String(value));
    const args = [String(this.id), c.uid, field(checked.maxBytes), field(checked.mode), field(checked.uid), field(checked.gid), MSGMNB_DEFAULT, this.tag];
    const reply = await c.run('mq-set', this.keys.slice(0, 1), args, 'msgctl', { key: this.key });
    if (reply.status !== 'OK') refuse(reply, 'msgctl', this.key);
  }

  protected override async closed_(): Promise<void> {
    // Receives still under way may get a claim yet: a send handing a registered receive its
    // message while the close cancels it (the receive then takes it), or an attempt already in
    // its script call. The close cancelled their waits, so they settle within a round trip or two.
    while (this.receiving.size > 0) await Promise.allSettled([...this.receiving]);
    // Drop the claims of the messages this handle received, and give back those whose reply was
    // lost (best effort: a claim left behind holds a copy of a delivered message until the queue
    // is removed).
    const acknowledged = this.acknowledged.splice(0);
    const lost = this.lost.splice(0);
    if (lost.length > 0) {
      // mq-receive with no receives: acknowledges, and puts the lost requests' messages back.
      const c = this.connection;
      const args: ScriptArgument[] = [String(this.id), process.pid, c.uid, c.gid, this.tag, this.handleKey, acknowledged.join(','), lost.join(','), '', 0];
      await c.run('mq-receive', this.receiveKeys, args, 'msgctl', { key: this.key }).catch(() => undefined);
    } else if (acknowledged.length > 0) {
      await this.connection.run('mq-ack', [this.keys[6]!], [this.handleKey, acknowledged.join(',')], 'msgctl').catch(() => undefined);
    }
  }

  async remove(): Promise<void> {
    this.ensureOpen('msgctl');
    const c = this.connection;
    const reply = await c.run('mq-remove', this.keys, [String(this.id), c.uid, this.tag], 'msgctl', { key: this.key });
    if (reply.status !== 'OK') refuse(reply, 'msgctl', this.key);
    await c.client.del(queueIdKey(c.prefix, this.id)).catch(() => undefined);
  }
}

/**
 * What a notice means to a receive: a send of a type its rule selects (notice `s<type>`) can
 * satisfy one receiver; a change of limits or removal concerns all; another receive none.
 */
function receiveFilter(rule: string, type: number): (notice: string) => Relevance {
  return (notice) => {
    if (notice[0] === 'r' || notice[0] === 'u') return 'ignore';
    if (notice[0] !== 's') return 'all';
    const sent = Number(notice.slice(1));
    // One message satisfies one receiver: the first sleeper it suits is woken, not all of them.
    const suits = rule === 'eq' ? sent === type : rule === 'except' ? sent !== type : rule === 'le' ? sent <= -type : true;
    return suits ? 'one' : 'ignore';
  };
}

/** Key of the id index entry of a queue: id -> tag, for `openById` and `removeById`. */
function queueIdKey(prefix: string, id: number): string {
  return `${prefix}:mqid:${id}`;
}

/** The tag of a queue: by key, or by id for a private queue. */
function queueTag(prefix: string, key: number, id: number): string {
  return key === IPC_PRIVATE ? `{${prefix}:mq:i${id}}` : `{${prefix}:mq:k${key}}`;
}

/** `ftok(3)` as glibc computes it: project id, device and inode bits of the file. */
export async function ftok(path: string, projectId: number): Promise<number> {
  let info;
  try {
    info = await stat(path, { bigint: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'ENOENT';
    throw new IpcError(code as 'ENOENT', { syscall: 'ftok', path });
  }
  const key = (Number(info.ino & 0xffffn) | (Number(info.dev & 0xffn) << 16) | ((projectId & 0xff) << 24)) | 0;
  return key;
}

/** System V message queues of a Redis backend. */
export class RedisMessageQueues implements MessageQueues {
  constructor(
    private readonly connection: RedisConnection,
    private readonly registry: HandleRegistry,
  ) {}

  async ftok(path: string, projectId: number): Promise<number> {
    const checked = checkMessageQueueFtok(path, projectId);
    return ftok(checked.path, checked.projectId);
  }

  async open(key: number, options?: MessageQueueOpenOptions): Promise<MessageQueue> {
    const checked = checkMessageQueueOpen(key, options);
    const c = this.connection;
    const newId = await c.newId('msgget');
    const tag = queueTag(c.prefix, checked.key, newId);
    const create = checked.create || checked.key === IPC_PRIVATE;
    const args = [String(newId), checked.key, create ? 1 : 0, checked.exclusive ? 1 : 0, checked.mode, c.uid, c.gid, MSGMNB_DEFAULT];
    const reply = await c.run('mq-open', [`${tag}:meta`], args, 'msgget', { key: checked.key });
    if (reply.status !== 'OK') refuse(reply, 'msgget', checked.key);
    const id = Number(reply.values[0]!.toString());
    try {
      if (id === newId) await c.client.set(queueIdKey(c.prefix, id), tag);
    } catch (error) {
      throw redisFailure(error, 'msgget', { key: checked.key });
    }
    return new RedisMessageQueue(c, this.registry, id, checked.key, tag);
  }

  /** The tag of queue `id`, from the id index; `EINVAL` when no queue has it. */
  private async tagOf(id: number): Promise<string> {
    const c = this.connection;
    let tag: string | null;
    try {
      tag = await c.client.get(queueIdKey(c.prefix, id));
    } catch (error) {
      throw redisFailure(error, 'msgctl');
    }
    if (tag === null) throw new IpcError('EINVAL', { syscall: 'msgctl', object: `message queue ${id}` });
    return tag;
  }

  async openById(id: number): Promise<MessageQueue> {
    checkMessageQueueId(id);
    const c = this.connection;
    const tag = await this.tagOf(id);
    const reply = await c.run('mq-stat', [`${tag}:meta`], [String(id), c.uid, c.gid], 'msgctl');
    if (reply.status !== 'OK') refuse(reply, 'msgctl', 0);
    return new RedisMessageQueue(c, this.registry, id, Number(reply.values[0]!.toString()), tag);
  }

  async removeById(id: number): Promise<void> {
    checkMessageQueueId(id);
    const c = this.connection;
    const tag = await this.tagOf(id);
    const keys = QUEUE_KEYS.map((part) => `${tag}:${part}`);
    const reply = await c.run('mq-remove', keys, [String(id), c.uid, tag], 'msgctl');
    if (reply.status !== 'OK') refuse(reply, 'msgctl', 0);
    await c.client.del(queueIdKey(c.prefix, id)).catch(() => undefined);
  }

  /** Rebuilds a handle from its transfer record (in a child). */
  revive(data: unknown): RedisMessageQueue {
    const { id, key, tag } = data as QueueRecord;
    return new RedisMessageQueue(this.connection, this.registry, id, key, tag);
  }
}

/** System V message queues: this file's part of the Redis backend (backend.ts lists it), with its reviver for children. */
export const messageQueueSlice = backendSlice('messageQueues', ['message-queue'], ({ connection, registry, revivers }: RedisBackendContext) => {
  const factory = new RedisMessageQueues(connection, registry);
  revivers.set(MESSAGE_QUEUE_KIND, (data) => factory.revive(data));
  return factory;
});
