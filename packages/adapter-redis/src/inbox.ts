/**
 * The inbox of one backend: where sends hand messages straight to this process's waiting
 * receives (see `lua/mq-send.lua`). A receive that would block registers on the server with this
 * inbox's key; a send that suits it pushes the message (or an error) to the inbox, tagged with the
 * waiter's name. One dedicated connection pops the inbox with a blocking `BLMPOP` for every wait
 * of the process, so the number of connections stays bounded whatever the number of waiters, and a
 * message costs the sender one script call and the receiver one blocking pop, as a raw
 * LPUSH/BRPOP exchange does (instead of a notice and a second attempt). A receive that finds the
 * inbox connection idle sends its script and the pop in one write (see `Inbox`).
 *
 * Only on a single server: on a cluster the inbox would live in another slot than the queue, which
 * a script may not touch; there receives wait on notices (`wait.ts`).
 */
import type { Redis } from 'ioredis';
import { IpcError } from '@ipcx/core';

/** A delivery: the waiter it is for, a status ('OK', 'E2BIG', 'EINVAL') and for 'OK' the message. */
export interface Delivery {
  readonly status: string;
  readonly type: number;
  readonly data: Buffer;
}

/** How many deliveries one pop takes at most. */
const POP_COUNT = '512';
const NEWLINE = 0x0a;

/** Splits `<waiter>\n<status>\n<type>\n<payload>`. */
function parse(element: Buffer): { waiter: string; delivery: Delivery } | undefined {
  const a = element.indexOf(NEWLINE);
  const b = a < 0 ? -1 : element.indexOf(NEWLINE, a + 1);
  const c = b < 0 ? -1 : element.indexOf(NEWLINE, b + 1);
  if (c < 0) return undefined;
  return {
    waiter: element.toString('latin1', 0, a),
    delivery: { status: element.toString('latin1', a + 1, b), type: Number(element.toString('latin1', b + 1, c)), data: element.subarray(c + 1) },
  };
}

interface Expected {
  resolve(delivery: Delivery): void;
  reject(error: Error): void;
}

/**
 * The element a receive's script pushes when it was sent with a pop behind it but registered
 * nothing (it took its message at once, or failed): the pop returns at once. Skipped by `parse`.
 */
export const WAKE = 'wake';

/**
 * A process's inbox (one per backend).
 *
 * The pop is issued only while some wait expects a delivery. When none is outstanding (the
 * connection is idle), a receive runs its script on this connection with the pop right behind it,
 * in one write (see `registerAndPop`): a receive that has to wait costs one write and its delivery
 * one read, and a receive whose message is there one round trip (the script pushes {@link WAKE},
 * so the pop returns at once).
 *
 * The connection never reconnects by itself: when it is lost, every command in flight on it fails
 * (none is sent again after a reconnect, which could register a receive that already failed), the
 * pending waits fail with `ECONNRESET`, and the next use opens a new connection.
 */
export class Inbox {
  private readonly expected = new Map<string, Expected>();
  /** Deliveries that came before their waiter was expected (cannot happen in order; kept for safety). */
  private readonly early = new Map<string, Delivery>();
  private client: Redis | undefined;
  /** A pop is outstanding (or about to be issued again after a failure). */
  private popping = false;
  private closed = false;

  constructor(
    /** Opens the inbox connection (a client that does not reconnect by itself). */
    private readonly open: () => Redis,
    /** The inbox's key on the server. */
    readonly key: string,
  ) {}

  /** The connection, opened now if there is none. */
  private link(): Redis {
    if (this.client === undefined) {
      const client = this.open();
      // A lost link may lose deliveries in flight: pending waits fail with ECONNRESET (documented),
      // and their requests count as lost, so the next call of the handle puts their messages back.
      client.on('close', () => {
        if (this.client !== client) return;
        this.client = undefined;
        this.lost();
      });
      client.on('error', () => undefined);
      this.client = client;
    }
    return this.client;
  }

