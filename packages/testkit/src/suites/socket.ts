// PLACEHOLDER until this suite is written.
import type { SuiteContext } from '../context.js';

export function socketSuite(_context: SuiteContext): void {}
