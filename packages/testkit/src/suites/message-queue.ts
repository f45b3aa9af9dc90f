// PLACEHOLDER until this suite is written.
import type { SuiteContext } from '../context.js';

export function messageQueueSuite(_context: SuiteContext): void {}
