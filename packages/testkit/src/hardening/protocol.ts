/** What the parent hands the fuzzing child (JSON in the `IPCX_HARDENING` environment variable). */
import type { Timing } from './runner.js';

/** Where the child finds the backend: a module plain Node can import, and the factory it exports. */
export interface BackendSpec {
  /** Absolute path or file URL of the backend's module (built JavaScript). */
  readonly module: string;
  /** Name of the exported function that returns the backend, e.g. `'createNativeBackend'`. */
  readonly export: string;
  /** Arguments for that function (plain data). */
  readonly args?: readonly unknown[];
}

/** System V ids, keys and POSIX names to remove after a run. */
export interface SweepList {
  readonly msg: readonly number[];
  readonly sem: readonly number[];
  readonly shm: readonly number[];
  readonly keys: readonly number[];
  readonly names: readonly string[];
}

/** The child's configuration. */
export interface ChildConfig {
  readonly mode: 'fuzz' | 'sweep';
  readonly backend: BackendSpec;
  readonly journal: string;
  readonly tempDir: string;
  /** Prefix of every POSIX and abstract name of the run. */
  readonly prefix: string;
  /** The run's System V keys (unsigned). */
  readonly keys: readonly number[];
  /** URL of the child module that `processes.spawn` runs. */
  readonly childEntry: string;
  readonly seed: number;
  readonly runs: number;
  /** A fast-check path to replay (`IPCX_FC_PATH`). */
  readonly path?: string;
  /** Run only this action of the scenario (and the closes before it). */
  readonly onlyAction?: number;
  /** Known-issue tags to leave out. */
  readonly exclude: readonly string[];
  /** Only these kinds (titles), when given. */
  readonly kinds?: readonly string[];
  /** Record every finding and go on, instead of stopping at the first and shrinking it. */
  readonly keepGoing: boolean;
  readonly maxActions: number;
  readonly timing: Timing;
  readonly sweep?: SweepList;
}
