/**
 * Connection / Pipe: values and bytes between processes, boundaries kept, any size, EOF as its own
 * code, nothing half-sent when a value cannot be serialized, a torn frame of a killed sender dropped.
 */
import { describe, expect, it } from 'vitest';
import { DataCloneError, Pipe, Queue, RingPipe, spawn, type Connection } from '@ipcx/multiprocessing';
import { Primitive, type IpcBackend, type PrimitiveName } from '@ipcx/core';
import { sleep } from '../util.js';
import { after, codeOf, rejection, rejectionWithin, type MpContext } from './context.js';

/** How a suite run makes its pair of connections: over a socketpair (`Pipe`) or shared-memory rings (`RingPipe`). */
export type PipeMaker = {
  readonly label: string;
  make(backend: IpcBackend): Promise<[Connection, Connection]>;
  /** What the backend must declare (default: duplex pipes); the suite is skipped, visibly, without. */
  readonly needs?: readonly PrimitiveName[];
};

export function connectionSuite(context: MpContext, maker: PipeMaker = { label: 'connection', make: (backend) => Pipe(backend) }): void {
  const { backend } = context;

  async function pipeWithChild(module: string, extra: unknown[] = []): Promise<[Connection, Awaited<ReturnType<typeof spawn>>]> {
    const [mine, theirs] = await maker.make(backend);
    after(() => mine.close());
    const child = await spawn(backend, context.child(module), [theirs, ...extra]);
    after(async () => {
      child.kill('SIGKILL');
      await child.exited;
    });
    // The child holds its own copy now; ours must close so that EOF can reach either side.
    await theirs.close();
    return [mine, child];
  }

  describe.skipIf(!(maker.needs ?? [Primitive.duplexPipe]).every((primitive) => context.has(primitive)))(`multiprocessing ${context.name} ${maker.label}`, () => {
    it(`multiprocessing ${context.name} ${maker.label}: send/recv numbers to a child and back, in order (the seed's pipe example)`, async () => {
      const [conn, child] = await pipeWithChild('echo');
      for (let i = 0; i < 100; i++) await conn.send({ double: i });
      const answers: number[] = [];
      for (let i = 0; i < 100; i++) answers.push(await conn.recv<number>());
      expect(answers).toEqual(Array.from({ length: 100 }, (_, i) => i * 2));
      await conn.send('stop');
      expect(await child.join()).toEqual({ code: 0, signal: null });
      // The child closed its end on the way out: EOF is its own code.
      expect(codeOf(await rejection(conn.recv()))).toBe('EOF');
    });

    it(`multiprocessing ${context.name} ${maker.label}: structured-clone values keep their types, cycles and identity`, async () => {
      const [conn] = await pipeWithChild('echo');
      const cyclic: Record<string, unknown> = { name: 'node' };
      cyclic.self = cyclic;
      const error = new RangeError('out of range');
      const values: unknown[] = [
        42, -0.5, 'text é', null, undefined, true, 2n ** 70n,
        new Map<unknown, unknown>([[1, 'a'], ['b', [2]]]), new Set([1, 'x']), new Date(1_700_000_000_000), /ab+c/gi,
        new Float64Array([1.5, -2]), new Uint8Array([1, 2, 3]), [1, [2, [3]]], { id: 1, name: 'n', values: [1, 2, 3, 4, 5, 6, 7, 8] },
      ];
      for (const value of values) {
        await conn.send(value);
        expect(await conn.recv()).toEqual(value);
      }
      await conn.send(cyclic);
      const back = await conn.recv<Record<string, unknown>>();
      expect(back.self).toBe(back);
      expect(back.name).toBe('node');
      await conn.send(error);
      const backError = await conn.recv<Error>();
      expect(backError).toBeInstanceOf(RangeError);
      expect(backError.message).toBe('out of range');
    });

    it(`multiprocessing ${context.name} ${maker.label}: a value larger than the pipe's buffer streams through whole, boundaries kept`, async () => {
      const [conn] = await pipeWithChild('echo');
      const big = new Uint8Array(3 * 1024 * 1024 + 17).map((_, i) => (i * 31) & 0xff);
      const sent = [conn.send(big), conn.send('after'), conn.send({ small: 1 })];
      const first = await conn.recv<Uint8Array>();
      expect(first.length).toBe(big.length);
      expect(Buffer.compare(Buffer.from(first), Buffer.from(big))).toBe(0);
      expect(await conn.recv()).toBe('after');
      expect(await conn.recv()).toEqual({ small: 1 });
      await Promise.all(sent);
    });

    it(`multiprocessing ${context.name} ${maker.label}: sendBytes/recvBytes keep boundaries, offset and size`, async () => {
      const [conn] = await pipeWithChild('echo');
      await conn.sendBytes(new Uint8Array([9, 1, 2, 3, 9]), 1, 3);
      await conn.sendBytes(new Uint8Array(0));
      await conn.sendBytes(new Uint8Array([4]));
      expect([...(await conn.recvBytes())]).toEqual([1, 2, 3]);
      expect([...(await conn.recvBytes())]).toEqual([]);
      expect([...(await conn.recvBytes())]).toEqual([4]);
      expect(() => conn.sendBytes(new Uint8Array(2), 1, 2)).toThrow(RangeError);
    });

    it(`multiprocessing ${context.name} ${maker.label}: recvBytesInto fills the caller's buffer at an offset; a message too long is BUFFER_TOO_SHORT and carries it`, async () => {
      const [conn] = await pipeWithChild('echo');
      const buffer = new Uint8Array(8).fill(0xee);
      await conn.sendBytes(new Uint8Array([1, 2, 3]));
      expect(await conn.recvBytesInto(buffer, 2)).toBe(3);
      expect([...buffer]).toEqual([0xee, 0xee, 1, 2, 3, 0xee, 0xee, 0xee]);
      const long = new Uint8Array(70_000).map((_, i) => i & 0xff);
      await conn.sendBytes(long);
      const tooShort = await rejection(conn.recvBytesInto(buffer));
      expect(codeOf(tooShort)).toBe('BUFFER_TOO_SHORT');
      expect(Buffer.compare(Buffer.from((tooShort as unknown as { bytes: Uint8Array }).bytes), Buffer.from(long))).toBe(0);
      // The long message was taken whole: the next one comes next.
      await conn.sendBytes(new Uint8Array([4]));
      expect(await conn.recvBytesInto(buffer, 7)).toBe(1);
      expect(buffer[7]).toBe(4);
      await expect(conn.recvBytesInto(buffer, 9)).rejects.toThrow(RangeError);
    });

    it(`multiprocessing ${context.name} ${maker.label}: plain values come back exactly as structured clone gives them (-0, lone surrogates, shared references, named array properties, __proto__ keys)`, async () => {
      const [conn] = await pipeWithChild('echo');
      const shared = { n: 1 };
      const match = 'xaby'.match(/ab/)!;
      const holey: unknown[] = [1, , 3];
      const values: unknown[] = [
        -0, 2 ** 31, -(2 ** 31), 0.1, NaN, -Infinity, '', 'latin é ÿ', 'wide Ā €', '\ud800 lone', 'x'.repeat(70_000),
        { id: 1, name: 'item', values: [1, 2, 3, 4, 5, 6, 7, 8] }, [1, 'a', null, undefined, true, [2.5, [-0]]], { 2: 'b', 1: 'a', z: { y: [] } },
        JSON.parse('{"__proto__": 5, "k": 1}'), Object.assign(Object.create(null), { bare: true }), holey,
      ];
      for (const value of values) {
        await conn.send(value);
        const back = await conn.recv();
        expect(back).toStrictEqual(typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === null ? { ...value } : value);
        if (Object.is(value, -0)) expect(Object.is(back, -0)).toBe(true);
      }
      await conn.send({ a: shared, b: shared });
      const pair = await conn.recv<{ a: object; b: object }>();
      expect(pair.a).toBe(pair.b);
      await conn.send(match);
      const backMatch = await conn.recv<RegExpMatchArray>();
      expect([...backMatch]).toEqual(['ab']);
      expect(backMatch.index).toBe(1);
      expect(backMatch.input).toBe('xaby');
      const backHoley = await (async () => {
        await conn.send(holey);
        return conn.recv<unknown[]>();
      })();
      expect(1 in backHoley).toBe(false);
      await conn.send(JSON.parse('{"__proto__": 5}'));
      const proto = await conn.recv<Record<string, unknown>>();
      expect(Object.getPrototypeOf(proto)).toBe(Object.prototype);
      expect(Object.getOwnPropertyDescriptor(proto, '__proto__')?.value).toBe(5);
    });

    it(`multiprocessing ${context.name} ${maker.label}: values the fast codec must not take as plain still come back as structured clone gives them; a Proxy is a DataCloneError`, async () => {
      const [conn] = await pipeWithChild('echo');
      const roundTrip = async <T>(value: unknown): Promise<T> => {
        await conn.send(value);
        return conn.recv<T>();
      };
      // Two holes hiding two named properties: as many own values as the length.
      const hiding: unknown[] & { x?: number; y?: number } = [1, , , 4];
      hiding.x = 5;
      hiding.y = 6;
      const backHiding = await roundTrip<unknown[] & { x?: number; y?: number }>(hiding);
      expect([backHiding.length, 1 in backHiding, 2 in backHiding]).toEqual([4, false, false]);
      expect([backHiding[0], backHiding[3], backHiding.x, backHiding.y]).toEqual([1, 4, 5, 6]);
      // An index getter runs once, as structured clone runs it.
      let reads = 0;
      const counted = [0, 0];
      Object.defineProperty(counted, 0, { get: () => ++reads, enumerable: true });
      expect(await roundTrip(counted)).toEqual([1, 0]);
      expect(reads).toBe(1);
      // An object that inherits from Array.prototype is not an array.
      const arrayLike = await roundTrip<object>(Object.create(Array.prototype));
      expect([Array.isArray(arrayLike), Object.getPrototypeOf(arrayLike) === Object.prototype, Object.keys(arrayLike)]).toEqual([false, true, []]);
      // An enumerable property some library put on Object.prototype is nobody's own property.
      Object.defineProperty(Object.prototype, 'ipcxInherited', { value: 1, enumerable: true, configurable: true, writable: true });
      let sending: Promise<void>;
      try {
        sending = conn.send({ own: 1 });
      } finally {
        delete (Object.prototype as Record<string, unknown>).ipcxInherited;
      }
      await sending;
      expect(Object.keys(await conn.recv<object>())).toEqual(['own']);
      // A getter that encodes another value (a put to a queue) leaves the value being sent whole.
      const side = await Queue.create<unknown>(backend);
      after(() => side.close());
      const inner = { inner: 'a value long enough to overwrite the encoder scratch of the outer one' };
      const outer = {
        a: 'first',
        get b() {
          void side.put(inner);
          return 2;
        },
        c: 3,
      };
      expect(await roundTrip(outer)).toEqual({ a: 'first', b: 2, c: 3 });
      expect(await side.get({ timeout: 10_000 })).toEqual(inner);
      // Structured clone refuses a Proxy, whatever it wraps: nothing is sent.
      expect(() => conn.send(new Proxy({ a: 1 }, {}))).toThrow(DataCloneError);
      expect(() => conn.send({ list: new Proxy([1, 2], {}) })).toThrow(DataCloneError);
      await conn.send('intact');
      expect(await conn.recv()).toBe('intact');
    });

    it(`multiprocessing ${context.name} ${maker.label}: an unserializable value is a DataCloneError TypeError and nothing is sent`, async () => {
      const [conn] = await pipeWithChild('echo');
      expect(() => conn.send({ f: () => 1 })).toThrow(DataCloneError);
      expect(() => conn.send(Symbol('s'))).toThrow(TypeError);
      // A kernel-pipe Connection holds a descriptor: it cannot go inside a value.
      const [x, y] = await Pipe(backend, { transport: 'kernel' });
      after(async () => {
        await x.close();
        await y.close();
      });
      const refused = (() => {
        try {
          void conn.send({ conn: x });
        } catch (error) {
          return error;
        }
      })();
      expect(refused).toBeInstanceOf(DataCloneError);
      expect(codeOf(refused)).toBe('DATA_CLONE_ERR');
      await conn.send('intact');
      expect(await conn.recv()).toBe('intact');
    });

    it(`multiprocessing ${context.name} ${maker.label}: poll looks without consuming; recv timeout is ETIMEDOUT and loses nothing`, async () => {
      const [conn] = await pipeWithChild('echo');
      expect(await conn.poll()).toBe(false);
      expect(codeOf(await rejection(conn.recv({ timeout: 30 })))).toBe('ETIMEDOUT');
      await conn.send('x');
      expect(await conn.poll(10_000)).toBe(true);
      expect(await conn.poll()).toBe(true);
      expect(await conn.recv()).toBe('x');
      const aborter = new AbortController();
      const pending = conn.recv({ signal: aborter.signal });
      aborter.abort();
      expect(codeOf(await rejection(pending))).toBe('ABORT_ERR');
      await conn.send('y');
      expect(await conn.recv()).toBe('y');
    });

    it(`multiprocessing ${context.name} ${maker.label}: a recv waiting for its turn gives up on its own timeout or abort and takes nothing`, async () => {
      const [conn] = await pipeWithChild('echo');
      // 'first' waits for a value; the others wait for their turn behind it.
      const first = conn.recv();
      const aborter = new AbortController();
      const aborted = conn.recv({ signal: aborter.signal });
      const timed = conn.recv({ timeout: 30 });
      const second = conn.recv();
      aborter.abort();
      expect(codeOf(await rejectionWithin(aborted, 2_000))).toBe('ABORT_ERR');
      expect(codeOf(await rejectionWithin(timed, 2_000))).toBe('ETIMEDOUT');
      await conn.send('a');
      await conn.send('b');
      expect(await first).toBe('a');
      expect(await second).toBe('b');
      // An already aborted signal takes nothing, even with a value waiting.
      await conn.send('c');
      expect(await conn.poll(10_000)).toBe(true);
      expect(codeOf(await rejection(conn.recv({ signal: AbortSignal.abort() })))).toBe('ABORT_ERR');
      expect(await conn.recv()).toBe('c');
    });

    it(`multiprocessing ${context.name} ${maker.label}: a recv, poll or send waiting when its end closes rejects with CLOSED, the other side reads EOF; after close send rejects with CLOSED`, async () => {
      const [a, b] = await maker.make(backend);
      // The first end of a ring pair owns the rings: closed last.
      after(async () => {
        await b.close();
        await a.close();
      });
      // b's send waits for room (far more than the pipe holds, and a does not read); its recv and
      // poll wait for a value that never comes.
      const waiting = [b.sendBytes(new Uint8Array(8 * 1024 * 1024)), b.recv(), b.poll(Infinity)];
      const outcomes = Promise.all(waiting.map((pending) => rejectionWithin(pending, 5_000)));
      await sleep(20);
      await b.close();
      expect((await outcomes).map(codeOf)).toEqual(['CLOSED', 'CLOSED', 'CLOSED']);
      // What of the frame went out is dropped: the other side reads the end of the stream.
      expect(codeOf(await rejectionWithin(a.recv(), 5_000))).toBe('EOF');
      const send = b.send(1);
      expect(send).toBeInstanceOf(Promise);
      expect(codeOf(await rejection(send))).toBe('CLOSED');
      expect(codeOf(await rejection(b.sendBytes(new Uint8Array(1))))).toBe('CLOSED');
      expect(codeOf(await rejection(b.recv()))).toBe('CLOSED');
      expect(codeOf(await rejection(b.poll()))).toBe('CLOSED');
    });

    it(`multiprocessing ${context.name} ${maker.label}: a send made just before close that needs no wait still goes out`, async () => {
      const [a, b] = await maker.make(backend);
      after(async () => {
        await b.close();
        await a.close();
      });
      // An end that has sent (a ring end then holds its ring's write lock) sends at once.
      await b.send('first');
      expect(await a.recv()).toBe('first');
      const sent = b.send('last words');
      await b.close();
      await sent;
      expect(await a.recv()).toBe('last words');
      expect(codeOf(await rejection(a.recv()))).toBe('EOF');
    });

    it(`multiprocessing ${context.name} ${maker.label}: once the first end (the owner of a ring pair) closes, the other end's send rejects with EPIPE and its recv with EOF, whatever either end did before`, async () => {
      for (const warmUp of [false, true]) {
        const [a, b] = await maker.make(backend);
        after(async () => {
          await b.close();
          await a.close();
        });
        if (warmUp) {
          // Both ends have sent and received (each holds its locks); the first sends one more.
          await b.send('hi');
          expect(await a.recv()).toBe('hi');
          await a.send('back');
        }
        await a.close();
        if (warmUp) expect(await b.recv()).toBe('back');
        expect(codeOf(await rejectionWithin(b.send('after'), 5_000))).toBe('EPIPE');
        expect(codeOf(await rejectionWithin(b.recv(), 5_000))).toBe('EOF');
        expect(await b.poll()).toBe(true);
      }
    });

    it(`multiprocessing ${context.name} ${maker.label}: a child's end reads EOF when the first end closes without having sent`, async () => {
      const [conn, child] = await pipeWithChild('await-eof');
      expect(await conn.recv()).toBe('ready');
      await conn.close();
      // The child ends with code 0 on EOF; a recv that never learned of the close would keep it waiting.
      const status = await Promise.race([child.join(), sleep(10_000).then(() => 'still running')]);
      expect(status).toEqual({ code: 0, signal: null });
    });

    it(`multiprocessing ${context.name} ${maker.label}: a sender killed mid-frame gives EOF, not a torn value`, async () => {
      const [conn, child] = await pipeWithChild('big-frame', [16 * 1024 * 1024]);
      // Some of the frame has arrived (the header at least), the rest never will.
      expect(await conn.poll(20_000)).toBe(true);
      child.kill('SIGKILL');
      await child.exited;
      const error = await rejection(conn.recv());
      expect(codeOf(error)).toBe('EOF');
    });

    // Connection's own framing over a kernel pipe (ring-backed ends frame differently).
    if (maker.label === 'kernel connection') it(`multiprocessing ${context.name} ${maker.label}: a frame longer than the receiver can allocate is ENOMEM, then and at every later recv (the stream is torn)`, async () => {
      const [conn] = await pipeWithChild('raw-frame-header', [0xffff_ffff]);
      expect(await conn.poll(20_000)).toBe(true);
      // This machine may well lend 4 GiB (overcommit): make this process one that cannot, as a
      // small or busy machine is, by failing large typed-array allocations as V8 does.
      const original = globalThis.Uint8Array;
      globalThis.Uint8Array = new Proxy(original, {
        construct(target, args, newTarget) {
          if (typeof args[0] === 'number' && args[0] >= 2 ** 31) throw new RangeError('Array buffer allocation failed');
          return Reflect.construct(target, args, newTarget) as object;
        },
      });
      let errors: unknown[];
      try {
        errors = [await rejectionWithin(conn.recv(), 10_000), await rejectionWithin(conn.recvBytes(), 10_000)];
      } finally {
        globalThis.Uint8Array = original;
      }
      expect(errors.map((error) => [(error as Error).name, codeOf(error)])).toEqual([
        ['IpcError', 'ENOMEM'],
        ['IpcError', 'ENOMEM'],
      ]);
      expect(await conn.poll()).toBe(true);
      expect(codeOf(await rejection(conn.recv()))).toBe('ENOMEM');
    });

    // Pipe(false) exists for socketpair-style pipes only (RingPipe ends are always duplex).
    if (maker.label === 'connection') it(`multiprocessing ${context.name} ${maker.label}: Pipe(false) gives a receive-only and a send-only end`, async () => {
      const [reader, writer] = await Pipe(backend, { duplex: false });
      after(async () => {
        await reader.close();
        await writer.close();
      });
      expect([reader.readable, reader.writable, writer.readable, writer.writable]).toEqual([true, false, false, true]);
      expect(() => reader.send(1)).toThrow(TypeError);
      await writer.send([1, 2, 3]);
      expect(await reader.recv()).toEqual([1, 2, 3]);
      await writer.close();
      expect(codeOf(await rejection(reader.recv()))).toBe('EOF');
    });
  });
}
