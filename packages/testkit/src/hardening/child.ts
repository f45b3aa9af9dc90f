/**
 * The fuzzing child: `node child.js` with its configuration in the `IPCX_HARDENING` environment
 * variable. It loads the backend itself (the worker backend's kernel and workers live in this
 * process too), runs the seeded scenarios, and writes every scenario, call, object made and
 * finding to the journal before it happens, so that if this process dies the parent knows what it
 * was doing and what to remove.
 *
 * In `sweep` mode it removes, through the same backend, the objects that a crashed run reported.
 */
import { openSync, writeFileSync } from 'node:fs';
import fc from 'fast-check';
import type { IpcBackend } from '@ipcx/core';
import { buildModel, scenarios, showScenario, type Kind, type Scenario } from './model.js';
import { Journal, Runner, kindsFor, type Finding } from './runner.js';
import { excludeTags } from './values.js';
import type { ChildConfig, SweepList } from './protocol.js';

const config = JSON.parse(process.env.IPCX_HARDENING ?? '{}') as ChildConfig;

async function loadBackend(): Promise<IpcBackend> {
  const module = (await import(config.backend.module)) as Record<string, unknown>;
  const factory = module[config.backend.export];
  if (typeof factory !== 'function') throw new TypeError(`${config.backend.module} has no function ${config.backend.export}`);
  return (await (factory as (...args: unknown[]) => unknown)(...(config.backend.args ?? []))) as IpcBackend;
}

/** Weight of a kind: spawning children is slow, so those kinds come up less often. */
function weight(kind: Kind): number {
  return kind.title === 'processes' || kind.title === 'childProcess' ? 1 : 4;
}

async function fuzz(journal: Journal): Promise<void> {
  excludeTags(config.exclude);
  const backend = await loadBackend();
  journal.write({ t: 'backend', name: backend.name, features: [...backend.capabilities.features] });
  const regularFile = `${config.tempDir}/regular-file`;
  writeFileSync(regularFile, new Uint8Array(4096));
  process.chdir(config.tempDir);
  const runner = new Runner(backend, config.tempDir, config.prefix, config.keys, config.childEntry, regularFile, journal, config.timing);
  const kinds = kindsFor(buildModel(), backend).filter((kind) => config.kinds === undefined || config.kinds.includes(kind.title));
  let run = 0;
  let firstFailure: Finding | undefined;
  const property = fc.asyncProperty(scenarios(kinds, config.maxActions, weight), async (scenario: Scenario) => {
    const found = await runner.runScenario(scenario, run++, config.onlyAction);
    if (found.length === 0 || config.keepGoing) return;
    if (firstFailure === undefined) {
      firstFailure = found[0];
      runner.shrinking = true;
    }
    const finding = found[0]!;
    throw new Error(`${finding.kind}: ${finding.call}: ${finding.detail}`);
  });
  const details = await fc.check(property, { seed: config.seed, numRuns: config.runs, ...(config.path !== undefined ? { path: config.path } : {}) });
  let failure;
  if (details.failed && details.counterexample !== null) {
    const scenario = details.counterexample[0];
    failure = {
      text: `${showScenario(scenario)}\nfails with: ${details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance)}`,
      path: details.counterexamplePath ?? '',
      shrinks: details.numShrinks,
    };
  } else if (details.failed) {
    failure = { text: `the run failed outside a scenario: ${String(details.errorInstance)}`, path: '', shrinks: 0 };
  }
  // The backend's own view of what is left, for the report: bounded, since it is a call under test too.
  const left = await Promise.race([
    Promise.resolve()
      .then(() => backend.diagnostics.kernelObjects())
      .catch((error: unknown) => [`kernelObjects() failed: ${String(error)}`]),
    new Promise<readonly string[]>((resolve) => setTimeout(() => resolve(['kernelObjects() did not settle']), config.timing.hangMs)),
  ]);
  let open: readonly string[];
  try {
    open = backend.diagnostics.openObjects();
  } catch (error) {
    open = [`openObjects() failed: ${String(error)}`];
  }
  journal.write({ t: 'summary', summary: { ...runner.summary(config.seed, open, failure), kernelObjectsAfter: left } });
}

/** Removes what a crashed run reported, through the backend; each removal may fail (already gone). */
async function sweep(list: SweepList): Promise<void> {
  const backend = await loadBackend();
  const attempt = async (work: () => Promise<unknown>) => {
    try {
      await work();
    } catch {
      // gone already, or never made
    }
  };
  for (const id of list.sem) await attempt(async () => (await backend.semaphores.openById(id)).remove());
  for (const id of list.shm) await attempt(() => backend.sharedMemory.removeSysv(id));
  for (const key of list.keys) {
    await attempt(async () => {
      const queue = await backend.messageQueues.open(key);
      await queue.remove();
      await queue.close();
    });
    await attempt(async () => {
      const set = await backend.semaphores.open(key);
      await set.remove();
      await set.close();
    });
    await attempt(async () => {
      const segment = await backend.sharedMemory.openSysv(key);
      await segment.remove();
      await segment.close();
    });
  }
  for (const name of list.names) {
    await attempt(() => backend.posixMessageQueues.unlink(name));
    await attempt(() => backend.posixSemaphores.unlink(name));
    await attempt(() => backend.sharedMemory.unlinkPosix(name));
  }
}

const journal = new Journal(openSync(config.journal, 'a'));
const crashed = (what: string) => (error: unknown) => {
  journal.write({ t: 'uncaught', error: `${what}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}` });
  process.exit(70);
};
process.on('uncaughtException', crashed('uncaught exception'));
process.on('unhandledRejection', crashed('unhandled rejection'));

// Exit explicitly: a hung call may keep a handle open, and the parent is waiting for the verdict.
(config.mode === 'sweep' ? sweep(config.sweep!) : fuzz(journal)).then(
  () => process.exit(0),
  crashed('the fuzzer failed'),
);
