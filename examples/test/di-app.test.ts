/**
 * The di-app's tests: the same classes as production, wired with the worker backend instead of
 * the native one, so the test makes no kernel object at all and needs no cleanup of the host.
 * (It imports the built app, as the pool children load it: children run JavaScript.)
 */
import { Container } from 'inversify';
import { describe, expect, it } from 'vitest';
import { workerIpc } from '@ipcx/adapter-worker/inversify';
import { IpcBackend } from '@ipcx/core';
import { PrimeService } from '../dist/di-app/jobs.js';
import { primeApp } from '../dist/di-app/module.js';

function appContainer(): Container {
  const container = new Container();
  container.load(workerIpc(), primeApp());
  return container;
}

describe('di-app on the worker backend', () => {
  it('counts primes with a pool limited to its size, and leaves nothing in the emulated kernel', async () => {
    const container = appContainer();
    const backend = container.get<IpcBackend>(IpcBackend);
    expect(backend.name).toBe('worker');
    const report = await container.get(PrimeService).countPrimes([100, 1_000, 10_000, 20_000, 30_000], 2);
    expect(report.counts).toEqual([25, 168, 1229, 2262, 3245]);
    expect(report.mostAtOnce).toBeGreaterThanOrEqual(1);
    expect(report.mostAtOnce).toBeLessThanOrEqual(2);
    expect(await backend.diagnostics.kernelObjects()).toEqual([]);
    expect(backend.diagnostics.openObjects()).toEqual([]);
  });

  it('runs one job at a time with a pool of one', async () => {
    const report = await appContainer().get(PrimeService).countPrimes([50, 60, 70], 1);
    expect(report.counts).toEqual([15, 17, 19]);
    expect(report.mostAtOnce).toBe(1);
  });
});
