// PLACEHOLDER until this suite is written.
import type { SuiteContext } from '../context.js';

export function posixSemaphoreSuite(_context: SuiteContext): void {}
