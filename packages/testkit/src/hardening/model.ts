/**
 * The fuzzer's model: every factory of an {@link IpcBackend} and every kind of object it makes,
 * each with a generator of arguments for every member of its core interface.
 *
 * The tables are typed by the interfaces themselves (`Members<MessageQueue>` must name every
 * member of `MessageQueue`), so a member added to core does not compile until the fuzzer covers
 * it. Build the model with {@link buildModel} after {@link excludeTags} (the generators of excluded
 * known issues are left out when they are built).
 */
import fc from 'fast-check';
import {
  Primitive,
  type ChildProcess,
  type DatagramSocket,
  type Diagnostics,
  type DuplexPipe,
  type FifoReader,
  type FifoWriter,
  type Fifos,
  type FileLocks,
  type FileMapping,
  type HeldFileLock,
  type LockFile,
  type IpcBackend,
  type MessageQueue,
  type MessageQueues,
  type MessageSocket,
  type NetworkSockets,
  type PipeReader,
  type PipeWriter,
  type Pipes,
  type PosixMessageQueue,
  type PosixMessageQueues,
  type PosixSegment,
  type PosixSemaphore,
  type PosixSemaphores,
  type PrimitiveName,
  type Processes,
  type SemaphoreSet,
  type Semaphores,
  type SharedMemory,
  type SocketServer,
  type StreamSocket,
  type SysvSegment,
  type UnixSockets,
  transferSymbol as transferKey,
} from '@ipcx/core';
import {
  BAD_IDS,
  KnownIssue,
  ODD_NUMBERS,
  ODD_STRINGS,
  WRONG_TYPES,
  arrayOf,
  dyn,
  flag,
  intIn,
  lit,
  mix,
  mode,
  oneOf,
  options,
  path,
  payload,
  posixName,
  readBuffer,
  signal,
  sysvKey,
  tagged,
  timeoutValue,
  waitFields,
  type Val,
  type World,
} from './values.js';

/** How to call one member. */
export interface Member {
  /** Argument lists (an empty list for a property, which is read). */
  readonly args: fc.Arbitrary<readonly Val[]>;
  /** It can wait: the call's AbortSignal is put into its last argument when that is an options object without one. */
  readonly waits?: boolean;
  /** It may stay pending for as long as it likes (a child's `exited`): not a hang. */
  readonly open?: boolean;
}

/** A generator for every member of `T`, symbols included. */
export type Members<T> = { readonly [K in keyof T]-?: Member };

/** An operation that waits on a fresh object until something (here: closing it) ends it. */
export interface Pending<T> {
  readonly label: string;
  start(target: T): Promise<unknown>;
}

/** One kind of target: a factory (the backend's member) or an object it makes. */
export interface Kind<T = unknown> {
  readonly title: string;
  /** The primitive needed to make the target (factories need none: they answer ENOSYS). */
  readonly primitive?: PrimitiveName;
  /** How many ways {@link make} has (read-only mappings, peers closed, ...). */
  readonly variants: number;
  /** A fresh target; its companions are given to `world.track`, and so is the target if closable. */
  make(world: World, variant: number): Promise<T>;
  readonly members: Members<T>;
  /** Targets with `close()`: the scenario may close them, and use them after. */
  readonly closable: boolean;
  readonly pending: readonly Pending<T>[];
}

const none: fc.Arbitrary<readonly Val[]> = fc.constant([]);
const prop: Member = { args: none };
/** Members called with no arguments, or with a stray one (which they must ignore or refuse). */
const noArgs: Member = { args: fc.oneof({ weight: 4, arbitrary: none }, { weight: 1, arbitrary: fc.tuple(oneOf([lit(1), lit(null), lit('x')])) }) };
const args = (...list: fc.Arbitrary<Val>[]): fc.Arbitrary<readonly Val[]> => fc.tuple(...list);
const kind = <T>(spec: Kind<T>): Kind => spec as unknown as Kind;

// ---------------------------------------------------------------------------------------------
// Shared argument pieces.

/** A System V id: of an object made for the call, or invalid. `make` makes the object. */
function ownId(label: string, make: (world: World) => Promise<number>): fc.Arbitrary<Val> {
  return mix([3, oneOf([dyn(label, make)])], [2, oneOf(BAD_IDS)]);
}

const ownSemId = ownId('idOf(semaphores.open("private", { size: 2 }))', async (world) => {
  const set = await world.backend.semaphores.open('private', { size: 2 });
  world.track(set, () => set.remove());
  return set.id;
});

const ownMsgId = ownId('idOf(messageQueues.open(IPC_PRIVATE, { create: true }))', async (world) => {
  const queue = await world.backend.messageQueues.open(0, { create: true });
  world.track(queue, () => queue.remove());
  return queue.id;
});

const ownShmId = ownId('idOf(sharedMemory.openSysv("private", { size: 64 }))', async (world) => {
  const segment = await world.backend.sharedMemory.openSysv('private', { size: 64 });
  world.track(segment, () => segment.remove());
  return segment.id;
});

/** A segment to place an unnamed semaphore in: fresh, read-only, closed, foreign, or not one. */
const segmentArg: fc.Arbitrary<Val> = mix(
  [
    5,
    oneOf([
      dyn('sharedMemory.openSysv("private", { size: 64 })', async (world) => {
        const segment = await world.backend.sharedMemory.openSysv('private', { size: 64 });
        world.track(segment, () => segment.remove());
        return segment;
      }),
      dyn('sharedMemory.openSysv("private", { size: 16 })', async (world) => {
        const segment = await world.backend.sharedMemory.openSysv('private', { size: 16 });
        world.track(segment, () => segment.remove());
        return segment;
      }),
    ]),
  ],
  [
    2,
    oneOf([
      dyn('readOnlySegment(64)', async (world) => {
        const segment = await world.backend.sharedMemory.openSysv('private', { size: 64 });
        world.track(segment, () => segment.remove());
        const readOnly = await world.backend.sharedMemory.attachSysv(segment.id, { readOnly: true });
        world.track(readOnly);
        return readOnly;
      }),
      dyn('closedSegment(64)', async (world) => {
        const segment = await world.backend.sharedMemory.openSysv('private', { size: 64 });
        await segment.remove();
        await segment.close();
        return segment;
      }),
      dyn('{ kind: "sysv", size: 64 }', () => ({ kind: 'sysv', size: 64, buffer: new ArrayBuffer(64) })),
    ]),
  ],
  [1, oneOf([...WRONG_TYPES, lit(undefined)])],
);

