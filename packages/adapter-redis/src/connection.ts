/**
 * One backend's link to Redis: the command client, the subscriber that carries wake-up notices,
 * the client lease (for SEM_UNDO across machines) and the synchronous bridge. Whatever the number
 * of objects and waiters, a process holds at most five connections per backend: commands,
 * subscriber, the inbox (see inbox.ts; opened by the first receive that waits, single server only),
 * the lease renewal thread's (see lease.ts; opened when the lease starts) and the bridge's
 * (opened on first synchronous use).
 */
import { randomBytes } from 'node:crypto';
import { Cluster, Redis, type ClusterNode, type ClusterOptions, type RedisOptions } from 'ioredis';
import { IpcError } from '@ipcx/core';
import { Inbox } from './inbox.js';
import { LeaseRenewer } from './lease.js';
import { Notifier } from './notifier.js';
import { defineScripts, runScript, type ScriptArgument, type ScriptName } from './scripts.js';
import { SyncBridge } from './sync.js';

/** How to reach a Redis Cluster. */
export interface RedisClusterConnection {
  /** Some of the cluster's nodes; the client discovers the rest. */
  readonly cluster: readonly ClusterNode[];
  /** ioredis cluster options (`redisOptions` carries AUTH/ACL user, password and TLS for every node). */
  readonly options?: ClusterOptions;
}

/** Where the backend connects: ioredis options of one server (host, port, username, password, tls, db), or a cluster. */
export type RedisConnectionOptions = RedisOptions | RedisClusterConnection;

/** Options of {@link createRedisBackend}. */
export interface RedisBackendOptions {
  /**
   * Connection settings: ioredis `RedisOptions` for one server (`host`, `port`, `username` and
   * `password` for AUTH/ACL, `tls` for TLS, `db`), or `{ cluster: [nodes], options }`. Children
   * started by `processes.spawn` connect with the same settings.
   */
  readonly connection?: RedisConnectionOptions;
  /**
   * An ioredis client to use for commands instead of `connection` (its settings are read from
   * `client.options` for the subscriber, the bridge and children). The backend does not close it.
   */
  readonly client?: Redis | Cluster;
  /**
   * Prefix of every key and channel the backend uses (default `'ipcx'`): one per application, so
   * that several applications share a server without seeing each other's objects, and an ACL can
   * give each one its own key pattern (`~{myapp:*`, `&{myapp:*`).
   */
  readonly prefix?: string;
  /**
   * Lease of this client in milliseconds (default 10,000): renewed every third of it. When a
   * client stops renewing (it died or lost its link), the first client that notices applies its
   * SEM_UNDO adjustments, exactly once, and forgets its waits and open handles.
   */
  readonly leaseMs?: number;
  /**
   * Longest wait in milliseconds for a synchronous call (`SemaphoreSet.value()`, `post()`, ...)
   * before it throws `ETIMEDOUT` (default 5,000).
   */
  readonly syncTimeoutMs?: number;
  /**
   * This client's id in leases and undo records (default: random): 1 to 64 letters, digits, `_`
   * or `-` (else a TypeError), unique among the clients of one prefix. `processes.spawn` gives
   * each child one, so that the parent can apply a child's SEM_UNDO records the moment it exits.
   */
  readonly clientId?: string;
}

/** The settings a child needs to connect as its parent does (plain data). */
export interface ConnectionSpec {
  readonly connection: RedisConnectionOptions;
  readonly prefix: string;
  readonly leaseMs: number;
  readonly syncTimeoutMs: number;
  /** The client id, for the bridge's connection name. */
  readonly clientId?: string;
}

/** A fresh client id. */
export function newClientId(): string {
  return randomBytes(9).toString('base64url');
}

/** Is `value` a cluster connection? */
export function isCluster(value: RedisConnectionOptions): value is RedisClusterConnection {
  return Array.isArray((value as RedisClusterConnection).cluster);
}

/**
 * Client settings every connection of the backend uses. No offline queue beyond a short
 * reconnect: a command sent while the server is gone fails after two reconnect attempts instead of
 * hanging, and the caller sees `ECONNRESET`.
 */
