// PLACEHOLDER until this suite is written.
import type { SuiteContext } from '../context.js';

export function semaphoreSuite(_context: SuiteContext): void {}
