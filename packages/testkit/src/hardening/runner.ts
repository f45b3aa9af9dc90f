/**
 * Runs scenarios inside the fuzzing child: makes the target, makes each call with its arguments,
 * waits for it with a deadline, classifies what came back, and disposes of everything made.
 *
 * Outcomes:
 * - allowed: the call returns or resolves, or fails with `TypeError`, `RangeError`, `AbortError`,
 *   or an `IpcError` whose `code` is an errno name (`E...`) and `errno` a number;
 * - wrong error kind: anything else thrown (a plain `Error`, a non-IpcError with a code, a value
 *   that is not an Error);
 * - accepted: a call with an argument that the API promises to refuse resolved anyway;
 * - hang: the call did not settle within `hangMs` after its AbortSignal fired (or after its object
 *   was closed, for a call that had no signal and waits legitimately).
 * Crashes are seen by the parent: this process dies.
 */
import { mkdirSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import type { IpcBackend, IpcObject } from '@ipcx/core';
import { showAction, showScenario, type Action, type Kind, type Member, type Scenario } from './model.js';
import type { Val, World } from './values.js';

/** A line of the journal the child writes for the parent (synchronously: it survives a crash). */
export type JournalRecord =
  | { readonly t: 'backend'; readonly name: string; readonly features: readonly string[] }
  | { readonly t: 'scenario'; readonly run: number; readonly text: string }
  | { readonly t: 'call'; readonly action: number; readonly text: string; readonly tags: readonly string[] }
  | { readonly t: 'made'; readonly sysv: 'msg' | 'sem' | 'shm'; readonly id: number; readonly key: number }
  | { readonly t: 'made'; readonly posix: 'mq' | 'sem' | 'shm'; readonly name: string }
  | { readonly t: 'finding'; readonly finding: Finding }
  | { readonly t: 'uncaught'; readonly error: string }
  | { readonly t: 'summary'; readonly summary: Summary };

/** What the fuzzer found wrong in one call. */
export interface Finding {
  readonly kind: 'hang' | 'wrong-kind' | 'accepted' | 'early-timeout';
  /** The call, as code. */
  readonly call: string;
  /** What happened. */
  readonly detail: string;
  /** The scenario it happened in. */
  readonly scenario: string;
  /** The fast-check run it happened in (replay with `IPCX_FC_PATH=<run>`). */
  readonly run: number;
}

/** The child's totals. */
export interface Summary {
  readonly calls: number;
  readonly scenarios: number;
  readonly hangs: number;
  readonly wrongKinds: number;
  readonly accepted: number;
  /** Waits with a timeout far beyond the run that expired anyway. */
  readonly earlyTimeouts: number;
  /** Calls that waited without a signal and were ended by closing their object (legitimate waits). */
  readonly rescued: number;
  readonly seed: number;
  readonly findings: readonly Finding[];
  /** The shrunk failing scenario (when not keeping going). */
  readonly failure?: { readonly text: string; readonly path: string; readonly shrinks: number };
  /** Objects still open through the backend after every scenario was disposed of. */
  readonly openAfter: readonly string[];
  /** Milliseconds spent per kind of target (to see where a run's time goes). */
  readonly timeByKind: Readonly<Record<string, number>>;
  /** How many objects the backend's kernel lists at the end (for a backend of its own: what the run left). */
  readonly kernelObjectsAfter?: readonly string[];
}

/** Writes journal lines to a descriptor, synchronously. */
export class Journal {
  constructor(private readonly fd: number) {}
  write(record: JournalRecord): void {
    writeSync(this.fd, JSON.stringify(record) + '\n');
  }
}

/** Timing of the calls. */
export interface Timing {
  /** A waiting call's AbortSignal fires after this many milliseconds. */
  readonly abortMs: number;
  /** A call without a signal still pending this long after `abortMs` is ended by closing its object. */
  readonly rescueMs: number;
  /** A call still pending this long after it was aborted (or its object closed) is a hang. */
  readonly hangMs: number;
}

type Settled = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };
const PENDING = Symbol('pending');

function settle(promise: Promise<unknown>): Promise<Settled> {
  return promise.then(
    (value) => ({ ok: true, value }) as const,
    (error: unknown) => ({ ok: false, error }) as const,
  );
}

