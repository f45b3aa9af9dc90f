/**
 * `processes.spawn(entry, { stderr })` on both backends, seen from outside: each run is a plain
 * Node process whose stderr the test reads, spawning a child that throws on purpose.
 */
import { describe, expect, it } from 'vitest';
import { describeRun, runFixture } from './fixtures/run-fixture.js';

describe('spawn stderr option', () => {
  for (const backend of ['native', 'worker']) {
    it(`${backend}: 'inherit' passes the child's stack trace through, 'ignore' drops it`, async () => {
      const inherited = await runFixture('spawn-stderr.mjs', [backend, 'inherit']);
      expect(inherited.code, describeRun(inherited)).toBe(0);
      expect(inherited.report).toEqual({ code: 1, signal: null });
      expect(inherited.stderr).toContain('Error: this child fails on purpose');
      const ignored = await runFixture('spawn-stderr.mjs', [backend, 'ignore']);
      expect(ignored.code, describeRun(ignored)).toBe(0);
      expect(ignored.report).toEqual({ code: 1, signal: null });
      expect(ignored.stderr).toBe('');
    });
  }
});
