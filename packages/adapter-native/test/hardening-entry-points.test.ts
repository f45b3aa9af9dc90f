/**
 * Every addon entry point is registered as `JsEntry<Function>` (native/errors.h), so that a
 * std::bad_alloc anywhere in it is an IpcError ENOMEM. Those of descriptor.cc, socket.cc, fifo.cc,
 * file_lock.cc, pipe.cc, poller.cc, posix_semaphore.cc, process.cc and errors.cc were not: their
 * allocation failures came out as a plain `Error: std::bad_alloc` (node-addon-api's
 * NODE_ADDON_API_CPP_EXCEPTIONS_ALL backstop). The calls here copy a 64 MiB string argument into
 * C++ in a child whose address space then has 32 MiB left (test/fixtures/entry-points-enomem.mjs).
 * Only entry points that copy a caller's string can be made to fail this way; the others allocate
 * a few bytes at most, and nothing provokes a failure in them alone.
 */
import { describe, expect, it } from 'vitest';
import { describeRun, runFixture } from './fixtures/run-fixture.js';

interface Outcome {
  name?: string;
  code?: string;
  syscall?: string;
  message?: string;
  result?: unknown;
}

interface Report {
  unlimited?: Record<string, Outcome>;
  limited?: Record<string, Outcome>;
  error?: Outcome;
}

describe('addon entry points turn an allocation failure into ENOMEM', () => {
  it('a string argument that cannot be copied is an IpcError ENOMEM in every kind of entry point, and the process lives', async () => {
    const run = await runFixture<Report>('entry-points-enomem.mjs', [], { timeoutMs: 60_000 });
    expect(run.signal, describeRun(run)).toBeNull();
    expect(run.code, describeRun(run)).toBe(0);
    const report = run.report!;
    expect(report.error, describeRun(run)).toBeUndefined();
    // With room, each call gives its own answer: the copy was made.
    expect(report.unlimited).toMatchObject({
      spawnExecutable: { name: 'IpcError', code: 'E2BIG', syscall: 'posix_spawn' },
      socketBind: { name: 'RangeError', message: 'socket address too long' },
      mkfifo: { name: 'IpcError', code: 'ENAMETOOLONG', syscall: 'mkfifo' },
      flockOpen: { name: 'IpcError', code: 'ENAMETOOLONG', syscall: 'open' },
      semOpen: { name: 'IpcError', code: 'EINVAL', syscall: 'sem_open' },
    });
    const enomem = { name: 'IpcError', code: 'ENOMEM', syscall: 'malloc' };
    expect(report.limited).toMatchObject({ spawnExecutable: enomem, socketBind: enomem, mkfifo: enomem, flockOpen: enomem, semOpen: enomem });
  });
});
