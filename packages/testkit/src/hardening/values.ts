/**
 * The fuzzer's vocabulary: hostile argument values as fast-check arbitraries.
 *
 * Every argument is a {@link Val}: a label (how the call is printed in a report, as code) and a
 * `make` that builds the real value inside the fuzzing child, against its {@link World}. Values
 * that need live objects (a fresh segment to place a semaphore in, a pipe end to transfer, the
 * call's AbortSignal) are built at call time, so a generated call can be printed, shrunk and
 * replayed from the seed alone.
 *
 * Safety: the fuzzer runs as whatever user runs the tests (often root). Nothing here names an
 * object it did not make: paths are inside the run's temporary folder (or are refused by the
 * kernel, like `'/'`), System V keys and POSIX names come from the run's own pools, and ids are
 * either ids of objects made for the call or invalid ones. A removal can therefore never reach
 * another program's object.
 */
import fc from 'fast-check';
import type { IpcBackend, IpcObject } from '@ipcx/core';

/** What values are made from, inside the fuzzing child. */
export interface World {
  readonly backend: IpcBackend;
  /** The run's private folder (also the child's working directory, so relative paths land in it). */
  readonly tempDir: string;
  /** The scenario's own folder inside it (fresh for every scenario, removed after it). */
  readonly dir: string;
  /** The run's POSIX names (`/ipcxfz<pid>x<n>-<i>`): the only valid names the fuzzer uses. */
  readonly names: readonly string[];
  /** The run's System V keys (unsigned spelling; each is also used signed). */
  readonly keys: readonly number[];
  /** The run's abstract Unix socket names. */
  readonly abstractNames: readonly string[];
  /** A child module for `processes.spawn` that waits `args[0]` milliseconds and ends. */
  readonly childEntry: string;
  /** A regular file of 4096 bytes in the temporary folder. */
  readonly regularFile: string;
  /** The AbortSignal of the call being made: aborted at the call's deadline. */
  callSignal(): AbortSignal;
  /** An AbortSignal that has already fired. */
  abortedSignal(): AbortSignal;
  /** One 64 MiB buffer, made once. */
  huge(): Uint8Array;
  /** Keeps `object` for disposal at the end of the scenario (closed, and removed when `remove` is given). */
  track(object: IpcObject, remove?: () => Promise<unknown>): void;
  /** A port on 127.0.0.1 where a TCP server of this scenario listens (made on first use). */
  listeningPort(): Promise<number>;
  /** A Unix stream server of this scenario (made on first use): its path. */
  listeningPath(): Promise<string>;
  /** A FIFO made in the temporary folder (made on first use). */
  fifoPath(): Promise<string>;
}

/** One argument: its printed form, the tags that name the known issue it reaches, and how to build it. */
export interface Val {
  readonly label: string;
  /** Names of known issues this value reaches (`IPCX_FUZZ_EXCLUDE` leaves them out). */
  readonly tags: readonly string[];
  /** A call with this value must not succeed: the API promises a TypeError/RangeError for it. */
  readonly mustReject: boolean;
  make(world: World): unknown;
}


/** Tags of the known issues the generators reach (see the testkit README). */
export const KnownIssue = {
  /** Shared memory sizes above 2^32 (System V, POSIX, file mappings). */
  shmHuge: 'shm-huge',
  /** A segment or file shrunk (or a full /dev/shm) under a live mapping: SIGBUS on touch. */
  shmShrink: 'shm-shrink',
  /** Semaphore `setValues` on a handle whose size is not the set's. */
  semSetValues: 'sem-setvalues',
  /** A receive whose `maxBytes` is far above what the kernel can deliver. */
  receiveHuge: 'receive-huge',
  /** Semaphore operation arrays with holes. */
  semSparse: 'sem-sparse',
  /** A detached buffer as message data. */
  sendDetached: 'send-detached',
  /** A FIFO given where a regular file is expected (`mapFile`): `open` blocks the event loop. */
  fifoAsFile: 'fifo-as-file',
  /** A timeout above 2^31 - 1 ms, which Node's timers cut to 1 ms: the wait ends at once. */
  timeoutOverflow: 'timeout-overflow',
} as const;