/** Objects to transfer over a Unix socket: pipe ends (open or closed), non-transferable ones, too many. */
const transferItem: fc.Arbitrary<Val> = oneOf([
  dyn('pipeReader', async (world) => {
    const [reader, writer] = await world.backend.pipes.create();
    world.track(reader);
    world.track(writer);
    return reader;
  }),
  dyn('closedPipeReader', async (world) => {
    const [reader, writer] = await world.backend.pipes.create();
    await reader.close();
    await writer.close();
    return reader;
  }),
  dyn('{}', () => ({})),
  lit(5),
  lit(null),
]);

const transferList: fc.Arbitrary<Val> = mix(
  [4, arrayOf(transferItem, 3)],
  [
    1,
    oneOf([
      dyn('Array(253).fill(pipeReader)', async (world) => {
        const [reader, writer] = await world.backend.pipes.create();
        world.track(reader);
        world.track(writer);
        return new Array(253).fill(reader);
      }),
      dyn('Array(254).fill(pipeReader)', async (world) => {
        const [reader, writer] = await world.backend.pipes.create();
        world.track(reader);
        world.track(writer);
        return new Array(254).fill(reader);
      }),
    ]),
  ],
);

const unixAddress: fc.Arbitrary<Val> = mix(
  [4, fc.integer({ min: 0, max: 3 }).map((i) => dyn(`tempPath(${i})`, (world) => `${world.dir}/p${i}`))],
  [3, fc.integer({ min: 0, max: 1 }).map((i) => dyn(`{ abstract: abstractNames[${i}] }`, (world) => ({ abstract: world.abstractNames[i] })))],
  [2, oneOf([dyn('listeningPath', (world) => world.listeningPath()), dyn('regularFile', (world) => world.regularFile)])],
  [
    3,
    oneOf([
      ...ODD_STRINGS,
      dyn('{ abstract: "" }', () => ({ abstract: '' })),
      dyn('{ abstract: "x".repeat(200) }', () => ({ abstract: 'x'.repeat(200) })),
      dyn('{ abstract: "a\\0b" }', () => ({ abstract: 'a\0b' })),
      dyn('{ abstract: 5 }', () => ({ abstract: 5 })),
      lit('x'.repeat(107)),
      lit('x'.repeat(108)),
    ]),
  ],
  [1, oneOf([...WRONG_TYPES, lit(undefined)])],
);

const networkAddress: fc.Arbitrary<Val> = mix(
  [
    6,
    fc
      .record({
        host: oneOf([lit('127.0.0.1'), lit('::1'), lit('localhost'), lit(''), lit('0.0.0.0'), lit('x'.repeat(300)), lit('a\0b'), lit(5), lit(undefined)]),
        port: mix([3, oneOf([dyn('listeningPort', (world) => world.listeningPort()), lit(0), lit(1)])], [2, oneOf([lit(65535), lit(65536), ...ODD_NUMBERS])], [1, oneOf(WRONG_TYPES)]),
      })
      .map(({ host, port }): Val => ({
        label: `{ host: ${host.label}, port: ${port.label} }`,
        tags: [],
        mustReject: false,
        make: async (world) => ({ host: await host.make(world), port: await port.make(world) }),
      })),
  ],
  [1, oneOf([...WRONG_TYPES, lit(undefined)])],
);

const socketType = oneOf([lit('stream'), lit('seqpacket'), lit('datagram'), lit('raw'), lit(1), lit(null), lit(undefined)]);

/** A receive's `maxBytes` (sockets: 1 to 2^30). */
const socketMaxBytes = intIn(1, 70000, [lit(2 ** 30), lit(2 ** 30 + 1), tagged(KnownIssue.receiveHuge, lit(2 ** 31 - 1))]);

/** Segment sizes: small, page and 2^31/2^32 edges; above 2^32 is a known issue. */
function segmentSize(): fc.Arbitrary<Val> {
  const huge = [2 ** 32 + 1, 2 ** 40, 2 ** 53 - 1].map((value) => tagged(KnownIssue.shmHuge, lit(value)));
  const odd = ODD_NUMBERS.filter((value) => !['2**32 + 1'].includes(value.label));
  return mix(
    [5, fc.integer({ min: 0, max: 8192 }).map((value) => lit(value))],
    [2, oneOf([lit(4096), lit(2 ** 31), lit(2 ** 32), lit(2 ** 31 - 1), ...huge])],
    [2, oneOf(odd)],
    [1, oneOf(WRONG_TYPES)],
  );
}

// ---------------------------------------------------------------------------------------------
// Byte streams (pipes, FIFOs, stream sockets) share their members.

function readerMembers(maxBytes: fc.Arbitrary<Val>) {
  return {
    read: { args: args(options({ maxBytes, ...waitFields() })), waits: true },
    readInto: { args: args(readBuffer, options(waitFields())), waits: true },
    readableStream: noArgs,
    [Symbol.asyncIterator]: noArgs,
    iterator: { args: args(options({ close: flag })) },
  };
}

function writerMembers() {
  return {
    write: { args: args(payload([KnownIssue.sendDetached]), options(waitFields())), waits: true },
    writableStream: noArgs,
  };
}

