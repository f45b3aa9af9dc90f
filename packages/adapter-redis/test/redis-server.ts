/** Typed access to scripts/redis.mjs for tests that start their own servers. */
// @ts-expect-error: a plain .mjs script shared with the command line, without type declarations.
import * as script from '../../../scripts/redis.mjs';

/** A running redis-server started by the test. */
export interface TestServer {
  readonly port: number;
  readonly dir: string;
  readonly pid: number;
  readonly cli: string;
  stop(options?: { keepDir?: boolean }): Promise<void>;
}

/** A three-master cluster started by the test. */
export interface TestCluster {
  readonly ports: number[];
  stop(): Promise<void>;
}

export const startRedis = script.startRedis as (options?: { extra?: string[]; dir?: string; port?: number; pingArgs?: string[] }) => Promise<TestServer>;
export const startCluster = script.startCluster as () => Promise<TestCluster>;
export const freePort = script.freePort as () => Promise<number>;
