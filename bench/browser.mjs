// `npm run bench -- --browser`: the browser cases, in one run of bench/browser/index.html in
// headless Chromium (Debian's, scripts/chromium.mjs) served cross-origin isolated by
// scripts/browser-server.mjs: browser.pipe.pingpong and browser.sysv-sem.pingpong (ipcx's worker
// backend between two module Web Workers) against browser.peer.messageport.pingpong (postMessage
// between two Web Workers over a MessagePort).
import { startBrowserServer } from '../scripts/browser-server.mjs';
import { launchChromium } from '../scripts/chromium.mjs';

/** The targets: how many times faster than postMessage each ipcx case should be. */
export const BROWSER_TARGETS = [
  ['browser.pipe.pingpong', 'browser.peer.messageport.pingpong', 20],
  ['browser.sysv-sem.pingpong', 'browser.peer.messageport.pingpong', 20],
];

/**
 * Round trips of each case's warm-up run in a full page run (the same for all three cases). Until
 * each side has run the hot path some 40,000 times, V8 in Chromium runs it in its lower tiers: a
 * pipe write+read on one thread took 1.1-3 µs for the first ~35,000 iterations and 0.3-0.5 µs
 * after, a semaphore post+wait 2-4 µs then ~1.2 µs (docs/BENCHMARKS.md, "In a browser", eighth
 * session). With the warm-up of one 2,000-round-trip run, the measured runs were mostly that
 * lower tier. postMessage does not change with it (its path is the browser's own code).
 */
export const BROWSER_WARM_UP = 40_000;

/**
 * Runs the page; resolves with `{ results, userAgent }` (results as bench/run.mjs records them).
 * `warmUp`: round trips of the warm-up run before the `runs` measured ones (default `roundTrips`).
 */
export async function runBrowserBench({ roundTrips, runs, warmUp = roundTrips }) {
  const server = await startBrowserServer({ index: '/bench/browser/index.html' });
  let browser;
  try {
    browser = await launchChromium();
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${server.url}/bench/browser/index.html?roundTrips=${roundTrips}&runs=${runs}&warmUp=${warmUp}`);
    await page.waitForFunction(() => window.ipcxBench?.done === true, undefined, { timeout: 600_000, polling: 500 });
    const state = await page.evaluate(() => window.ipcxBench);
    if (state.error || errors.length > 0) throw new Error(`the browser bench page failed: ${state.error ?? errors.join('; ')}`);
    return { results: state.results, userAgent: await page.evaluate(() => navigator.userAgent) };
  } finally {
    await browser?.close();
    await server.close();
  }
}
