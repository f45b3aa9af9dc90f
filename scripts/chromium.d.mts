// Types of chromium.mjs for the TypeScript tests that import it.
import type { Browser } from 'playwright';
export declare const chromiumFlags: readonly string[];
export declare function findChromium(): string | undefined;
export declare function ensureChromium(): string;
export declare function launchChromium(): Promise<Browser>;
