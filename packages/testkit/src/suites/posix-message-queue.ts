// PLACEHOLDER until this suite is written.
import type { SuiteContext } from '../context.js';

export function posixMessageQueueSuite(_context: SuiteContext): void {}