const lifetimeMembers = { closed: prop, close: noArgs, [Symbol.asyncDispose]: noArgs };
const capacityMembers = { capacity: noArgs, setCapacity: { args: args(intIn(0, 1 << 20, [lit(1 << 30)])) } };
const pipeMaxBytes = intIn(0, 70000, [lit(2 ** 30), lit(2 ** 31 - 1)]);

const readPending = <T extends { read(): Promise<unknown> }>(): Pending<T> => ({ label: 'read()', start: (target) => target.read() });
const writeFullPending = <T extends { write(data: Uint8Array): Promise<unknown> }>(): Pending<T> => ({
  label: 'write(new Uint8Array(1 << 22))',
  start: (target) => target.write(new Uint8Array(1 << 22)),
});

/** Closes `object` at once (a peer that is gone). */
async function closed<T extends { close(): Promise<void> }>(object: T): Promise<T> {
  await object.close();
  return object;
}

// ---------------------------------------------------------------------------------------------
// The factories.

function factoryKinds(): Kind[] {
  const pipes = kind<Pipes>({
    title: 'pipes',
    variants: 1,
    make: async (world) => world.backend.pipes,
    closable: false,
    pending: [],
    members: {
      create: { args: args(options({ capacity: intIn(0, 1 << 20, [lit(1 << 30)]) })) },
      createDuplex: noArgs,
    },
  });
  const fifos = kind<Fifos>({
    title: 'fifos',
    variants: 1,
    make: async (world) => world.backend.fifos,
    closable: false,
    pending: [],
    members: {
      create: { args: args(path(), options({ mode })) },
      openReader: { args: args(mix([3, path()], [1, oneOf([dyn('fifoPath', (world) => world.fifoPath())])]), options(waitFields(), false)), waits: true },
      openWriter: { args: args(mix([3, path()], [1, oneOf([dyn('fifoPath', (world) => world.fifoPath())])]), options(waitFields(), false)), waits: true },
      remove: { args: args(path()) },
    },
  });
  const messageQueues = kind<MessageQueues>({
    title: 'messageQueues',
    variants: 1,
    make: async (world) => world.backend.messageQueues,
    closable: false,
    pending: [],
    members: {
      ftok: { args: args(path(), intIn(1, 255, [lit(0), lit(256)])) },
      open: { args: args(sysvKey, options({ create: flag, exclusive: flag, mode })) },
      openById: { args: args(ownMsgId) },
      removeById: { args: args(ownMsgId) },
    },
  });
  const posixMessageQueues = kind<PosixMessageQueues>({
    title: 'posixMessageQueues',
    variants: 1,
    make: async (world) => world.backend.posixMessageQueues,
    closable: false,
    pending: [],
    members: {
      open: {
        args: args(
          posixName,
          options({
            access: oneOf([lit('read'), lit('write'), lit('readwrite'), lit('rw'), lit(5), lit(null)]),
            create: flag,
            exclusive: flag,
            mode,
            maxMessages: intIn(0, 12, [lit(65536), lit(65537)]),
            messageSize: intIn(0, 9000, [lit(2 ** 31 - 1), lit(1 << 20)]),
          }),
        ),
      },
      unlink: { args: args(posixName) },
    },
  });
  const semaphores = kind<Semaphores>({
    title: 'semaphores',
    variants: 1,
    make: async (world) => world.backend.semaphores,
    closable: false,
    pending: [],
    members: {
      open: { args: args(sysvKey, options({ size: intIn(1, 4, [lit(0), lit(32000), lit(32001)]), create: flag, exclusive: flag, mode })) },
      openById: { args: args(ownSemId) },
      removeById: { args: args(ownSemId) },
    },
  });
  const posixSemaphores = kind<PosixSemaphores>({
    title: 'posixSemaphores',
    variants: 1,
    make: async (world) => world.backend.posixSemaphores,
    closable: false,
    pending: [],
    members: {
      open: { args: args(posixName, options({ create: flag, exclusive: flag, mode, initial: intIn(0, 3, [lit(2 ** 31 - 1), lit(2 ** 31)]) })) },
      unlink: { args: args(posixName) },
      init: { args: args(segmentArg, intIn(0, 40, [lit(4), lit(33)]), intIn(0, 3, [lit(2 ** 31 - 1)])) },
      attach: { args: args(segmentArg, intIn(0, 40, [lit(4)])) },
    },
  });
  const size = segmentSize();
  const sharedMemory = kind<SharedMemory>({
    title: 'sharedMemory',
    variants: 1,
    make: async (world) => world.backend.sharedMemory,
    closable: false,
    pending: [],
    members: {
      openSysv: { args: args(sysvKey, options({ size, create: flag, exclusive: flag, mode, readOnly: flag })) },
      attachSysv: { args: args(ownShmId, options({ readOnly: flag })) },
      statSysv: { args: args(ownShmId) },
      removeSysv: { args: args(ownShmId) },
      openPosix: { args: args(posixName, options({ size, create: flag, exclusive: flag, mode, readOnly: flag })) },
      unlinkPosix: { args: args(posixName) },
      mapFile: { args: args(path(), options({ size, create: flag, mode, readOnly: flag })) },
    },
  });
  const unixSockets = kind<UnixSockets>({
    title: 'unixSockets',
    variants: 1,
    make: async (world) => world.backend.unixSockets,
    closable: false,
    pending: [],
    members: {
      listen: { args: args(unixAddress, options({ type: socketType, backlog: intIn(0, 200, [lit(65536)]), replaceStale: flag })) },
      connect: { args: args(unixAddress, options({ type: socketType, ...waitFields() }, false)), waits: true },
      bind: { args: args(mix([3, unixAddress], [1, oneOf([lit(undefined)])]), options({ autobind: flag })) },
      pair: { args: args(socketType) },
    },
  });
  const networkSockets = kind<NetworkSockets>({
    title: 'networkSockets',
    variants: 1,
    make: async (world) => world.backend.networkSockets,
    closable: false,
    pending: [],
    members: {
      listen: { args: args(networkAddress, options({ backlog: intIn(0, 200, [lit(65536)]) })) },
      connect: { args: args(networkAddress, options(waitFields(), false)), waits: true },
      bind: { args: args(networkAddress) },
    },
  });
  const entry: fc.Arbitrary<Val> = mix(
    [3, oneOf([dyn('childEntry', (world) => world.childEntry), dyn('new URL(childEntry)', (world) => new URL(world.childEntry))])],
    [
      2,
      oneOf([
        lit('child.js'),
        dyn('tempPath(0)', (world) => `${world.dir}/p0`),
        dyn('regularFile', (world) => world.regularFile),
        dyn('tempDir', (world) => world.tempDir),
        lit('file:///nonexistent/x.js'),
        lit('file://'),
        lit('http://localhost/x.js'),
        ...ODD_STRINGS,
      ]),
    ],
    [1, oneOf([...WRONG_TYPES, lit(undefined)])],
  );
  const childArgs: fc.Arbitrary<Val> = mix(
    [4, oneOf([dyn('[0]', () => [0]), dyn('[20]', () => [20])])],
    [
      3,
      oneOf([
        dyn('[0, () => {}]', () => [0, () => {}]),
        dyn('[0, Symbol()]', () => [0, Symbol('x')]),
        dyn('[0, 1n]', () => [0, 1n]),
        dyn('[0, new Proxy({}, {})]', () => [0, new Proxy({}, {})]),
        dyn('[0, pipeReader]', async (world) => {
          const [reader, writer] = await world.backend.pipes.create();
          world.track(reader);
          world.track(writer);
          return [0, reader];
        }),
        dyn('[0, closedPipeReader]', async (world) => {
          const [reader, writer] = await world.backend.pipes.create();
          await reader.close();
          await writer.close();
          return [0, reader];
        }),
        dyn('[0, circular]', () => {
          const circular: Record<string, unknown> = {};
          circular.self = circular;
          return [0, circular];
        }),
      ]),
    ],
    [1, oneOf([...WRONG_TYPES, lit(undefined)])],
  );
  const user = mix(
    [2, oneOf([dyn('{ uid: 65534, gid: 65534 }', () => ({ uid: 65534, gid: 65534 }))])],
    [2, oneOf([dyn('{ uid: -1, gid: 0 }', () => ({ uid: -1, gid: 0 })), dyn('{ uid: 2 ** 32, gid: 0 }', () => ({ uid: 2 ** 32, gid: 0 })), dyn('{ uid: NaN }', () => ({ uid: NaN })), dyn('{}', () => ({}))])],
    [1, oneOf([...WRONG_TYPES, lit(undefined)])],
  );
  const env = mix(
    [2, oneOf([dyn('{ FUZZ: "1" }', () => ({ FUZZ: '1' })), dyn('{}', () => ({}))])],
    [1, oneOf([dyn('{ FUZZ: 5 }', () => ({ FUZZ: 5 })), dyn('{ FUZZ: Symbol() }', () => ({ FUZZ: Symbol('x') })), dyn('{ "A=B": "1" }', () => ({ 'A=B': '1' })), dyn('{ FUZZ: "a\\0b" }', () => ({ FUZZ: 'a\0b' }))])],
    [1, oneOf(WRONG_TYPES)],
  );
  const processes = kind<Processes>({
    title: 'processes',
    variants: 1,
    make: async (world) => world.backend.processes,
    closable: false,
    pending: [],
    members: {
      spawn: { args: args(entry, options({ args: childArgs, env, user })) },
    },
  });
  const fileLocks = kind<FileLocks>({
    title: 'fileLocks',
    variants: 1,
    make: async (world) => world.backend.fileLocks,
    closable: false,
    pending: [],
    members: {
      open: { args: args(path(), options({ create: flag, mode })) },
      remove: { args: args(path()) },
    },
  });
  const diagnostics = kind<Diagnostics>({
    title: 'diagnostics',
    variants: 1,
    make: async (world) => world.backend.diagnostics,
    closable: false,
    pending: [],
    members: { openObjects: noArgs, kernelObjects: noArgs },
  });
  const backend = kind<IpcBackend>({
    title: 'backend',
    variants: 1,
    make: async (world) => world.backend,
    closable: false,
    pending: [],
    members: {
      name: prop,
      capabilities: prop,
      pipes: prop,
      fifos: prop,
      messageQueues: prop,
      posixMessageQueues: prop,
      semaphores: prop,
      posixSemaphores: prop,
      sharedMemory: prop,
      unixSockets: prop,
      networkSockets: prop,
      processes: prop,
      fileLocks: prop,
      diagnostics: prop,
    },
  });
  return [pipes, fifos, messageQueues, posixMessageQueues, semaphores, posixSemaphores, sharedMemory, unixSockets, networkSockets, processes, fileLocks, diagnostics, backend];
}