let excluded = new Set<string>();

/** Leaves out every value tagged with one of `tags` from generators built afterwards. */
export function excludeTags(tags: Iterable<string>): void {
  excluded = new Set(tags);
}

const allowed = (value: Val): boolean => value.tags.every((tag) => !excluded.has(tag));

function show(value: unknown): string {
  if (typeof value === 'string') {
    if (value.length > 40) {
      const unit = value[value.length - 1]!;
      if (value === unit.repeat(value.length)) return `${JSON.stringify(unit)}.repeat(${value.length})`;
      const head = value.slice(0, 1);
      if (value.slice(1) === unit.repeat(value.length - 1)) return `${JSON.stringify(head)} + ${JSON.stringify(unit)}.repeat(${value.length - 1})`;
      return `${JSON.stringify(value.slice(0, 40))}…(${value.length})`;
    }
    return JSON.stringify(value);
  }
  if (typeof value === 'number') {
    if (Object.is(value, -0)) return '-0';
    for (const [exponent, text] of [[31, '2**31'], [32, '2**32'], [53, '2**53']] as const) {
      if (value === 2 ** exponent) return text;
      if (value === -(2 ** exponent)) return `-(${text})`;
      if (value === 2 ** exponent + 1) return `${text} + 1`;
      if (value === 2 ** exponent - 1) return `${text} - 1`;
      if (value === -(2 ** exponent) - 1) return `-(${text}) - 1`;
    }
    const exponent = Math.round(Math.log2(Math.abs(value)));
    if (exponent > 20 && exponent <= 60 && Math.abs(value) === 2 ** exponent) return value < 0 ? `-(2**${exponent})` : `2**${exponent}`;
    return String(value);
  }
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'symbol') return 'Symbol()';
  if (typeof value === 'function') return '() => {}';
  if (Array.isArray(value)) return value.length === 0 ? '[]' : `[${value.map(show).join(', ')}]`;
  if (value instanceof Date) return 'new Date(0)';
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'object' && Object.keys(value).length === 0) return '{}';
  return String(value);
}

/** A literal value. */
export function lit(value: unknown, label = show(value), tags: readonly string[] = []): Val {
  return { label, tags, mustReject: false, make: () => value };
}

/** A value built at call time (a fresh object, a signal, a buffer). */
export function dyn(label: string, make: (world: World) => unknown, tags: readonly string[] = [], mustReject = false): Val {
  return { label, tags, mustReject, make };
}

/** `value` marked with the known issue `tag`. */
export function tagged(tag: string, value: Val, mustReject = value.mustReject): Val {
  return { ...value, tags: [...value.tags, tag], mustReject };
}

/** One of `values` (those not excluded), shrinking towards the first. */
export function oneOf(values: readonly Val[]): fc.Arbitrary<Val> {
  const kept = values.filter(allowed);
  return fc.constantFrom(...kept);
}

/** Arbitraries, weighted: `[weight, arbitrary]`. */
export function mix(...entries: Array<[number, fc.Arbitrary<Val>]>): fc.Arbitrary<Val> {
  return fc.oneof(...entries.map(([weight, arbitrary]) => ({ weight, arbitrary })));
}

// ---------------------------------------------------------------------------------------------
// The hostile basics.

/** Values of the wrong type for almost any parameter (not `undefined`, which is often allowed). */
export const WRONG_TYPES: readonly Val[] = [
  lit(null),
  lit(true),
  lit('1'),
  lit(1n),
  lit(Symbol('fuzz'), 'Symbol()'),
  dyn('{}', () => ({})),
  dyn('[]', () => []),
  lit(() => {}, '() => {}'),
  dyn('new Date(0)', () => new Date(0)),
  dyn('new Proxy({}, {})', () => new Proxy({}, {})),
];