const clientDefaults: RedisOptions = {
  maxRetriesPerRequest: 2,
  retryStrategy: (times) => Math.min(50 * times, 500),
  enableAutoPipelining: false,
};

/** Builds an ioredis client (or cluster client) from connection settings. */
export function connect(connection: RedisConnectionOptions, extra: RedisOptions = {}): Redis | Cluster {
  if (isCluster(connection)) {
    const options = connection.options ?? {};
    const cluster = new Cluster([...connection.cluster], { ...options, redisOptions: { ...clientDefaults, ...options.redisOptions, ...extra } });
    cluster.on('+node', (node: Redis) => failSentOnClose(node));
    return cluster;
  }
  return failSentOnClose(guardStreamErrors(new Redis({ ...clientDefaults, ...connection, ...extra })));
}

/**
 * When a connection drops, the commands already sent on it and not answered fail with a
 * connection error (the caller sees ECONNRESET) instead of being sent again after the reconnect,
 * which ioredis does by default (`autoResendUnfulfilledCommands`). The server may have run such a
 * command before the link went: run again, a script would send a message twice, apply a semaphore
 * operation twice, or take a second message under the first one's claim (losing the first). A
 * receive that fails this way is reported as lost by the handle's next call, and its message goes
 * back (message-queue.ts). Commands not yet sent (ioredis's offline queue) still go after the
 * reconnect. `autoResendUnfulfilledCommands: false` is not enough: ioredis then drops those
 * commands without settling them, and their callers would wait forever. So the client's own
 * `flushQueue` (not in its typings) rejects them as the connection reports its close, before
 * ioredis keeps them for a resend.
 */
function failSentOnClose(client: Redis): Redis {
  const flush = (client as unknown as { flushQueue?: (error: Error, options: { offlineQueue: boolean; commandQueue: boolean }) => void }).flushQueue;
  if (typeof flush !== 'function') throw new Error('this ioredis version has no flushQueue: the Redis backend cannot fail sent commands on a lost connection');
  client.on('close', () => flush.call(client, new Error('Connection is closed.'), { offlineQueue: false, commandQueue: true }));
  return client;
}

/**
 * ioredis listens for a connection's `'error'` with `once`: a socket that fails twice (a TLS
 * handshake refused by the client, then the server's alert) would throw the second error as an
 * uncaught exception and end the host process. After the first error, which ioredis reports on
 * the client, the socket gets a listener of its own; the client has already reported the failure.
 */
function guardStreamErrors(client: Redis): Redis {
  client.on('error', () => {
    const stream = (client as unknown as { stream?: { listenerCount(event: string): number; on(event: string, listener: () => void): void } }).stream;
    if (stream !== undefined && stream.listenerCount('error') === 0) stream.on('error', () => undefined);
  });
  return client;
}

/** The connection settings of an existing client, for the bridge and for children. */
function settingsOf(client: Redis | Cluster): RedisConnectionOptions {
  if (client instanceof Cluster) {
    const nodes = (client as unknown as { startupNodes: ClusterNode[] }).startupNodes;
    const options = { ...client.options } as Record<string, unknown>;
    for (const key of Object.keys(options)) if (typeof options[key] === 'function') delete options[key];
    return { cluster: nodes, options: options as ClusterOptions };
  }
  const { host, port, path, username, password, db, tls } = client.options;
  return { host, port, path, username, password, db, tls } as RedisOptions;
}

/** Strips functions (not cloneable) from connection settings. */
function plain(connection: RedisConnectionOptions): RedisConnectionOptions {
  const strip = (o: object): Record<string, unknown> => Object.fromEntries(Object.entries(o).filter(([, v]) => typeof v !== 'function'));
  if (isCluster(connection)) return { cluster: connection.cluster, options: strip({ ...connection.options, redisOptions: strip(connection.options?.redisOptions ?? {}) }) as ClusterOptions };
  return strip(connection) as RedisOptions;
}

