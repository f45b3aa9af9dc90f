/**
 * Wake-up notices without polling. Every script that changes an object publishes a one-letter
 * notice on the object's channel (`<tag>:ch`). One subscriber connection per backend listens to
 * the channels that have local waiters (subscribed while someone waits, released a moment after
 * the last one leaves), so the number of connections does not grow with the number of waiters.
 *
 * A waiter never misses a notice: it holds the subscription before its decisive attempt and
 * registers as a sleeper before each attempt, so a notice that arrives while the attempt is in
 * flight wakes it at once. A sleeper may give a filter (say, a receiver of type 7 ignores notices
 * of sends of type 6), so that one change wakes only the waiters it can help.
 */
import type { Cluster, Redis } from 'ioredis';
import { IpcError } from '@ipcx/core';
import { redisFailure } from './connection.js';

interface Channel {
  /** Waiters holding the subscription. */
  holders: number;
  /** Resolved when the SUBSCRIBE is acknowledged. */
  subscribed: Promise<void>;
  /** Wakes the waiters sleeping on this channel. */
  sleepers: Set<Sleeper>;
  /** Pending release after the last holder left. */
  release: NodeJS.Timeout | undefined;
  /** Notices delivered on this channel so far: the number of the latest. */
  delivered: number;
}

/** How long a channel stays subscribed after its last waiter left (saves a round trip in ping-pongs). */
const LINGER_MS = 1000;

/**
 * What a notice means to a sleeper: `'ignore'` it, `'one'` (it can satisfy one waiter: a sent
 * message, a posted unit; only the first such sleeper is woken) or `'all'` (wake every one: a
 * removal, a change of limits).
 */
export type Relevance = 'ignore' | 'one' | 'all';

interface Sleeper {
  readonly filter: ((notice: string) => Relevance) | undefined;
  readonly wake: (notice: string, single: boolean, number: number) => void;
  /** The channel's `delivered` when the sleeper came: it attempts after every notice up to that one. */
  readonly since: number;
}

/** A notice that woke a sleeper: its text, whether it woke that sleeper alone, and its number on the channel. */
export interface Wakening {
  readonly notice: string;
  readonly single: boolean;
  readonly number: number;
}

/** Listeners told when the subscriber loses its connection (pending waits then fail). */
type LostListener = (error: IpcError) => void;

/** The subscriber of one backend. */
export class Notifier {
  private readonly channels = new Map<string, Channel>();
  private readonly lostListeners = new Set<LostListener>();
  private closed = false;

  constructor(private readonly subscriber: Redis | Cluster) {
    subscriber.on('message', (channel: string, notice: string) => this.notice(channel, notice));
    // A lost link means lost notices: every pending wait fails with ECONNRESET (documented), so
    // no call hangs while the server is away.
    subscriber.on('close', () => this.lost());
    subscriber.on('error', () => {
      // Reported through 'close'; ioredis would print unhandled errors otherwise.
    });
  }

  private notice(name: string, notice: string): void {
    const channel = this.channels.get(name);
    if (channel === undefined) return;
    this.deliver(channel, notice, ++channel.delivered);
  }

  /** Wakes the sleepers that came before notice `number` (every one, for a new notice) and that it concerns. */
  private deliver(channel: Channel, notice: string, number: number): void {
    let oneWoken = false;
    for (const sleeper of channel.sleepers) {
      if (sleeper.since >= number) continue;
      const relevance = sleeper.filter === undefined ? 'all' : sleeper.filter(notice);
      if (relevance === 'ignore' || (relevance === 'one' && oneWoken)) continue;
      if (relevance === 'one') oneWoken = true;
      channel.sleepers.delete(sleeper);
      sleeper.wake(notice, relevance === 'one', number);
    }
  }

  /**
   * Hands a notice on: a sleeper woken alone by it that will not use it (cancelled, or its attempt
   * took nothing: another client was first) passes it to the next sleeper that came before it, so
   * nothing is lost. Only to those: a sleeper that came after the notice makes its attempt after
   * the change the notice announced, so it needs no wake-up (and passing the notice to the caller's
   * own next sleeper, or back and forth between two, would be a busy retry loop).
   */
  passOn(name: string, wakening: Wakening): void {
    const channel = this.channels.get(name);
    if (channel !== undefined) this.deliver(channel, wakening.notice, wakening.number);
  }

  /** True while `name` is subscribed (held, or lingering after its last holder). */
  isSubscribed(name: string): boolean {
    return this.channels.has(name);
  }

  private lost(): void {
    if (this.closed) return;
    const error = new IpcError('ECONNRESET', { syscall: 'wait', message: 'ECONNRESET: the connection to Redis was lost while waiting' });
    for (const listener of [...this.lostListeners]) listener(error);
    // The subscriptions are gone with the link; ioredis re-subscribes on reconnect.
  }

  /** Calls `listener` if the subscriber's connection is lost; returns the unsubscribe function. */
  onLost(listener: LostListener): () => void {
    this.lostListeners.add(listener);
    return () => this.lostListeners.delete(listener);
  }

  /** Holds a subscription to `name` (resolves once the server acknowledged it). */
  async hold(name: string): Promise<void> {
    let channel = this.channels.get(name);
    if (channel === undefined) {
      channel = { holders: 0, subscribed: Promise.resolve(), sleepers: new Set(), release: undefined, delivered: 0 };
      const created = channel;
      created.subscribed = this.subscriber.subscribe(name).then(
        () => undefined,
        (error: unknown) => {
          if (this.channels.get(name) === created) this.channels.delete(name);
          // A link lost with the SUBSCRIBE in flight is ECONNRESET, as for every other call.
          throw redisFailure(error, 'subscribe');
        },
      );
      this.channels.set(name, channel);
    }
    if (channel.release !== undefined) {
      clearTimeout(channel.release);
      channel.release = undefined;
    }
    channel.holders++;
    try {
      await channel.subscribed;
    } catch (error) {
      channel.holders--;
      throw error;
    }
  }

  /** Gives up one hold on `name`; the subscription ends shortly after the last. */
  release(name: string): void {
    const channel = this.channels.get(name);
    if (channel === undefined) return;
    channel.holders--;
    if (channel.holders > 0) return;
    channel.release = setTimeout(() => {
      if (channel.holders > 0 || this.channels.get(name) !== channel) return;
      this.channels.delete(name);
      this.subscriber.unsubscribe(name).catch(() => undefined);
    }, LINGER_MS);
    channel.release.unref();
  }

  /**
   * Resolves at the next notice on `name` (which must be held) that passes `filter`; `cancel`
   * removes the sleeper.
   */
  sleep(name: string, filter?: (notice: string) => Relevance): { woken: Promise<Wakening>; cancel: () => void } {
    const channel = this.channels.get(name);
    if (channel === undefined) throw new Error(`channel ${name} is not held`);
    let wake!: (notice: string, single: boolean, number: number) => void;
    const woken = new Promise<Wakening>((resolve) => {
      wake = (notice, single, number) => resolve({ notice, single, number });
    });
    const sleeper: Sleeper = { filter, wake, since: channel.delivered };
    channel.sleepers.add(sleeper);
    return { woken, cancel: () => channel.sleepers.delete(sleeper) };
  }

  /** Channels subscribed now (for diagnostics and tests). */
  subscribedChannels(): string[] {
    return [...this.channels.keys()];
  }

  /** Ends every subscription and closes the connection. */
  async close(): Promise<void> {
    this.closed = true;
    for (const channel of this.channels.values()) if (channel.release) clearTimeout(channel.release);
    this.channels.clear();
    this.subscriber.disconnect();
  }
}