/** Numbers outside most ranges, and the edges of 32 and 53 bits. */
export const ODD_NUMBERS: readonly Val[] = [
  lit(-1),
  lit(-0),
  lit(0.5),
  lit(NaN),
  lit(Infinity),
  lit(-Infinity),
  lit(2 ** 31),
  lit(2 ** 31 - 1),
  lit(-(2 ** 31) - 1),
  lit(2 ** 32),
  lit(2 ** 32 + 1),
  lit(2 ** 53),
  lit(-(2 ** 53)),
  lit(Number.MAX_VALUE, 'Number.MAX_VALUE'),
];

/** Odd strings: empty, the root, a folder, too long, NUL bytes. */
export const ODD_STRINGS: readonly Val[] = [
  lit(''),
  lit('/'),
  lit('a/b'),
  lit('x'.repeat(300)),
  lit('/' + 'x'.repeat(300)),
  lit('a\0b'),
  lit('/a\0b'),
  lit('\u{1F600}'.repeat(60)),
];

const smallInt = (min: number, max: number): fc.Arbitrary<Val> => fc.integer({ min, max }).map((value) => lit(value));

/**
 * An integer parameter: mostly from `valid`, otherwise odd numbers and wrong types. `extra` are
 * further values specific to the parameter (with their tags).
 */
export function integer(valid: fc.Arbitrary<Val>, extra: readonly Val[] = []): fc.Arbitrary<Val> {
  return mix([5, valid], [3, oneOf([...ODD_NUMBERS, ...extra])], [1, oneOf(WRONG_TYPES)]);
}

/** An integer in `min..max` or hostile. */
export function intIn(min: number, max: number, extra: readonly Val[] = []): fc.Arbitrary<Val> {
  return integer(smallInt(min, max), extra);
}

/** A boolean option: true, false, or not a boolean. */
export const flag: fc.Arbitrary<Val> = mix([4, oneOf([lit(true), lit(false)])], [1, oneOf([lit(1), lit('true'), lit(null)])]);

/** The run's POSIX names, and odd ones. */
export const posixName: fc.Arbitrary<Val> = mix(
  [6, fc.integer({ min: 0, max: 3 }).map((i) => dyn(`names[${i}]`, (world) => world.names[i]))],
  [3, oneOf(ODD_STRINGS)],
  [1, oneOf([...WRONG_TYPES, lit(undefined)])],
);

/**
 * Paths: in the scenario's folder (fresh or existing), the regular file, a socket, a FIFO, and
 * odd ones. A function: built after {@link excludeTags}, since the FIFO is a known issue's value.
 */
export const path = (): fc.Arbitrary<Val> => mix(
  [5, fc.integer({ min: 0, max: 3 }).map((i) => dyn(`tempPath(${i})`, (world) => `${world.dir}/p${i}`))],
  [
    2,
    oneOf([
      dyn('regularFile', (world) => world.regularFile),
      dyn('tempDir', (world) => world.tempDir),
      dyn('listeningPath', (world) => world.listeningPath()),
      dyn('fifoPath', (world) => world.fifoPath(), [KnownIssue.fifoAsFile]),
    ]),
  ],
  [3, oneOf(ODD_STRINGS)],
  [1, oneOf([...WRONG_TYPES, lit(undefined)])],
);

/** System V keys of the run (signed or unsigned spelling), `'private'`/0, odd ones. */
export const sysvKey: fc.Arbitrary<Val> = mix(
  [6, fc.tuple(fc.integer({ min: 0, max: 3 }), fc.boolean()).map(([i, signed]) => dyn(signed ? `keys[${i}] | 0` : `keys[${i}]`, (world) => (signed ? world.keys[i]! | 0 : world.keys[i])))],
  [2, oneOf([lit('private'), lit(0)])],
  // Out of range only: a valid key outside the run's pool could be another program's object.
  [3, oneOf([lit(NaN), lit(Infinity), lit(0.5), lit(2 ** 32), lit(2 ** 32 + 1), lit(2 ** 53), lit(-(2 ** 31) - 1), lit(-(2 ** 53)), lit('1'), lit('Private')])],
  [1, oneOf([...WRONG_TYPES, lit(undefined)])],
);

