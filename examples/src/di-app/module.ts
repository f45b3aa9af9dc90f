/** The di-app's own bindings; the IPC factories come from an adapter's module (or a child's backend). */
import { ContainerModule } from 'inversify';
import { JobQueue, PrimeService, ResultTable, WorkerPool } from './jobs.js';

/** Binds the app's classes; load it next to `nativeIpc()` or `workerIpc()`. */
export function primeApp(): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind(JobQueue).toSelf();
    bind(ResultTable).toSelf();
    bind(WorkerPool).toSelf();
    bind(PrimeService).toSelf();
  });
}