// ---------------------------------------------------------------------------------------------
// The objects.

function objectKinds(): Kind[] {
  const pipeReader = kind<PipeReader>({
    title: 'pipeReader',
    primitive: Primitive.pipe,
    variants: 2,
    make: async (world, variant) => {
      const [reader, writer] = await world.backend.pipes.create();
      world.track(reader);
      world.track(writer);
      if (variant === 0) await writer.write('some bytes');
      else await writer.close();
      return reader;
    },
    closable: true,
    pending: [readPending()],
    members: { ...lifetimeMembers, ...capacityMembers, ...readerMembers(pipeMaxBytes) },
  });
  const pipeWriter = kind<PipeWriter>({
    title: 'pipeWriter',
    primitive: Primitive.pipe,
    variants: 2,
    make: async (world, variant) => {
      const [reader, writer] = await world.backend.pipes.create();
      world.track(reader);
      world.track(writer);
      if (variant === 1) await reader.close();
      return writer;
    },
    closable: true,
    pending: [writeFullPending()],
    members: { ...lifetimeMembers, ...capacityMembers, ...writerMembers() },
  });
  const duplexPipe = kind<DuplexPipe>({
    title: 'duplexPipe',
    primitive: Primitive.duplexPipe,
    variants: 2,
    make: async (world, variant) => {
      const [end, peer] = await world.backend.pipes.createDuplex();
      world.track(end);
      world.track(peer);
      if (variant === 1) await peer.close();
      else await peer.write('some bytes');
      return end;
    },
    closable: true,
    pending: [readPending(), writeFullPending()],
    members: { ...lifetimeMembers, ...readerMembers(pipeMaxBytes), ...writerMembers(), end: noArgs },
  });
  const fifoReader = kind<FifoReader>({
    title: 'fifoReader',
    primitive: Primitive.fifo,
    variants: 2,
    make: async (world, variant) => {
      const fifo = await world.fifoPath();
      const reader = await world.backend.fifos.openReader(fifo, { nowait: true });
      world.track(reader);
      if (variant === 0) {
        const writer = await world.backend.fifos.openWriter(fifo, { nowait: true });
        world.track(writer);
        await writer.write('some bytes');
      }
      return reader;
    },
    closable: true,
    pending: [readPending()],
    members: { ...lifetimeMembers, ...readerMembers(pipeMaxBytes), path: prop },
  });
  const fifoWriter = kind<FifoWriter>({
    title: 'fifoWriter',
    primitive: Primitive.fifo,
    variants: 2,
    make: async (world, variant) => {
      const fifo = await world.fifoPath();
      const reader = await world.backend.fifos.openReader(fifo, { nowait: true });
      world.track(reader);
      const writer = await world.backend.fifos.openWriter(fifo, { nowait: true });
      world.track(writer);
      if (variant === 1) await reader.close();
      return writer;
    },
    closable: true,
    pending: [writeFullPending()],
    members: { ...lifetimeMembers, ...writerMembers(), path: prop },
  });

  const socketSend = (type: 'stream' | 'datagram' | 'seqpacket') => ({
    args: args(
      payload([KnownIssue.sendDetached]),
      options(type === 'datagram' ? { ...waitFields(), transfer: transferList, to: unixAddress } : { ...waitFields(), transfer: transferList }),
    ),
    waits: true,
  });
  const socketReceive = { args: args(options({ maxBytes: socketMaxBytes, ...waitFields() })), waits: true };
  const addressMembers = { localAddress: prop, remoteAddress: prop };
  const receivePending = <T extends { receive(): Promise<unknown> }>(): Pending<T> => ({ label: 'receive()', start: (target) => target.receive() });

  const unixStreamSocket = kind<StreamSocket>({
    title: 'unixStreamSocket',
    primitive: Primitive.unixSocket,
    variants: 3,
    make: async (world, variant) => {
      if (variant === 2) {
        const socket = await world.backend.unixSockets.connect(await world.listeningPath(), { timeout: 5000 });
        world.track(socket);
        return socket;
      }
      const [end, peer] = await world.backend.unixSockets.pair('stream');
      world.track(end);
      world.track(peer);
      if (variant === 1) await peer.close();
      else await peer.write('some bytes');
      return end;
    },
    closable: true,
    pending: [readPending(), receivePending(), writeFullPending()],
    members: {
      ...lifetimeMembers,
      ...readerMembers(socketMaxBytes),
      ...writerMembers(),
      ...addressMembers,
      end: noArgs,
      send: socketSend('stream'),
      receive: socketReceive,
      peerCredentials: noArgs,
    },
  });
  const unixSeqpacketSocket = kind<MessageSocket>({
    title: 'unixSeqpacketSocket',
    primitive: Primitive.unixSocket,
    variants: 2,
    make: async (world, variant) => {
      const [end, peer] = await world.backend.unixSockets.pair('seqpacket');
      world.track(end);
      world.track(peer);
      if (variant === 1) await peer.close();
      else await peer.send('a message');
      return end;
    },
    closable: true,
    pending: [receivePending()],
    members: { ...lifetimeMembers, ...addressMembers, end: noArgs, send: socketSend('seqpacket'), receive: socketReceive, peerCredentials: noArgs },
  });
  const unixDatagramSocket = kind<DatagramSocket>({
    title: 'unixDatagramSocket',
    primitive: Primitive.unixSocket,
    variants: 3,
    make: async (world, variant) => {
      if (variant === 0) {
        const [end, peer] = await world.backend.unixSockets.pair('datagram');
        world.track(end);
        world.track(peer);
        await peer.send('a datagram');
        return end;
      }
      const socket = variant === 1 ? await world.backend.unixSockets.bind(`${world.dir}/dgram`) : await world.backend.unixSockets.bind(undefined, { autobind: true });
      world.track(socket);
      return socket;
    },
    closable: true,
    pending: [receivePending()],
    members: { ...lifetimeMembers, ...addressMembers, send: socketSend('datagram'), receive: socketReceive },
  });
  const unixServer = kind<SocketServer<StreamSocket>>({
    title: 'unixServer',
    primitive: Primitive.unixSocket,
    variants: 3,
    make: async (world, variant) => {
      const address = variant === 2 ? { abstract: world.abstractNames[1]! } : `${world.dir}/server`;
      const server = await world.backend.unixSockets.listen(address, { type: variant === 1 ? 'seqpacket' : 'stream' } as { type: 'stream' });
      world.track(server);
      return server;
    },
    closable: true,
    pending: [{ label: 'accept()', start: (target) => target.accept() }],
    members: { ...lifetimeMembers, address: prop, accept: { args: args(options(waitFields())), waits: true }, [Symbol.asyncIterator]: noArgs },
  });
  const networkStreamSocket = kind<StreamSocket>({
    title: 'networkStreamSocket',
    primitive: Primitive.networkSocket,
    variants: 2,
    make: async (world, variant) => {
      const server = await world.backend.networkSockets.listen({ host: '127.0.0.1', port: 0 });
      world.track(server);
      const socket = await world.backend.networkSockets.connect(server.address as { host: string; port: number }, { timeout: 5000 });
      world.track(socket);
      const peer = await server.accept({ timeout: 5000 });
      world.track(peer);
      if (variant === 1) await peer.close();
      else await peer.write('some bytes');
      return socket;
    },
    closable: true,
    pending: [readPending(), receivePending()],
    members: {
      ...lifetimeMembers,
      ...readerMembers(socketMaxBytes),
      ...writerMembers(),
      ...addressMembers,
      end: noArgs,
      send: socketSend('stream'),
      receive: socketReceive,
      peerCredentials: noArgs,
    },
  });
  const networkServer = kind<SocketServer<StreamSocket>>({
    title: 'networkServer',
    primitive: Primitive.networkSocket,
    variants: 1,
    make: async (world) => {
      const server = await world.backend.networkSockets.listen({ host: '127.0.0.1', port: 0 });
      world.track(server);
      return server;
    },
    closable: true,
    pending: [{ label: 'accept()', start: (target) => target.accept() }],
    members: { ...lifetimeMembers, address: prop, accept: { args: args(options(waitFields())), waits: true }, [Symbol.asyncIterator]: noArgs },
  });
  const udpSocket = kind<DatagramSocket>({
    title: 'udpSocket',
    primitive: Primitive.networkSocket,
    variants: 1,
    make: async (world) => {
      const socket = await world.backend.networkSockets.bind({ host: '127.0.0.1', port: 0 });
      world.track(socket);
      return socket;
    },
    closable: true,
    pending: [receivePending()],
    members: {
      ...lifetimeMembers,
      ...addressMembers,
      send: { args: args(payload([KnownIssue.sendDetached]), options({ ...waitFields(), transfer: transferList, to: networkAddress })), waits: true },
      receive: socketReceive,
    },
  });

  const messageQueue = kind<MessageQueue>({
    title: 'messageQueue',
    primitive: Primitive.messageQueue,
    variants: 2,
    make: async (world, variant) => {
      const queue = await world.backend.messageQueues.open(variant === 0 ? 0 : world.keys[0]!, { create: true, exclusive: true });
      world.track(queue, () => queue.remove());
      await queue.send(1, 'first', { nowait: true });
      await queue.send(2, new Uint8Array(100), { nowait: true });
      return queue;
    },
    closable: true,
    pending: [
      { label: 'receive({ type: 99 })', start: (target) => target.receive({ type: 99 }) },
      { label: 'send(1, bytes(8192)) until full', start: async (target) => {
        for (;;) await target.send(1, new Uint8Array(8192));
      } },
    ],
    members: {
      ...lifetimeMembers,
      id: prop,
      key: prop,
      send: {
        args: args(intIn(1, 5, [lit(2 ** 53 - 1), lit(2 ** 53)]), payload([KnownIssue.sendDetached], true), options(waitFields())),
        waits: true,
      },
      receive: {
        args: args(
          options({
            type: intIn(-5, 5, [lit(2 ** 53 - 1), lit(-(2 ** 53 - 1))]),
            except: flag,
            noError: flag,
            maxBytes: intIn(0, 9000, [lit(2 ** 30), tagged(KnownIssue.receiveHuge, lit(2 ** 31 - 1))]),
            ...waitFields(),
          }),
        ),
        waits: true,
      },
      stat: noArgs,
      set: { args: args(options({ maxBytes: intIn(0, 20000, [lit(2 ** 31 - 1)]), mode, uid: intIn(0, 1, [lit(65534)]), gid: intIn(0, 1, [lit(65534)]) })) },
      remove: noArgs,
    },
  });
  const posixMessageQueue = kind<PosixMessageQueue>({
    title: 'posixMessageQueue',
    primitive: Primitive.posixMessageQueue,
    variants: 2,
    make: async (world, variant) => {
      const name = world.names[0]!;
      const queue = await world.backend.posixMessageQueues.open(name, { create: true, exclusive: true, access: variant === 0 ? 'readwrite' : 'read' });
      world.track(queue, () => world.backend.posixMessageQueues.unlink(name));
      if (variant === 0) await queue.send('first', { priority: 3, nowait: true });
      return queue;
    },
    closable: true,
    pending: [{ label: 'receive() until empty', start: async (target) => {
      for (;;) await target.receive();
    } }],
    members: {
      ...lifetimeMembers,
      name: prop,
      access: prop,
      send: { args: args(payload([KnownIssue.sendDetached]), options({ priority: intIn(0, 32767, [lit(32768)]), ...waitFields() })), waits: true },
      receive: { args: args(options(waitFields())), waits: true },
      attributes: noArgs,
      notify: { args: args(options({ timeout: timeoutValue(), signal })), waits: true },
      notifications: { args: args(options({ timeout: timeoutValue(), signal })) },
      [transferKey]: noArgs,
    },
  });
  const semIndex = intIn(0, 3);
  const semaphoreSet = kind<SemaphoreSet>({
    title: 'semaphoreSet',
    primitive: Primitive.semaphore,
    variants: 3,
    make: async (world, variant) => {
      const set = await world.backend.semaphores.open(variant === 0 ? 'private' : world.keys[1]!, { size: 3, create: true, exclusive: true });
      world.track(set, () => set.remove());
      set.setValue(0, 1);
      if (variant !== 2) return set;
      // A second handle that claims a smaller size than the set has.
      const small = await world.backend.semaphores.open(world.keys[1]!, { size: 1 });
      world.track(small);
      return small;
    },
    closable: true,
    pending: [
      { label: 'wait(1)', start: (target) => target.wait(1) },
      { label: 'waitForZero(0)', start: (target) => target.waitForZero(0) },
    ],
    members: {
      ...lifetimeMembers,
      id: prop,
      key: prop,
      size: prop,
      operate: {
        args: args(
          arrayOf(
            mix(
              [6, options({ index: semIndex, delta: intIn(-3, 3, [lit(32767), lit(-32767), lit(32768)]), nowait: flag, undo: flag }, false)],
              [1, oneOf([lit(undefined)])],
            ),
            4,
            [KnownIssue.semSparse],
            true,
          ),
          options(waitFields()),
        ),
        waits: true,
      },
      wait: { args: args(semIndex, mix([3, intIn(1, 3, [lit(32767), lit(32768)])], [1, oneOf([lit(undefined)])]), options({ undo: flag, ...waitFields() })), waits: true },
      post: { args: args(semIndex, mix([3, intIn(1, 3, [lit(32767)])], [1, oneOf([lit(undefined)])]), options({ undo: flag })) },
      waitForZero: { args: args(semIndex, options(waitFields())), waits: true },
      value: { args: args(semIndex) },
      setValue: { args: args(semIndex, intIn(0, 5, [lit(32767), lit(32768)])) },
      values: noArgs,
      setValues: { args: args(arrayOf(intIn(0, 5, [lit(32767), lit(32768)]), 4)) },
      waitingForIncrease: { args: args(semIndex) },
      waitingForZero: { args: args(semIndex) },
      lastPid: { args: args(semIndex) },
      stat: noArgs,
      set: { args: args(options({ mode, uid: intIn(0, 1, [lit(65534)]), gid: intIn(0, 1, [lit(65534)]) })) },
      remove: noArgs,
    },
  });
  const posixSemaphore = kind<PosixSemaphore>({
    title: 'posixSemaphore',
    primitive: Primitive.posixSemaphore,
    variants: 2,
    make: async (world, variant) => {
      if (variant === 0) {
        const name = world.names[1]!;
        const semaphore = await world.backend.posixSemaphores.open(name, { create: true, exclusive: true, initial: 1 });
        world.track(semaphore, () => world.backend.posixSemaphores.unlink(name));
        return semaphore;
      }
      const segment = await world.backend.sharedMemory.openSysv('private', { size: 64 });
      world.track(segment, () => segment.remove());
      const semaphore = await world.backend.posixSemaphores.init(segment, 8, 1);
      world.track(semaphore);
      return semaphore;
    },
    closable: true,
    pending: [{ label: 'wait() until empty', start: async (target) => {
      for (;;) await target.wait();
    } }],
    members: { ...lifetimeMembers, name: prop, wait: { args: args(options(waitFields())), waits: true }, tryWait: noArgs, post: noArgs, value: noArgs },
  });

  const segmentMembers = {
    ...lifetimeMembers,
    kind: prop,
    size: prop,
    readOnly: prop,
    buffer: prop,
    read: { args: args(mix([3, intIn(0, 70, [lit(4096)])], [1, oneOf([lit(undefined)])]), mix([3, intIn(0, 70, [lit(4096)])], [1, oneOf([lit(undefined)])])) },
    write: { args: args(payload(), mix([3, intIn(0, 70, [lit(4096)])], [1, oneOf([lit(undefined)])])) },
    wait: { args: args(intIn(0, 20, [lit(1023), lit(1024)]), intIn(-1, 1, [lit(2 ** 31 - 1), lit(-(2 ** 31))]), options({ timeout: timeoutValue(), signal })), waits: true },
    notify: { args: args(intIn(0, 20, [lit(1023), lit(1024)]), mix([3, intIn(0, 3, [lit(Infinity)])], [1, oneOf([lit(undefined)])])) },
    [transferKey]: noArgs,
  };
  const segmentPending: Pending<{ wait(index: number, value: number): Promise<unknown> }>[] = [{ label: 'wait(0, 0)', start: (target) => target.wait(0, 0) }];
  const sysvSegment = kind<SysvSegment>({
    title: 'sysvSegment',
    primitive: Primitive.sharedMemory,
    variants: 3,
    make: async (world, variant) => {
      const segment = await world.backend.sharedMemory.openSysv(variant === 1 ? world.keys[2]! : 'private', { size: variant === 1 ? 4096 : 64, create: true, exclusive: true });
      world.track(segment, () => segment.remove());
      if (variant !== 2) return segment;
      const readOnly = await world.backend.sharedMemory.attachSysv(segment.id, { readOnly: true });
      world.track(readOnly);
      return readOnly;
    },
    closable: true,
    pending: segmentPending,
    members: { ...segmentMembers, id: prop, stat: noArgs, remove: noArgs },
  });
  const posixSegment = kind<PosixSegment>({
    title: 'posixSegment',
    primitive: Primitive.sharedMemory,
    variants: 2,
    make: async (world, variant) => {
      const name = world.names[2]!;
      const segment = await world.backend.sharedMemory.openPosix(name, { create: true, exclusive: true, size: 4096 });
      world.track(segment, () => world.backend.sharedMemory.unlinkPosix(name));
      if (variant === 0) return segment;
      const readOnly = await world.backend.sharedMemory.openPosix(name, { readOnly: true });
      world.track(readOnly);
      return readOnly;
    },
    closable: true,
    pending: segmentPending,
    members: { ...segmentMembers, name: prop, unlink: noArgs },
  });
  const fileMapping = kind<FileMapping>({
    title: 'fileMapping',
    primitive: Primitive.sharedMemory,
    variants: 2,
    make: async (world, variant) => {
      const file = `${world.dir}/mapped`;
      const mapping = await world.backend.sharedMemory.mapFile(file, { create: true, size: 4096 });
      world.track(mapping);
      if (variant === 0) return mapping;
      const readOnly = await world.backend.sharedMemory.mapFile(file, { readOnly: true });
      world.track(readOnly);
      return readOnly;
    },
    closable: true,
    pending: segmentPending,
    members: { ...segmentMembers, path: prop },
  });
  const lockRange = { start: intIn(0, 100, [lit(2 ** 53 - 1)]), length: mix([4, intIn(1, 100, [lit(0)])], [1, oneOf([lit(Infinity)])]) };
  const lockFile = kind<LockFile>({
    title: 'lockFile',
    primitive: Primitive.fileLock,
    variants: 2,
    make: async (world, variant) => {
      const file = await world.backend.fileLocks.open(`${world.dir}/lock`, { create: true });
      world.track(file);
      if (variant === 1) await file.lock({ start: 0, length: 10, nowait: true });
      return file;
    },
    closable: true,
    pending: [],
    members: {
      ...lifetimeMembers,
      path: prop,
      lock: { args: args(options({ ...lockRange, shared: flag, ...waitFields() })), waits: true },
      unlock: { args: args(options(lockRange)) },
      holder: { args: args(options({ ...lockRange, shared: flag })) },
    },
  });
  const heldFileLock = kind<HeldFileLock>({
    title: 'heldFileLock',
    primitive: Primitive.fileLock,
    variants: 2,
    make: async (world, variant) => {
      const file = await world.backend.fileLocks.open(`${world.dir}/lock`, { create: true });
      world.track(file);
      return file.lock({ start: 0, length: variant === 0 ? 10 : Infinity, shared: variant === 1, nowait: true });
    },
    closable: false,
    pending: [],
    members: {
      file: prop,
      shared: prop,
      start: prop,
      length: prop,
      released: prop,
      release: noArgs,
      upgrade: { args: args(options(waitFields())), waits: true },
      downgrade: noArgs,
      [Symbol.asyncDispose]: noArgs,
    },
  });
  const childProcess = kind<ChildProcess>({
    title: 'childProcess',
    variants: 2,
    make: async (world, variant) => {
      const child = await world.backend.processes.spawn(world.childEntry, { args: [variant === 0 ? 0 : 10_000] });
      const dispose = async () => {
        await child[Symbol.asyncDispose]();
      };
      world.track({ closed: false, close: dispose, [Symbol.asyncDispose]: dispose });
      return child;
    },
    closable: false,
    pending: [],
    members: {
      pid: prop,
      exited: { args: none, open: true },
      kill: { args: args(oneOf([lit('SIGTERM'), lit('SIGKILL'), lit('SIGSTOP'), lit('SIGCONT'), lit('SIGBOGUS'), lit(0), lit(9), lit(-1), lit(undefined), lit(null), dyn('{}', () => ({}))])) },
      [Symbol.asyncDispose]: noArgs,
    },
  });
  return [
    pipeReader,
    pipeWriter,
    duplexPipe,
    fifoReader,
    fifoWriter,
    unixStreamSocket,
    unixSeqpacketSocket,
    unixDatagramSocket,
    unixServer,
    networkStreamSocket,
    networkServer,
    udpSocket,
    messageQueue,
    posixMessageQueue,
    semaphoreSet,
    posixSemaphore,
    sysvSegment,
    posixSegment,
    fileMapping,
    lockFile,
    heldFileLock,
    childProcess,
  ];
}

