export { registerConformance } from './conformance.js';
export type { ConformanceOptions, SuiteContext } from './context.js';
export { pipeSuite } from './suites/pipe.js';
export { duplexPipeSuite } from './suites/duplex-pipe.js';
