/**
 * Starts one real redis-server for the whole test run, on a free port in a temporary folder
 * (installing Debian's redis-server first when it is missing and the run is root with apt; failing
 * with the package's name otherwise), and stops it afterwards. Tests get the port with
 * `inject('redisPort')`.
 */
import type { TestProject } from 'vitest/node';
// @ts-expect-error: a plain .mjs script shared with the command line, without type declarations.
import { startRedis } from '../../../scripts/redis.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    redisPort: number;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = (await startRedis()) as { port: number; stop(): Promise<void> };
  project.provide('redisPort', server.port);
  return () => server.stop();
}