/** Every kind: the backend's factories first, then the objects they make. */
export function buildModel(): Kind[] {
  return [...factoryKinds(), ...objectKinds()];
}

/** One step of a scenario. */
export type Action =
  | { readonly type: 'call'; readonly member: PropertyKey; readonly args: readonly Val[] }
  | { readonly type: 'close' }
  | { readonly type: 'pending'; readonly index: number };

/** What one fast-check run does: a fresh target of one kind, then a few actions on it. */
export interface Scenario {
  readonly kind: Kind;
  readonly variant: number;
  readonly actions: readonly Action[];
}

/** How an action is printed. */
export function showAction(kind: Kind, action: Action): string {
  if (action.type === 'close') return `${kind.title}.close()`;
  if (action.type === 'pending') return `${kind.title}.${kind.pending[action.index]!.label}, then close() while it is pending`;
  const name = typeof action.member === 'symbol' ? `[${action.member.description ?? 'symbol'}]` : String(action.member);
  const member = (kind.members as Record<PropertyKey, Member>)[action.member]!;
  if (member.args === none) return `${kind.title}.${name}`;
  return `${kind.title}.${name}(${action.args.map((value) => value.label).join(', ')})`;
}

/** How a scenario is printed. */
export function showScenario(scenario: Scenario): string {
  const steps = scenario.actions.map((action, i) => `  ${i + 1}. ${showAction(scenario.kind, action)}`);
  return [`a fresh ${scenario.kind.title} (variant ${scenario.variant}), then:`, ...steps].join('\n');
}

