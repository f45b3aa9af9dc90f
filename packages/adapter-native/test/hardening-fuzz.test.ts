/**
 * The hardening fuzzer on the native backend: every member of every factory and object, with
 * hostile arguments, in a child process (a crash fails this test instead of killing the runner).
 * `IPCX_FC_SEED`, `IPCX_FC_PATH`, `IPCX_FUZZ_RUNS`, `IPCX_FUZZ_EXCLUDE`: see the testkit README.
 *
 * And its self-test: a backend with a deliberate flaw must be reported for exactly that flaw.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { registerHardening, runHardening } from '@ipcx/testkit';

registerHardening({
  name: 'native',
  // About 17,500 calls: ~30 s on two cores under some load (45 s at load 10).
  runs: 4000,
  backend: { module: createRequire(import.meta.url).resolve('@ipcx/adapter-native'), export: 'createNativeBackend' },
});

describe('hardening fuzzer self-test', () => {
  const broken = (flaw: string) =>
    runHardening({
      name: flaw,
      runs: 40,
      seed: 1,
      kinds: ['diagnostics'],
      timing: { hangMs: 1000 },
      environment: false,
      backend: { module: fileURLToPath(new URL('./fixtures/broken-backend.mjs', import.meta.url)), export: 'createBrokenBackend', args: [flaw] },
    });

  it('reports a crash with the call the child was making, and that the call alone crashes too', { timeout: 60_000 }, async () => {
    const result = await broken('crash');
    const report = result.report.join('\n');
    expect(result.crashes, report).toBe(1);
    expect(report).toContain('crash: the fuzzing child died (killed by SIGABRT)');
    expect(report).toMatch(/while calling: diagnostics\.kernelObjects/);
    expect(report).toMatch(/reproducer: that call alone crashes too \(killed by SIGABRT\): replay with IPCX_FC_SEED=1 IPCX_FC_PATH=\d+/);
    expect(result.leaks).toEqual([]);
  });

  it('reports a call that never settles as a hang, shrunk to that call', { timeout: 60_000 }, async () => {
    const result = await broken('hang');
    const report = result.report.join('\n');
    expect(result.hangs, report).toBe(1);
    expect(report).toMatch(/hang: diagnostics\.kernelObjects(\(.*\))?\n\s+still pending 1000 ms/);
    expect(report).toMatch(/shrunk \(\d+ times\): a fresh diagnostics \(variant 0\), then:\n\s+1\. diagnostics\.kernelObjects\(.*\)\n(.*\n)*\s+fails with: hang: diagnostics\.kernelObjects/);
    expect(report).toMatch(/replay: IPCX_FC_SEED=1 .*IPCX_FC_PATH=[\d:]+/);
  });

  it('reports a plain Error as a wrong error kind', { timeout: 60_000 }, async () => {
    const result = await broken('wrong-kind');
    const report = result.report.join('\n');
    expect(result.wrongKinds, report).toBe(1);
    expect(report).toContain('Error: a plain Error where an IpcError belongs');
    expect(result.crashes + result.hangs + result.accepted).toBe(0);
  });

  it('reports a blocked event loop as a hang, with the call that blocked it', { timeout: 60_000 }, async () => {
    const result = await broken('block');
    const report = result.report.join('\n');
    expect(result.hangs, report).toBe(1);
    expect(result.crashes).toBe(0);
    expect(report).toContain("hang: the fuzzing child's event loop stopped");
    expect(report).toMatch(/while calling: diagnostics\.kernelObjects/);
    expect(report).toMatch(/reproducer: that call alone blocks too/);
  });
});
