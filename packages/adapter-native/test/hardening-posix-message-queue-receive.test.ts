/**
 * POSIX queue receives when a buffer of the queue's message size cannot be had. The receive's
 * scratch buffer and the copy of a small message out of it are JS allocations: their failure is
 * V8's RangeError. The copy's came after mq_receive had taken the message, which was lost; the
 * scratch's was a RangeError rather than an IpcError, and in a waiting receive (served by the
 * poll's callback) an uncaught exception, thrown again at every turn of the event loop.
 *
 * The failures are simulated in the child (test/fixtures/posix-message-queue-receive-enomem.mjs
 * makes Buffer's allocations throw that RangeError from 2 KiB): a real address-space limit cannot
 * be used on this machine, since RLIMIT_MSGQUEUE (800 KiB, not raisable without CAP_SYS_RESOURCE)
 * keeps message sizes below ~400 KiB and V8 itself dies with so little address space left.
 */
import { describe, expect, it } from 'vitest';
import { describeRun, runFixture } from './fixtures/run-fixture.js';

describe('POSIX queue receives when memory runs short', () => {
  it('a message whose copy cannot be had arrives in the scratch buffer; no scratch is ENOMEM with the message left queued, also for a waiting receive', async () => {
    const run = await runFixture<Record<string, unknown>>('posix-message-queue-receive-enomem.mjs', [], { timeoutMs: 30_000 });
    expect(run.signal, describeRun(run)).toBeNull();
    expect(run.code, describeRun(run)).toBe(0);
    const enomem = { name: 'IpcError', code: 'ENOMEM', syscall: 'mq_receive' };
    expect(run.report, describeRun(run)).toEqual({
      uncaught: 0,
      first: { text: 'a' },
      copy: { length: 3000, intact: true },
      noScratch: enomem,
      queuedAfterNoScratch: 1,
      tooSmall: enomem,
      after: { text: 'z' },
      waitingLarge: { length: 5000, intact: true },
      // No buffer, but nothing to take either: the receive waits on...
      secondStillWaiting: true,
      // ...and a message that comes while there is still none is ENOMEM, and stays queued.
      waitingNoScratch: enomem,
      queuedAfterWaiting: 1,
      afterWaiting: { text: 'y' },
      left: 0,
    });
  });
});