/** Scenarios over the given kinds: each picks a kind, a variant and 1 to `maxActions` actions. */
export function scenarios(kinds: readonly Kind[], maxActions: number, weight: (kind: Kind) => number): fc.Arbitrary<Scenario> {
  return fc.oneof(
    ...kinds.map((target) => {
      const keys = Reflect.ownKeys(target.members);
      const calls = fc.oneof(
        ...keys.map((member) => (target.members as Record<PropertyKey, Member>)[member]!.args.map((list): Action => ({ type: 'call', member, args: list }))),
      );
      const actions: Array<{ weight: number; arbitrary: fc.Arbitrary<Action> }> = [{ weight: 10, arbitrary: calls }];
      if (target.closable) actions.push({ weight: 1, arbitrary: fc.constant<Action>({ type: 'close' }) });
      if (target.pending.length > 0) actions.push({ weight: 1, arbitrary: fc.integer({ min: 0, max: target.pending.length - 1 }).map((index): Action => ({ type: 'pending', index })) });
      const arbitrary = fc
        .record({ variant: fc.integer({ min: 0, max: target.variants - 1 }), actions: fc.array(fc.oneof(...actions), { minLength: 1, maxLength: maxActions }) })
        .map(({ variant, actions: list }): Scenario => ({ kind: target, variant, actions: list }));
      return { weight: weight(target), arbitrary };
    }),
  );
}

export type { Val, World };
