// PLACEHOLDER until this suite is written.
import type { SuiteContext } from '../context.js';

export function sharedMemorySuite(_context: SuiteContext): void {}
