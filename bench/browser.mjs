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

/** Runs the page; resolves with `{ results, userAgent }` (results as bench/run.mjs records them). */
export async function runBrowserBench({ roundTrips, runs }) {
  const server = await startBrowserServer({ index: '/bench/browser/index.html' });
  let browser;
  try {
    browser = await launchChromium();
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${server.url}/bench/browser/index.html?roundTrips=${roundTrips}&runs=${runs}`);
    await page.waitForFunction(() => window.ipcxBench?.done === true, undefined, { timeout: 600_000, polling: 500 });
    const state = await page.evaluate(() => window.ipcxBench);
    if (state.error || errors.length > 0) throw new Error(`the browser bench page failed: ${state.error ?? errors.join('; ')}`);
    return { results: state.results, userAgent: await page.evaluate(() => navigator.userAgent) };
  } finally {
    await browser?.close();
    await server.close();
  }
}