/** Invalid System V ids (valid ones come from objects made for the call). */
export const BAD_IDS: readonly Val[] = [lit(-1), lit(NaN), lit(0.5), lit(2 ** 31), lit(2 ** 31 - 1), lit(2 ** 32 + 1), lit(2 ** 53), lit(Infinity), ...WRONG_TYPES];

/** Permission bits: usual ones, the edges, and odd ones. */
export const mode: fc.Arbitrary<Val> = integer(oneOf([lit(0o600), lit(0o666), lit(0o000), lit(0o400), lit(0o777), lit(0o7777), lit(0o10000)]));

// ---------------------------------------------------------------------------------------------
// Byte payloads.

function pattern(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = i & 0xff;
  return bytes;
}

function detached(length: number): Uint8Array {
  const buffer = new ArrayBuffer(length);
  const view = new Uint8Array(buffer);
  structuredClone(buffer, { transfer: [buffer] });
  return view;
}

/** A Uint8Array whose ArrayBuffer was transferred away (length 0 now). */
export const DETACHED: Val = dyn('detachedUint8Array(8)', () => detached(8));

/** The one 64 MiB buffer. */
export const HUGE: Val = dyn('new Uint8Array(64 << 20)', (world) => world.huge());

/**
 * Payloads: small and empty ones, strings, other views (Uint16Array, DataView, shared memory,
 * an offset subarray), sizes at the kernel's edges, a detached and a huge buffer, wrong types.
 * `detachedTags` marks the detached buffer where the API must refuse it.
 */
export function payload(detachedTags: readonly string[] = [], detachedMustReject = false): fc.Arbitrary<Val> {
  const detachedValue = detachedTags.reduce((value, tag) => tagged(tag, value, detachedMustReject), { ...DETACHED, mustReject: detachedMustReject });
  return mix(
    [6, fc.integer({ min: 0, max: 64 }).map((length) => dyn(`bytes(${length})`, () => pattern(length)))],
    [2, oneOf([lit('hello'), lit(''), lit('\u{1F600}'.repeat(60)), lit('x'.repeat(300))])],
    [
      3,
      oneOf([
        dyn('new Uint16Array(3)', () => new Uint16Array([1, 2, 3])),
        dyn('new DataView(new ArrayBuffer(5))', () => new DataView(new ArrayBuffer(5))),
        dyn('new Uint8Array(new SharedArrayBuffer(16))', () => new Uint8Array(new SharedArrayBuffer(16))),
        dyn('bytes(64).subarray(60)', () => pattern(64).subarray(60)),
        dyn('Buffer.from("buffer")', () => Buffer.from('buffer')),
        dyn('bytes(4097)', () => pattern(4097)),
        dyn('bytes(8193)', () => pattern(8193)),
        dyn('bytes(65537)', () => pattern(65537)),
        detachedValue,
        HUGE,
      ]),
    ],
    [1, oneOf([...WRONG_TYPES, lit(undefined), lit(42), dyn('new ArrayBuffer(4)', () => new ArrayBuffer(4))])],
  );
}

/** A buffer to read into: usual, empty, detached, huge, wrong types. */
export const readBuffer: fc.Arbitrary<Val> = mix(
  [5, fc.integer({ min: 1, max: 70000 }).map((length) => dyn(`new Uint8Array(${length})`, () => new Uint8Array(length)))],
  [2, oneOf([dyn('new Uint8Array(0)', () => new Uint8Array(0)), DETACHED, HUGE, dyn('new Uint16Array(4)', () => new Uint16Array(4))])],
  [1, oneOf([...WRONG_TYPES, lit(undefined), lit('buffer')])],
);

// ---------------------------------------------------------------------------------------------
// Option bags.

/**
 * An options bag: a record whose fields (each present or not) come from `fields`, or a value
 * that is not an options bag at all. `allowUndefined` false for calls that would otherwise wait
 * forever with no way to end them (a factory's wait has no object to close).
 */
