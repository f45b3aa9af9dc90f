/**
 * `read()` of a shared memory segment copies as many bytes as asked, by default the whole segment
 * (the kernel object's size). A read-only mapping, and one above the buffer limit, is copied by the
 * addon (mappingRead), whose buffer came from V8: when it could not be allocated Node ended the
 * process ("FATAL ERROR: v8::ArrayBuffer::New Allocation failed - process out of memory"). A
 * writable mapping's copy, made in JS, failed with a RangeError. Both are IpcError ENOMEM now.
 * The child (test/fixtures/shared-memory-read-limit.mjs) reads a 256 MiB POSIX segment with 128 MiB
 * of address space left.
 */
import { rmSync } from 'node:fs';
import { describe, expect, it, onTestFinished } from 'vitest';
import { describeRun, runFixture } from './fixtures/run-fixture.js';

describe('shared memory reads when memory runs short', () => {
  it('a read whose copy cannot be had is ENOMEM (read-only and writable mappings), and the process lives', async () => {
    const name = `/ipcx-read-limit-${process.pid}`;
    // The child unlinks it; this is for a child that died first.
    onTestFinished(() => rmSync(`/dev/shm${name}`, { force: true }));
    const run = await runFixture<Record<string, unknown>>('shared-memory-read-limit.mjs', [name], { timeoutMs: 30_000 });
    expect(run.signal, describeRun(run)).toBeNull();
    expect(run.stderr).not.toMatch(/out of memory/);
    expect(run.code, describeRun(run)).toBe(0);
    const enomem = { name: 'IpcError', code: 'ENOMEM', syscall: 'malloc' };
    const small = { length: 4096, type: 'Uint8Array', head: [1, 2, 3, 4] };
    expect(run.report, describeRun(run)).toEqual({ readOnly: enomem, writable: enomem, readOnlySmall: small, writableSmall: small });
  });
});
