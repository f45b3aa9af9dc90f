/**
 * The primitive table and what is derived from it: capability names, DI tokens, `IpcBackend`'s
 * factories, `backendBindings`, and `defineBackend` filling in what a backend leaves out. The
 * adapters' own backends, built the same way, run the manifest suite in their projects.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  Eventfds,
  Fifos,
  FileLocks,
  IpcBackend,
  IpcError,
  MessageQueues,
  NetworkSockets,
  Pipes,
  PosixMessageQueues,
  PosixSemaphores,
  Primitive,
  Processes,
  Semaphores,
  SharedMemory,
  UnixSockets,
  backendBindings,
  capabilities,
  factoryNames,
  factoryOf,
  primitiveNames,
  primitiveTable,
  type PrimitiveFactories,
  type PrimitiveName,
  type Processes as ProcessesType,
} from '@ipcx/core';
import { defineBackend, type BackendDefinition, type OptionalFactoryName } from '@ipcx/core/backend';

/** The members of `T` that may be left out. */
type OptionalKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? K : never }[keyof T];

/** A `processes` that runs nothing: what a backend without children of its own would have. */
const noChildren: ProcessesType = {
  spawn: () => Promise.reject(new IpcError('ENOSYS', { syscall: 'spawn' })),
  spawnExecutable: () => Promise.reject(new IpcError('ENOSYS', { syscall: 'execve' })),
};
const noDiagnostics = { openObjects: () => [], kernelObjects: async () => [] };

describe('the primitive table', () => {
  it('derives the capability names, in table order, with the camel-cased keys they always had', () => {
    expect(Primitive).toEqual({
      pipe: 'pipe',
      duplexPipe: 'duplex-pipe',
      fifo: 'fifo',
      messageQueue: 'message-queue',
      posixMessageQueue: 'posix-message-queue',
      semaphore: 'semaphore',
      posixSemaphore: 'posix-semaphore',
      sharedMemory: 'shared-memory',
      fileLock: 'file-lock',
      eventfd: 'eventfd',
      unixSocket: 'unix-socket',
      networkSocket: 'network-socket',
    });
    expect(primitiveNames).toEqual(Object.values(Primitive));
    expect(factoryOf('duplex-pipe')).toBe('pipes');
    expect(factoryOf('network-socket')).toBe('networkSockets');
    expect(factoryOf('eventfd')).toBe('eventfds');
    expect(() => factoryOf('futex' as PrimitiveName)).toThrow(TypeError);
    expectTypeOf(Primitive.duplexPipe).toEqualTypeOf<'duplex-pipe'>();
  });

  it('derives the DI tokens: the same global symbols as before the table, one per factory', () => {
    const tokens = { Pipes, Fifos, MessageQueues, PosixMessageQueues, Semaphores, PosixSemaphores, SharedMemory, FileLocks, Eventfds, UnixSockets, NetworkSockets, Processes };
    for (const [name, token] of Object.entries(tokens)) expect(token).toBe(Symbol.for(`ipcx.${name}`));
    expect(factoryNames.map((name) => Symbol.for(`ipcx.${primitiveTable[name].token}`))).toEqual(Object.values(tokens));
  });

  it('makes every factory but processes optional for a backend, so a new row never breaks one', () => {
    // Compile-time: a required factory in BackendDefinition fails the type check of this file.
    expectTypeOf<Exclude<OptionalFactoryName, OptionalKeys<BackendDefinition>>>().toEqualTypeOf<never>();
    expectTypeOf<OptionalKeys<BackendDefinition>>().not.toEqualTypeOf<'processes'>();
    // While users see every factory on IpcBackend.
    expectTypeOf<IpcBackend['pipes']>().toEqualTypeOf<PrimitiveFactories['pipes']>();
  });
});

describe('defineBackend', () => {
  // A backend of only processes: what a third-party backend written before every row of the
  // table looks like (it names none of them).
  const minimal: BackendDefinition = { name: 'minimal', capabilities: capabilities([], []), diagnostics: noDiagnostics, processes: noChildren };

  it('fills in every factory a backend leaves out with one that rejects with ENOSYS', async () => {
    const backend: IpcBackend = defineBackend(minimal);
    expect(backend.processes).toBe(noChildren);
    await expect(backend.pipes.create()).rejects.toMatchObject({ name: 'IpcError', code: 'ENOSYS', syscall: 'create', message: 'ENOSYS: the minimal backend has no pipes (create)' });
    await expect(backend.messageQueues.open(1)).rejects.toMatchObject({ code: 'ENOSYS', syscall: 'open' });
    await expect(backend.networkSockets.connect({ host: '127.0.0.1', port: 1 })).rejects.toMatchObject({ code: 'ENOSYS', syscall: 'connect' });
    for (const name of factoryNames) expect(typeof backend[name]).toBe('object');
    // Not a thenable: awaiting a factory gives the factory.
    expect(await (backend.fifos as unknown as Promise<unknown>)).toBe(backend.fifos);
  });

  it('keeps the factories and members a backend has', () => {
    const messageQueues = { open: () => Promise.resolve(undefined) } as unknown as PrimitiveFactories['messageQueues'];
    const backend = defineBackend({ ...minimal, capabilities: capabilities(['message-queue'], []), messageQueues, close: () => 'closed' });
    expect(backend.messageQueues).toBe(messageQueues);
    expect(backend.close()).toBe('closed');
  });

  it('refuses a declared primitive without its factory', () => {
    expect(() => defineBackend({ ...minimal, capabilities: capabilities(['duplex-pipe'], []) })).toThrow(
      new TypeError("backend 'minimal' declares 'duplex-pipe' but has no pipes factory"),
    );
  });

  it('backendBindings binds the backend and every factory of the table under its token', () => {
    const backend = defineBackend(minimal);
    const bindings = backendBindings(backend);
    expect(bindings[0]).toEqual([IpcBackend, backend]);
    expect(bindings.slice(1)).toEqual(factoryNames.map((name) => [Symbol.for(`ipcx.${primitiveTable[name].token}`), backend[name]]));
    expect(bindings).toHaveLength(factoryNames.length + 1);
  });
});
