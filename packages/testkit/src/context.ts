/**
 * What every suite gets: the backend under test, its capabilities, unique names and paths, and
 * the URLs of the kit's child modules.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Capabilities, FeatureName, IpcBackend, PrimitiveName } from '@ipcx/core';
import { hostPid, onNode } from './host.js';

/** Options of {@link registerConformance}. */
export interface ConformanceOptions {
  /** Shown in every test's name, e.g. `'native'`. */
  readonly name: string;
  /** Creates (or returns) the backend under test; called once before the suites run. */
  readonly create: () => IpcBackend | Promise<IpcBackend>;
  /** What the backend declares it implements: suites of missing primitives are skipped. */
  readonly capabilities: Capabilities;
}

/** Passed to each suite. */
export interface SuiteContext {
  readonly name: string;
  readonly capabilities: Capabilities;
  /** The backend under test (available inside tests and hooks, not while registering). */
  backend(): IpcBackend;
  /** True if the backend implements the primitive. */
  has(primitive: PrimitiveName): boolean;
  /** True if the backend has the feature. */
  hasFeature(feature: FeatureName): boolean;
  /** A path in this run's private temporary folder (checked empty after the suites). */
  tempPath(name: string): string;
  /** A name unique to this run, for POSIX names, e.g. `/ipcx-1234-7-queue`. */
  uniqueName(label: string): string;
  /** The URL of one of the kit's child modules (`children/<name>.js`). */
  child(name: string): URL;
}

let counter = 0;

/** Builds the context of one registration. */
export function createSuiteContext(options: ConformanceOptions, getBackend: () => IpcBackend): SuiteContext & { readonly tempDir: string } {
  // In a page, paths exist only in the emulated kernel's namespace: a name unique to the run.
  const tempDir = onNode
    ? mkdtempSync(path.join(os.tmpdir(), `ipcx-${options.name}-`))
    : `/tmp/ipcx-${options.name.replace(/\W+/g, '-')}-${Math.random().toString(36).slice(2, 10)}`;
  return {
    name: options.name,
    capabilities: options.capabilities,
    tempDir,
    backend: getBackend,
    has: (primitive) => options.capabilities.primitives.has(primitive),
    hasFeature: (feature) => options.capabilities.features.has(feature),
    tempPath: (name) => `${tempDir}/${++counter}-${name}`,
    uniqueName: (label) => `/ipcx-${hostPid}-${++counter}-${label}`,
    child: (name) => new URL(`./children/${name}.js`, import.meta.url),
  };
}
