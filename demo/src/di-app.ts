/**
 * The di-app's production entry point: the example app of `@ipcx/examples` (examples/src/di-app,
 * which names no adapter) wired to the native backend (real kernel objects, OS child processes).
 * `node demo/dist/di-app.js [poolSize] [limits...]`; `npm run demo` runs it too.
 */
import { Container } from 'inversify';
import { nativeIpc } from '@ipcx/adapter-native/inversify';
import { PrimeService } from '@ipcx/examples/di-app/jobs.js';
import { primeApp } from '@ipcx/examples/di-app/module.js';

/** Runs the app on the native backend and returns its report. */
export async function runProduction(limits: readonly number[] = [10_000, 50_000, 100_000, 200_000, 300_000, 400_000, 500_000], poolSize = 3) {
  const container = new Container();
  container.load(nativeIpc(), primeApp());
  return container.get(PrimeService).countPrimes(limits, poolSize);
}

// Run directly (not imported by the demo).
if (import.meta.url === `file://${process.argv[1]}`) {
  const [pool, ...limits] = process.argv.slice(2).map(Number);
  const report = await runProduction(limits.length > 0 ? limits : undefined, pool || undefined);
  console.log(JSON.stringify(report));
}
