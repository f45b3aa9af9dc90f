// PLACEHOLDER until this suite is written.
import type { SuiteContext } from '../context.js';

export function fifoSuite(_context: SuiteContext): void {}
