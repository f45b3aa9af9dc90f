/**
 * The inbox of one backend: where sends hand messages straight to this process's waiting
 * receives (see `lua/mq-send.lua`). A receive that would block registers on the server with this
 * inbox's key; a send that suits it pushes the message (or an error) to the inbox, tagged with the
 * waiter's name. One dedicated connection pops the inbox with a blocking `BLMPOP` for every wait
 * of the process, so the number of connections stays bounded whatever the number of waiters, and a
 * message costs the sender one script call and the receiver one blocking pop, as a raw
 * LPUSH/BRPOP exchange does (instead of a notice and a second attempt).
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

/** A process's inbox (one per backend). */
export class Inbox {
  private readonly expected = new Map<string, Expected>();
  /** Deliveries that came before their waiter was expected (cannot happen in order; kept for safety). */
  private readonly early = new Map<string, Delivery>();
  private running = false;
  private closed = false;

  constructor(
    private readonly client: Redis,
    /** The inbox's key on the server. */
    readonly key: string,
  ) {
    // A lost link may lose deliveries in flight: pending waits fail with ECONNRESET (documented),
    // and their requests count as lost, so the next call of the handle puts their messages back.
    client.on('close', () => this.lost());
    client.on('error', () => undefined);
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
    this.start();
    return { delivery, cancel: () => this.expected.delete(waiter) };
  }

  private start(): void {
    if (this.running || this.closed) return;
    this.running = true;
    void this.loop();
  }

  private async loop(): Promise<void> {
    while (!this.closed) {
      let reply: unknown;
      try {
        reply = await this.client.callBuffer('BLMPOP', '0', '1', this.key, 'LEFT', 'COUNT', POP_COUNT);
      } catch {
        if (this.closed) break;
        // The link is away (pending waits were failed by 'close'); ioredis reconnects and the
        // next pop waits for it. Pause so that a refusing server is not hammered.
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
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
    this.running = false;
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
    this.client.disconnect();
  }
}