function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof PENDING> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<typeof PENDING>((resolve) => {
    timer = setTimeout(() => resolve(PENDING), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** `undefined` when `error` is of an allowed kind, else a description of what it is. */
export function wrongKind(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return `a non-Error value was thrown: ${typeof error} ${String(error)}`;
  const { name, code, errno, message } = error as { name?: unknown; code?: unknown; errno?: unknown; message?: unknown };
  if (name === 'TypeError' || name === 'RangeError' || name === 'AbortError') return undefined;
  if (name === 'IpcError' && typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) && typeof errno === 'number') return undefined;
  const codeText = code === undefined ? '' : ` (code ${String(code)})`;
  return `${String(name)}${codeText}: ${String(message)}`.slice(0, 300);
}

/** Refused as misuse: a TypeError or RangeError (or EBADF: the object was closed before the arguments mattered). */
function refused(result: Settled): boolean {
  if (result.ok) return false;
  const { name, code } = result.error as { name?: unknown; code?: unknown };
  return name === 'TypeError' || name === 'RangeError' || (name === 'IpcError' && code === 'EBADF');
}

/** Timeouts above this cannot expire during a run: the call's signal fires first. */
const LONG_TIMEOUT_MS = 60_000;

/** The outcome of a wait that timed out (`ETIMEDOUT`, `'timed-out'`; `EAGAIN` for `semtimedop`). */
function timedOut(result: Settled, semtimedop: boolean): boolean {
  if (result.ok) return result.value === 'timed-out';
  const { name, code } = result.error as { name?: unknown; code?: unknown };
  return name === 'IpcError' && (code === 'ETIMEDOUT' || (semtimedop && code === 'EAGAIN'));
}

function describeError(error: unknown): string {
  const { name, code } = (error ?? {}) as { name?: unknown; code?: unknown };
  return code === undefined ? String(name) : `${String(name)} ${String(code)}`;
}

function mustReject(values: readonly Val[]): boolean {
  return values.some((value) => value.mustReject);
}

/** What an object is in the kernel, for the parent's sweep after a crash. */
function identity(object: Record<string, unknown>): JournalRecord | undefined {
  const has = (name: string) => typeof object[name] === 'function';
  if (typeof object.id === 'number' && has('remove')) {
    const key = typeof object.key === 'number' ? object.key : 0;
    if (object.kind === 'sysv') return { t: 'made', sysv: 'shm', id: object.id, key };
    if (has('operate')) return { t: 'made', sysv: 'sem', id: object.id, key };
    if (has('receive')) return { t: 'made', sysv: 'msg', id: object.id, key };
  }
  if (typeof object.name === 'string' && object.name !== '') {
    if (has('attributes')) return { t: 'made', posix: 'mq', name: object.name };
    if (has('tryWait')) return { t: 'made', posix: 'sem', name: object.name };
    if (object.kind === 'posix') return { t: 'made', posix: 'shm', name: object.name };
  }
  return undefined;
}

interface Tracked {
  readonly object: IpcObject;
  readonly remove?: () => Promise<unknown>;
  readonly made?: JournalRecord;
}

/** The {@link World} of the fuzzing child, and the engine that runs scenarios in it. */
export class Runner implements World {
  readonly names: readonly string[];
  readonly abstractNames: readonly string[];
  calls = 0;
  scenarios = 0;
  rescued = 0;
  readonly findings: Finding[] = [];
  readonly timeByKind: Record<string, number> = {};
  /** After the first failing run, fast-check shrinks: those runs are not counted. */
  shrinking = false;
  private tracked: Tracked[] = [];
  private controller = new AbortController();
  private hugeBuffer: Uint8Array | undefined;
  private listenerPort: Promise<number> | undefined;
  private listenerPath: Promise<string> | undefined;
  private fifo: Promise<string> | undefined;
  private run = 0;
  dir = '';

  constructor(
    readonly backend: IpcBackend,
    readonly tempDir: string,
    prefix: string,
    readonly keys: readonly number[],
    readonly childEntry: string,
    readonly regularFile: string,
    private readonly journal: Journal,
    private readonly timing: Timing,
  ) {
    this.names = [0, 1, 2, 3].map((i) => `/${prefix}-${i}`);
    this.abstractNames = [0, 1].map((i) => `${prefix}-a${i}`);
  }

  callSignal(): AbortSignal {
    return this.controller.signal;
  }

  abortedSignal(): AbortSignal {
    return AbortSignal.abort();
  }

  huge(): Uint8Array {
    this.hugeBuffer ??= new Uint8Array(64 << 20);
    return this.hugeBuffer;
  }

  track(object: IpcObject, remove?: () => Promise<unknown>): void {
    const made = identity(object as unknown as Record<string, unknown>);
    this.tracked.push({ object, ...(remove !== undefined ? { remove } : {}), ...(made !== undefined ? { made } : {}) });
    if (made !== undefined) this.journal.write(made);
  }

  listeningPort(): Promise<number> {
    this.listenerPort ??= (async () => {
      if (!this.backend.capabilities.primitives.has('network-socket')) return 1;
      const server = await this.backend.networkSockets.listen({ host: '127.0.0.1', port: 0 });
      this.track(server);
      return (server.address as { port: number }).port;
    })();
    return this.listenerPort;
  }

  listeningPath(): Promise<string> {
    this.listenerPath ??= (async () => {
      const where = `${this.dir}/listener`;
      const server = await this.backend.unixSockets.listen(where);
      this.track(server);
      return where;
    })();
    return this.listenerPath;
  }

  fifoPath(): Promise<string> {
    this.fifo ??= (async () => {
      const where = `${this.dir}/fifo`;
      await this.backend.fifos.create(where);
      this.track({ closed: false, close: async () => undefined, [Symbol.asyncDispose]: async () => undefined }, () => this.backend.fifos.remove(where));
      return where;
    })();
    return this.fifo;
  }

  /** Findings of the scenario running now (also while shrinking, when they are not counted). */
  private current: Finding[] = [];

  private find(finding: Omit<Finding, 'run' | 'scenario'>, scenario: Scenario): void {
    const full: Finding = { ...finding, scenario: showScenario(scenario), run: this.run };
    this.current.push(full);
    if (this.shrinking) return;
    this.findings.push(full);
    this.journal.write({ t: 'finding', finding: full });
  }

  /**
   * Runs one scenario (run number `run` of fast-check) and returns what it found. With
   * `onlyAction`, runs only that action and the closes before it (to check a crash alone).
   */
  async runScenario(scenario: Scenario, run: number, onlyAction?: number): Promise<Finding[]> {
    this.run = run;
    this.current = [];
    if (!this.shrinking) this.scenarios++;
    this.journal.write({ t: 'scenario', run, text: showScenario(scenario) });
    this.tracked = [];
    this.listenerPort = this.listenerPath = this.fifo = undefined;
    const started = performance.now();
    this.dir = `${this.tempDir}/r${run}`;
    mkdirSync(this.dir, { recursive: true });
    try {
      let made = await within(settle(scenario.kind.make(this, scenario.variant)), this.timing.hangMs);
      if (made !== PENDING && !made.ok && (made.error as { code?: unknown }).code === 'EEXIST') {
        // An earlier scenario's object is still there under a pool key or name (one it could not remove).
        await this.clearPools();
        made = await within(settle(scenario.kind.make(this, scenario.variant)), this.timing.hangMs);
      }
      if (made === PENDING) {
        this.find({ kind: 'hang', call: `making a ${scenario.kind.title} (variant ${scenario.variant})`, detail: `still pending ${this.timing.hangMs} ms later` }, scenario);
        return this.current;
      }
      if (!made.ok) throw made.error;
      const target = made.value;
      for (const [index, action] of scenario.actions.entries()) {
        if (onlyAction !== undefined && (index > onlyAction || (index < onlyAction && action.type !== 'close'))) continue;
        const tags = action.type === 'call' ? [...new Set(action.args.flatMap((value) => value.tags))] : [];
        this.journal.write({ t: 'call', action: index, text: showAction(scenario.kind, action), tags });
        await this.act(scenario, target, action);
      }
    } finally {
      await this.dispose(scenario);
      await this.clearFolder();
      const title = scenario.kind.title;
      this.timeByKind[title] = (this.timeByKind[title] ?? 0) + Math.round(performance.now() - started);
    }
    return this.current;
  }

  private async act(scenario: Scenario, target: unknown, action: Action): Promise<void> {
    const text = showAction(scenario.kind, action);
    if (!this.shrinking) this.calls++;
    if (action.type === 'close') {
      await this.expectSettled(scenario, text, settle((target as IpcObject).close()));
      return;
    }
    if (action.type === 'pending') {
      const operation = settle(Promise.resolve().then(() => scenario.kind.pending[action.index]!.start(target as never)));
      await new Promise((resolve) => setImmediate(resolve));
      const closing = settle((target as IpcObject).close());
      await this.expectSettled(scenario, text, operation);
      await this.expectSettled(scenario, `${text} (the close)`, closing);
      return;
    }
    await this.call(scenario, target as Record<PropertyKey, unknown>, action, text);
  }

  /** Waits `hangMs` for `outcome`: a hang if it does not come, a finding if it is a wrong kind of error. */
  private async expectSettled(scenario: Scenario, text: string, outcome: Promise<Settled>): Promise<void> {
    const result = await within(outcome, this.timing.hangMs);
    if (result === PENDING) {
      this.find({ kind: 'hang', call: text, detail: `still pending ${this.timing.hangMs} ms later` }, scenario);
      return;
    }
    if (!result.ok) {
      const wrong = wrongKind(result.error);
      if (wrong !== undefined) this.find({ kind: 'wrong-kind', call: text, detail: wrong }, scenario);
    }
  }

  private async call(scenario: Scenario, target: Record<PropertyKey, unknown>, action: Action & { type: 'call' }, text: string): Promise<void> {
    const member = (scenario.kind.members as Record<PropertyKey, Member>)[action.member]!;
    this.controller = new AbortController();
    const controller = this.controller;
    const values: unknown[] = [];
    for (const value of action.args) values.push(await value.make(this));
    // A call that can wait gets the call's signal, unless the arguments say otherwise.
    let signalled = false;
    const last = values[values.length - 1];
    if (member.waits && last !== null && typeof last === 'object') {
      const bag = last as Record<string, unknown>;
      if (!Object.prototype.hasOwnProperty.call(bag, 'signal')) {
        try {
          bag.signal = controller.signal;
        } catch {
          // a frozen or exotic object: the call must refuse it anyway
        }
      }
      signalled = bag.signal === controller.signal;
    }
    // A timeout longer than the call's deadline must not expire before the signal fires.
    const bagTimeout = last !== null && typeof last === 'object' ? (last as { timeout?: unknown }).timeout : undefined;
    const longTimeout = typeof bagTimeout === 'number' && bagTimeout > LONG_TIMEOUT_MS && !(last as { nowait?: unknown }).nowait;
    const abortTimer = setTimeout(() => controller.abort(), this.timing.abortMs);
    let outcome: Promise<Settled>;
    try {
      const property = Reflect.get(target, action.member);
      const result = typeof property === 'function' ? Reflect.apply(property, target, values) : property;
      outcome = settle(Promise.resolve(result).then((value) => this.follow(value, member)));
    } catch (error) {
      outcome = Promise.resolve({ ok: false, error });
    }
    try {
      let result = await within(outcome, this.timing.abortMs + this.timing.rescueMs);
      if (result === PENDING && member.open) return;
      let rescued = false;
      if (result === PENDING && !signalled && typeof target.close === 'function') {
        // A legitimate wait with no way to end it but closing its object (no signal was given).
        if (!this.shrinking) this.rescued++;
        rescued = true;
        void settle((target as unknown as IpcObject).close());
      }
      if (result === PENDING) result = await within(outcome, this.timing.hangMs);
      if (result === PENDING) {
        const after = signalled ? ' after its signal fired' : rescued ? ' after its object was closed' : '';
        this.find({ kind: 'hang', call: text, detail: `still pending ${this.timing.hangMs} ms${after}` }, scenario);
      } else if (!result.ok && wrongKind(result.error) !== undefined) {
        this.find({ kind: 'wrong-kind', call: text, detail: wrongKind(result.error)! }, scenario);
      } else if (longTimeout && signalled && timedOut(result, scenario.kind.title === 'semaphoreSet' && (action.member === 'wait' || action.member === 'waitForZero'))) {
        this.find({ kind: 'early-timeout', call: text, detail: `${result.ok ? "resolved 'timed-out'" : `failed with ${describeError(result.error)}`} before its signal fired: a timeout of ${String(bagTimeout)} ms expired at once` }, scenario);
      } else if (mustReject(action.args) && !refused(result)) {
        const what = result.ok ? 'resolved' : `failed with ${describeError(result.error)}`;
        this.find({ kind: 'accepted', call: text, detail: `${what}, but the API promises a TypeError or RangeError for this argument` }, scenario);
      }
    } finally {
      clearTimeout(abortTimer);
    }
  }

  /**
   * Goes on with what a call returned, the way a user would: touches the bytes of a buffer, reads a
   * stream, steps an iterator; objects it made are kept for disposal.
   */
  private async follow(value: unknown, member: Member): Promise<unknown> {
    if (member.open) return value;
    if (value instanceof ArrayBuffer) {
      const view = new Uint8Array(value);
      if (view.length > 0) {
        view[0] = view[0]!;
        view[view.length - 1] = view[view.length - 1]!;
      }
      return value;
    }
    if (value instanceof ReadableStream) {
      const reader = value.getReader();
      await reader.read();
      reader.releaseLock();
      return value;
    }
    if (value instanceof WritableStream) {
      const writer = value.getWriter();
      await writer.write(new Uint8Array([1, 2, 3]));
      writer.releaseLock();
      return value;
    }
    this.adopt(value);
    if (value !== null && typeof value === 'object' && typeof (value as AsyncIterator<unknown>).next === 'function') {
      const step = await (value as AsyncIterator<unknown>).next();
      this.adopt(step.value);
    }
    return value;
  }

  /** Keeps objects a call made (directly, in an array, or in a message's `objects`) for disposal. */
  private adopt(value: unknown): void {
    if (Array.isArray(value)) {
      for (const item of value) this.adopt(item);
      return;
    }
    if (value === null || typeof value !== 'object') return;
    const object = value as Record<string, unknown>;
    if (Array.isArray(object.objects)) this.adopt(object.objects);
    if (typeof object.kill === 'function' && object.exited instanceof Promise) {
      const child = value as { [Symbol.asyncDispose](): Promise<void> };
      this.track({ closed: false, close: () => child[Symbol.asyncDispose](), [Symbol.asyncDispose]: () => child[Symbol.asyncDispose]() });
      return;
    }
    if (typeof object.close !== 'function') return;
    const made = identity(object);
    const ipc = value as IpcObject;
    if (made === undefined || !('t' in made) || made.t !== 'made') return this.track(ipc);
    if ('sysv' in made) return this.track(ipc, () => (value as { remove(): Promise<void> }).remove());
    const name = made.name;
    const backend = this.backend;
    const unlink = made.posix === 'mq' ? () => backend.posixMessageQueues.unlink(name) : made.posix === 'sem' ? () => backend.posixSemaphores.unlink(name) : () => backend.sharedMemory.unlinkPosix(name);
    this.track(ipc, unlink);
  }

  /** Removes and closes everything the scenario made, newest first; a removal or close that hangs is a finding. */
  private async dispose(scenario: Scenario): Promise<void> {
    const list = this.tracked.reverse();
    this.tracked = [];
    for (const { object, remove, made } of list) {
      if (remove !== undefined) {
        let removed = await within(settle(Promise.resolve().then(remove)), this.timing.hangMs);
        // A handle closed by the scenario cannot remove its object (EBADF): remove it by id.
        if (removed !== PENDING && !removed.ok && made !== undefined) removed = await within(settle(this.removeById(made)), this.timing.hangMs);
        if (removed === PENDING) this.find({ kind: 'hang', call: 'removing what the scenario made', detail: `still pending ${this.timing.hangMs} ms later` }, scenario);
      }
      const closed = await within(settle(Promise.resolve().then(() => object.close())), this.timing.hangMs);
      if (closed === PENDING) this.find({ kind: 'hang', call: 'closing what the scenario made', detail: `still pending ${this.timing.hangMs} ms later` }, scenario);
      else if (!closed.ok && wrongKind(closed.error) !== undefined) {
        this.find({ kind: 'wrong-kind', call: 'closing what the scenario made', detail: wrongKind(closed.error)! }, scenario);
      }
    }
  }

  /**
   * Removes the scenario's folder and restores the regular file: each scenario starts alike. A
   * backend that emulates paths (FIFOs, socket paths, mapped "files") keeps them in its own
   * namespace, so they are removed through it too.
   */
  private async clearFolder(): Promise<void> {
    const removeFile = (this.backend.sharedMemory as { removeFile?: (path: string) => Promise<void> }).removeFile;
    for (const name of ['p0', 'p1', 'p2', 'p3', 'listener', 'fifo', 'dgram', 'server', 'mapped']) {
      const where = `${this.dir}/${name}`;
      await this.backend.fifos.remove(where).catch(() => undefined);
      if (removeFile !== undefined) await Promise.resolve(removeFile.call(this.backend.sharedMemory, where)).catch(() => undefined);
    }
    rmSync(this.dir, { recursive: true, force: true });
    writeFileSync(this.regularFile, new Uint8Array(4096));
  }

  /** Removes whatever holds the run's keys and names. */
  private async clearPools(): Promise<void> {
    const { backend } = this;
    const quietly = (work: () => Promise<unknown>) => work().catch(() => undefined);
    for (const key of this.keys) {
      await quietly(async () => (await backend.messageQueues.open(key)).remove());
      await quietly(async () => (await backend.semaphores.open(key)).remove());
      await quietly(async () => (await backend.sharedMemory.openSysv(key)).remove());
    }
    for (const name of this.names) {
      await quietly(() => backend.posixMessageQueues.unlink(name));
      await quietly(() => backend.posixSemaphores.unlink(name));
      await quietly(() => backend.sharedMemory.unlinkPosix(name));
    }
  }

  /**
   * Removes a System V object by its id, without the handle. Message queues have no open by id
   * (yet): a closed private queue is left for the parent's sweep.
   */
  private async removeById(made: JournalRecord): Promise<void> {
    if (made.t !== 'made' || !('sysv' in made)) return;
    if (made.sysv === 'shm') return this.backend.sharedMemory.removeSysv(made.id);
    if (made.sysv === 'sem') {
      const set = await this.backend.semaphores.openById(made.id);
      try {
        await set.remove();
      } finally {
        await set.close();
      }
      return;
    }
    const queues = this.backend.messageQueues as { openById?: (id: number) => Promise<{ id: number; remove(): Promise<void>; close(): Promise<void> }> };
    // A keyed queue is found again by its key; a private one needs an open by id.
    const queue = made.key !== 0 ? await this.backend.messageQueues.open(made.key) : queues.openById !== undefined ? await queues.openById(made.id) : undefined;
    if (queue === undefined) return;
    if (queue.id !== made.id) {
      await queue.close();
      return;
    }
    try {
      await queue.remove();
    } finally {
      await queue.close();
    }
  }

  /** Everything this runner counted, for the journal. */
  summary(seed: number, openAfter: readonly string[], failure?: Summary['failure']): Summary {
    const count = (kind: Finding['kind']) => this.findings.filter((finding) => finding.kind === kind).length;
    return {
      calls: this.calls,
      scenarios: this.scenarios,
      hangs: count('hang'),
      wrongKinds: count('wrong-kind'),
      accepted: count('accepted'),
      earlyTimeouts: count('early-timeout'),
      rescued: this.rescued,
      seed,
      findings: this.findings.slice(0, 50),
      openAfter,
      timeByKind: this.timeByKind,
      ...(failure !== undefined ? { failure } : {}),
    };
  }
}

/** Kinds a backend can make (factories always: a missing primitive answers ENOSYS). */
export function kindsFor(kinds: readonly Kind[], backend: IpcBackend): Kind[] {
  return kinds.filter((kind) => kind.primitive === undefined || backend.capabilities.primitives.has(kind.primitive));
}
