// PLACEHOLDER until this suite is written.
import type { SuiteContext } from '../context.js';

export function processSuite(_context: SuiteContext): void {}