  /**
   * Expects the delivery for `waiter` (call before the registering script runs, so that no
   * delivery can come first). `cancel` forgets it.
   */
  expect(waiter: string): { delivery: Promise<Delivery>; cancel(): void } {
    let entry!: Expected;
    const delivery = new Promise<Delivery>((resolve, reject) => {
      entry = { resolve, reject };
    });
    delivery.catch(() => undefined);
    const early = this.early.get(waiter);
    if (early !== undefined) {
      this.early.delete(waiter);
      entry.resolve(early);
    } else {
      this.expected.set(waiter, entry);
    }
    return { delivery, cancel: () => this.expected.delete(waiter) };
  }

  /** True when no pop is outstanding: a receive may run its script here, with the pop behind it. */
  get idle(): boolean {
    return !this.popping && !this.closed;
  }

  /**
   * Makes sure a pop is outstanding (for a receive that registers through another connection;
   * call before its script runs).
   */
  ensurePopping(): void {
    if (!this.popping && !this.closed) this.pop(this.link());
  }

  /**
   * Runs a script (by its SHA1, `EVALSHA`) on this connection and issues the pop right behind it,
   * in one write; only when {@link idle}. The script must push {@link WAKE} to the inbox when it
   * registers no wait, so that the pop does not block for nothing. If the script fails (say
   * `NOSCRIPT` after a server restart), the pop blocks behind it until something is pushed: the
   * caller wakes it (see `wake`) before trying again elsewhere. Resolves to the script's raw reply.
   */
  registerAndPop(sha: string, keys: readonly string[], args: readonly (string | number | Buffer)[]): Promise<unknown> {
    const client = this.link();
    // Corked, the two commands leave in one write (one system call, one packet) once ready.
    const stream = client.status === 'ready' ? client.stream : undefined;
    stream?.cork();
    try {
      const script = client.callBuffer('EVALSHA', sha, String(keys.length), ...keys, ...args);
      this.pop(client);
      return script;
    } finally {
      stream?.uncork();
    }
  }

  private pop(client: Redis): void {
    this.popping = true;
    client.callBuffer('BLMPOP', '0', '1', this.key, 'LEFT', 'COUNT', POP_COUNT).then(
      (reply) => {
        this.popping = false;
        this.dispatch(reply);
        // Decided after this turn's reactions (a receive whose message came with its script's
        // reply forgets its expectation there): a pop that nobody needs would keep the
        // connection busy, and the next receive would have to register elsewhere.
        setImmediate(() => this.again());
      },
      () => {
        if (this.closed) return;
        // The link is away (pending waits were failed by 'close', the next use opens a new one)
        // or the server refused: pause so that a refusing server is not hammered.
        setTimeout(() => {
          this.popping = false;
          this.again();
        }, 50);
      },
    );
  }

  /** Pops again while deliveries are expected. */
  private again(): void {
    if (!this.popping && !this.closed && this.expected.size > 0) this.pop(this.link());
  }

  private dispatch(reply: unknown): void {
    const elements = (reply as [Buffer, Buffer[]] | null)?.[1] ?? [];
    for (const element of elements) {
      const parsed = parse(element);
      if (parsed === undefined) continue;
      const entry = this.expected.get(parsed.waiter);
      if (entry === undefined) {
        // No such wait here (any more): a cancelled wait whose delivery came anyway takes it
        // through `expect` again; anything else was for a request counted as lost.
        this.early.set(parsed.waiter, parsed.delivery);
        if (this.early.size > 10_000) this.early.delete(this.early.keys().next().value as string);
        continue;
      }
      this.expected.delete(parsed.waiter);
      entry.resolve(parsed.delivery);
    }
  }

  private lost(): void {
    if (this.closed) return;
    const error = new IpcError('ECONNRESET', { syscall: 'msgrcv', message: 'ECONNRESET: the connection to Redis was lost while waiting' });
    for (const entry of this.expected.values()) entry.reject(error);
    this.expected.clear();
  }

  /** Stops popping and closes the connection. */
  close(): void {
    this.closed = true;
    this.client?.disconnect();
    this.client = undefined;
  }
}