/** True for the errors ioredis raises when the server cannot be reached. */
function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return (
    error.name === 'MaxRetriesPerRequestError' ||
    /Connection is closed|Stream isn't writeable|ECONNREFUSED|ECONNRESET|connect ETIMEDOUT|Command timed out|ClusterAllFailedError|Failed to refresh slots cache|CLUSTERDOWN/.test(error.message)
  );
}

/**
 * The IpcError for a failure of the Redis call itself (not a refusal by a script): `ECONNRESET`
 * when the server cannot be reached, `EACCES` when an ACL refuses the command or key (`NOPERM`),
 * `EIO` otherwise.
 */
export function redisFailure(error: unknown, syscall: string, where: { key?: number; path?: string } = {}): IpcError {
  if (error instanceof IpcError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = isConnectionError(error) ? 'ECONNRESET' : /NOPERM|NOAUTH|WRONGPASS/.test(message) ? 'EACCES' : 'EIO';
  return new IpcError(code, { syscall, ...where, message: `${code}: ${syscall} failed: Redis: ${message}` });
}

/** A script's reply, its first element decoded: `status` is 'OK', 'BLOCK' or an errno name. */
export interface ScriptReply {
  readonly status: string;
  readonly values: readonly Buffer[];
}

/** Decodes a raw script reply. */
export function decodeReply(raw: unknown): ScriptReply {
  const list = raw as Array<Buffer | number | null>;
  const status = String(list[0]);
  const values: Buffer[] = new Array(list.length - 1);
  for (let i = 1; i < list.length; i++) {
    const v = list[i];
    values[i - 1] = Buffer.isBuffer(v) ? v : Buffer.from(v === null || v === undefined ? '' : String(v));
  }
  return { status, values };
}

/** The shared link to Redis of one backend. */
export class RedisConnection {
  /** The command client. */
  readonly client: Redis | Cluster;
  /** Key prefix. */
  readonly prefix: string;
  /** This client's id in leases, waiter registrations and undo records. */
  readonly clientId: string;
  /** The settings children and the bridge connect with. */
  readonly spec: ConnectionSpec;
  /** Wake-up notices. */
  readonly notifier: Notifier;
  /** Synchronous calls. */
  readonly bridge: SyncBridge;
  /** Caller identity passed to permission checks. */
  readonly uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  readonly gid = typeof process.getgid === 'function' ? process.getgid() : 0;
  private readonly ownsClient: boolean;
  /** Renews the lease from the main thread until the renewal thread's first report. */
  private leaseTimer: NodeJS.Timeout | undefined;
  private leaseStarted: Promise<void> | undefined;
  /** leaseStarted has resolved: the renewal thread has made its first renewal (see startLease). */
  private leaseRunning = false;
  /** The bridge's thread renews the lease until the renewal thread has started (see holdLeaseSync). */
  private leaseHeldByBridge = false;
  private renewer: LeaseRenewer | undefined;
  /** Clients being reaped now (the renewal thread may report one again meanwhile). */
  private readonly reaping = new Set<string>();
  private readonly knownTags = new Set<string>();
  /** This thread has renewed the lease once (the later renewals expect the client to be in the lease set). */
  private renewedOnce = false;
  private closed = false;
  private inboxOf: Inbox | undefined;

  constructor(options: RedisBackendOptions = {}) {
    const prefix = options.prefix ?? 'ipcx';
    if (typeof prefix !== 'string' || prefix.length === 0 || /[{}]/.test(prefix)) throw new TypeError('options.prefix must be a non-empty string without braces');
    const leaseMs = options.leaseMs ?? 10_000;
    if (!Number.isInteger(leaseMs) || leaseMs < 300) throw new RangeError('options.leaseMs must be an integer >= 300');
    const syncTimeoutMs = options.syncTimeoutMs ?? 5000;
    this.prefix = prefix;
    // Ids are words in the scripts' records ('<id>:<request> rule type ...', '<id>:<index>'):
    // a space would split a record, and a ':' would make one id a prefix of another's records.
    if (options.clientId !== undefined && (typeof options.clientId !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(options.clientId))) {
      throw new TypeError('options.clientId must be 1 to 64 letters, digits, "_" or "-"');
    }
    this.clientId = options.clientId ?? newClientId();
    if (options.client !== undefined) {
      this.client = options.client;
      this.ownsClient = false;
    } else {
      // Connection names (CLIENT LIST) say which client and which role: `<prefix>:<id>:commands`.
      this.client = connect(options.connection ?? {}, { connectionName: `${prefix}:${this.clientId}:commands` });
      this.ownsClient = true;
      // Failures reach the caller of each operation (ECONNRESET); ioredis would print them too.
      this.client.on('error', () => undefined);
    }
    defineScripts(this.client);
    const connection = plain(options.connection ?? settingsOf(this.client));
    this.spec = { connection, prefix, leaseMs, syncTimeoutMs, clientId: this.clientId };
    this.notifier = new Notifier(connect(connection, { maxRetriesPerRequest: null, connectionName: `${prefix}:${this.clientId}:notices` }));
    this.bridge = new SyncBridge(this.spec);
  }

  /**
   * The inbox where sends hand messages to this process's waiting receives (opened on first use;
   * `undefined` on a cluster, where receives wait on notices instead: see inbox.ts).
   */
  get inbox(): Inbox | undefined {
    if (this.closed || isCluster(this.spec.connection)) return undefined;
    this.inboxOf ??= new Inbox(
      // No reconnect of its own: see inbox.ts.
      () => connect(this.spec.connection, { maxRetriesPerRequest: null, retryStrategy: () => null, connectionName: `${this.prefix}:${this.clientId}:inbox` }) as Redis,
      this.inboxKey(this.clientId),
    );
    return this.inboxOf;
  }

  /** The key of client `clientId`'s inbox. */
  inboxKey(clientId: string): string {
    return `{${this.prefix}:client:${clientId}}:inbox`;
  }

  /**
   * Script calls of {@link run} in flight on the command connection: a receive that would go
   * through the inbox connection goes here instead while some are, so that it reaches the server
   * after the calls this process made before it (see message-queue.ts).
   */
  inFlight = 0;

  /** Runs a script; a failure of Redis itself becomes an IpcError for `syscall`. */
  async run(name: ScriptName, keys: readonly string[], args: readonly ScriptArgument[], syscall: string, where: { key?: number; path?: string } = {}): Promise<ScriptReply> {
    this.inFlight++;
    try {
      return decodeReply(await runScript(this.client, name, keys, args));
    } catch (error) {
      throw redisFailure(error, syscall, where);
    } finally {
      this.inFlight--;
    }
  }

  /** Runs a script synchronously through the bridge. */
  runSync(name: ScriptName, keys: readonly string[], args: readonly ScriptArgument[], syscall: string): ScriptReply {
    return decodeReply(this.bridge.call(name, keys, args, syscall));
  }

  /** A new object id (unique per prefix, like a kernel's ids). */
  async newId(syscall: string): Promise<number> {
    try {
      return await this.client.incr(`${this.prefix}:ids`);
    } catch (error) {
      throw redisFailure(error, syscall);
    }
  }

  /** Key of the sorted set of live clients (member client id, score lease end in ms). */
  get clientsKey(): string {
    return `${this.prefix}:clients`;
  }

  /** Key of the set of object tags a client has state in (undo records, waits, handles). */
  clientObjectsKey(clientId: string): string {
    return `{${this.prefix}:client:${clientId}}:objects`;
  }

  /**
   * Records that this client keeps state in the object of `tag` (so that if its lease runs out,
   * whoever notices finds that state), and starts the lease. Once per tag.
   */
  async track(tag: string, kind: string, syscall: string): Promise<void> {
    await this.startLease(syscall);
    const member = `${kind} ${tag}`;
    if (this.knownTags.has(member)) return;
    try {
      await this.client.sadd(this.clientObjectsKey(this.clientId), member);
    } catch (error) {
      throw redisFailure(error, syscall);
    }
    this.knownTags.add(member);
  }

  /**
   * True when {@link track} has nothing left to do for this object (its lease runs and the tag is
   * recorded): a receive then skips the call (and its awaits).
   */
  tracked(tag: string, kind: string): boolean {
    return this.leaseRunning && this.knownTags.has(`${kind} ${tag}`);
  }

  /**
   * Starts this client's lease (once): a first renewal on the command connection (its failure is
   * the caller's), then a worker thread renews it every third of the lease (see lease.ts), so that
   * a main thread blocked for longer than the lease does not lose the client's SEM_UNDO units. Until
   * the thread has made its first renewal, a timer of this thread renews, and the lease is not
   * started yet for the caller: it resolves only after that renewal. A caller holds state that the
   * lease guards (undo units, a registered receive, a claim) only once it resolves, so the main
   * thread never blocks (a synchronous call, which waits up to 20 s while the bridge starts) with
   * the lease renewed by nothing but its own timer: on a busy machine a new thread takes tens of
   * seconds to start, and a client whose lease ran out while it was alive lost its units and its
   * inbox's messages to whoever reaped it (measured at load 40: threads started after a median of
   * 37 s, and live clients were reaped).
   */
  startLease(syscall = 'lease'): Promise<void> {
    this.leaseStarted ??= (async () => {
      await this.renewLease(syscall);
      if (this.closed) return;
      const timer = setInterval(() => {
        this.renewLease('lease').catch(() => {
          // The server is away: the next renewal tries again; waits fail through the notifier.
        });
      }, Math.max(100, Math.floor(this.spec.leaseMs / 3)));
      timer.unref();
      this.leaseTimer = timer;
      const renewer = new LeaseRenewer(
        this.spec,
        (expired) => this.reapAll(expired),
        () => void this.afterReaped(),
      );
      this.renewer = renewer;
      await renewer.started;
      if (this.leaseTimer === timer) {
        clearInterval(timer);
        this.leaseTimer = undefined;
      }
      this.leaseRunning = true;
      if (this.leaseHeldByBridge) {
        this.leaseHeldByBridge = false;
        this.bridge.releaseLease();
      }
    })();
    return this.leaseStarted;
  }

  /**
   * Starts the lease for a synchronous call that has just left state the lease guards (a `post`
   * with undo): such a call cannot wait for the renewal thread ({@link startLease}), so until that
   * thread has made its first renewal the synchronous bridge's thread, already running, renews the
   * lease too; a main thread that blocks right after the call keeps its undo.
   */
  holdLeaseSync(): void {
    if (!this.leaseRunning && !this.leaseHeldByBridge) {
      this.leaseHeldByBridge = true;
      this.bridge.holdLease();
    }
    void this.startLease().catch(() => undefined);
  }

  /**
   * Resolves once the lease renewal thread has made its first renewal (or ended); for tests and
   * diagnostics. Resolves at once when the lease was never started.
   */
  async leaseThreadStarted(): Promise<void> {
    await this.leaseStarted?.catch(() => undefined);
    await this.renewer?.started;
  }

  /** Reaps the clients the renewal thread found expired (each once at a time). */
  private reapAll(expired: readonly string[]): void {
    for (const dead of expired) {
      if (this.closed || this.reaping.has(dead) || dead === this.clientId) continue;
      this.reaping.add(dead);
      this.reap(dead)
        .catch(() => {
          // The server is away: the next renewal reports it again.
        })
        .finally(() => this.reaping.delete(dead));
    }
  }

  /**
   * Renews this client's lease and reaps clients whose lease has run out: their SEM_UNDO
   * adjustments are applied and their waits and handles forgotten (each exactly once: the reap
   * script deletes what it applies in the same atomic step).
   */
  async renewLease(syscall = 'lease'): Promise<void> {
    if (this.closed) return;
    let expired: string[];
    // The first renewal takes the lease; a later one of this thread (the timer until the renewal
    // thread has started) renews a lease the client held.
    const present = this.renewedOnce;
    this.renewedOnce = true;
    try {
      const reply = decodeReply(await runScript(this.client, 'lease-renew', [this.clientsKey], [this.clientId, this.spec.leaseMs, present ? 1 : 0]));
      expired = reply.values.map((v) => v.toString());
      if (reply.status === 'REAPED') void this.afterReaped();
    } catch (error) {
      throw redisFailure(error, syscall);
    }
    for (const dead of expired) await this.reap(dead);
  }

  /**
   * This client was reaped while alive (stalled longer than its lease: a paused VM, SIGSTOP, a
   * partition): whoever reaped it applied its undo records, dropped its registered receives and
   * its record of the objects it has state in. It has a fresh lease now; this records those
   * objects again (so that undo records it makes from now on are found if it dies), and ends the
   * receives waiting on its inbox as an abort would, with ECONNRESET: their registrations may be
   * gone, and they would wait forever (one that a send served after the reap still takes its message).
   */
  private async afterReaped(): Promise<void> {
    if (this.closed) return;
    this.reapedCount++;
    const error = (this.reapedError = new IpcError('ECONNRESET', {
      syscall: 'msgrcv',
      message: `ECONNRESET: this client's lease ran out while it was alive (stalled for longer than leaseMs, ${this.spec.leaseMs} ms) and another client reaped it: its SEM_UNDO adjustments so far were applied and its waiting receives dropped`,
    }));
    for (const listener of [...this.reapedListeners]) listener(error);
    if (this.knownTags.size === 0) return;
    try {
      await this.client.sadd(this.clientObjectsKey(this.clientId), ...this.knownTags);
    } catch {
      // The server is away: forget the tags, so that the next use of each object records it again.
      this.knownTags.clear();
    }
  }

  /**
   * How many times this client found itself reaped while alive (its lease ran out while it was
   * stalled, and another client applied its undo and dropped its waits); for diagnostics and tests.
   */
  reapedCount = 0;

  /** The error its waiting receives got the last time this client found itself reaped while alive. */
  reapedError: IpcError | undefined;

  private readonly reapedListeners = new Set<(error: IpcError) => void>();

  /**
   * Calls `listener` when this client finds itself reaped while alive (a receive waiting on its
   * inbox then gives up as an abort does: its registration may be gone); returns the removal.
   */
  onReaped(listener: (error: IpcError) => void): () => void {
    this.reapedListeners.add(listener);
    return () => this.reapedListeners.delete(listener);
  }

  /** Applies the undo records of client `dead` and forgets its waits and handles. */
  async reap(dead: string): Promise<void> {
    const objectsKey = this.clientObjectsKey(dead);
    const members = await this.client.smembers(objectsKey);
    for (const member of members) {
      const space = member.indexOf(' ');
      const reaper = reapers.get(member.slice(0, space));
      if (reaper) await reaper(this, member.slice(space + 1), dead);
    }
    const reply = decodeReply(await runScript(this.client, 'lease-forget', [this.clientsKey], [dead]));
    if (reply.status === 'OK') await this.client.del(objectsKey);
  }

  /**
   * Gives up this client: applies its own undo records at once (as a process's exit does), drops
   * its lease, stops the bridge and closes the connections it opened.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    if (this.leaseStarted !== undefined) {
      try {
        await this.leaseStarted;
        // The thread stops first: a renewal after the reap below would bring the lease back.
        await this.renewer?.close();
        await this.reap(this.clientId);
      } catch {
        // The server is away: the lease runs out and another client reaps.
      }
    }
    this.bridge.close();
    this.inboxOf?.close();
    await this.notifier.close();
    if (this.ownsClient) this.client.disconnect();
  }
}

/** Per object kind, how to reap a dead client's state in one object. */
export type Reaper = (connection: RedisConnection, tag: string, dead: string) => Promise<void>;
const reapers = new Map<string, Reaper>();

/** Registers the reaper of an object kind (each primitive's file registers its own). */
export function registerReaper(kind: string, reaper: Reaper): void {
  reapers.set(kind, reaper);
}