export function options(fields: Record<string, fc.Arbitrary<Val>>, allowUndefined = true): fc.Arbitrary<Val> {
  const keys = Object.keys(fields);
  const record = fc.record(fields, { requiredKeys: [] }).map((chosen): Val => {
    const entries = keys.filter((key) => key in chosen).map((key) => [key, chosen[key]!] as const);
    return {
      label: entries.length === 0 ? '{}' : `{ ${entries.map(([key, value]) => `${key}: ${value.label}`).join(', ')} }`,
      tags: entries.flatMap(([, value]) => value.tags),
      mustReject: entries.some(([, value]) => value.mustReject),
      make: async (world) => {
        const bag: Record<string, unknown> = {};
        for (const [key, value] of entries) bag[key] = await value.make(world);
        return bag;
      },
    };
  });
  const others = allowUndefined ? [...WRONG_TYPES, lit(undefined)] : WRONG_TYPES;
  return mix([8, record], [1, oneOf(others)]);
}

/** `signal`: the call's own (aborted at its deadline), one already aborted, or not a signal. */
export const signal: fc.Arbitrary<Val> = mix(
  [4, oneOf([dyn('callSignal', (world) => world.callSignal())])],
  [2, oneOf([dyn('AbortSignal.abort()', (world) => world.abortedSignal())])],
  [1, oneOf([lit(null), dyn('{}', () => ({})), lit('signal'), dyn('{ aborted: true }', () => ({ aborted: true }))])],
);

/** `timeout`: short ones, zero, odd numbers, and long ones (tagged: Node's timers cannot hold them). */
export function timeoutValue(): fc.Arbitrary<Val> {
  const long = [2 ** 31, 2 ** 32 + 1, 2 ** 53, Number.MAX_VALUE].map((value) => tagged(KnownIssue.timeoutOverflow, lit(value)));
  const odd = ODD_NUMBERS.filter((value) => !['2**31', '2**32', '2**32 + 1', '2**53', 'Number.MAX_VALUE'].includes(value.label));
  return mix([5, smallInt(0, 15)], [3, oneOf([...odd, ...long, lit(1.5), lit(-0.5), lit(2 ** 31 - 1)])], [1, oneOf(WRONG_TYPES)]);
}

/** The fields of {@link NowaitOptions}. Built after {@link excludeTags}. */
export function waitFields(): { nowait: fc.Arbitrary<Val>; timeout: fc.Arbitrary<Val>; signal: fc.Arbitrary<Val> } {
  return { nowait: flag, timeout: timeoutValue(), signal };
}

/** An array of `item`s, possibly empty, long, or sparse. */
export function arrayOf(item: fc.Arbitrary<Val>, maxLength: number, sparseTags: readonly string[] = [], sparseMustReject = false): fc.Arbitrary<Val> {
  const dense = fc.array(item, { maxLength }).map((items): Val => ({
    label: `[${items.map((value) => value.label).join(', ')}]`,
    tags: items.flatMap((value) => value.tags),
    mustReject: items.some((value) => value.mustReject),
    make: async (world) => {
      const built: unknown[] = [];
      for (const value of items) built.push(await value.make(world));
      return built;
    },
  }));
  const sparse = fc.tuple(fc.integer({ min: 1, max: 3 }), item).map(([holes, value]): Val => ({
    label: `[${','.repeat(holes)} ${value.label}]`,
    tags: [...value.tags, ...sparseTags],
    mustReject: sparseMustReject,
    make: async (world) => {
      const items: unknown[] = [];
      items[holes] = await value.make(world);
      return items;
    },
  }));
  const kept = sparseTags.some((tag) => excluded.has(tag)) ? [] : [{ weight: 1, arbitrary: sparse }];
  return fc.oneof({ weight: 6, arbitrary: dense }, ...kept, { weight: 1, arbitrary: oneOf(WRONG_TYPES) });
}
