/**
 * The example page (examples/browser/) in real headless Chromium (Debian's, through Playwright):
 * served with COOP/COEP by scripts/browser-server.mjs, it runs the seed's examples on the worker
 * backend with every child a module Web Worker. Checks the page's own results (each example's
 * outcome, the crossings between workers, nothing left open or in the kernel) and saves a
 * screenshot under test-output/browser/.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startBrowserServer } from '../../scripts/browser-server.mjs';
import { launchChromium } from '../../scripts/chromium.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const screenshot = path.join(root, 'test-output', 'browser', 'example-page.png');

interface PageResult {
  readonly name: string;
  readonly status: 'pass' | 'fail';
  readonly error: string | null;
  readonly crossings: { from: string; to: string; what: string }[];
  readonly outcome: unknown;
}
interface PageState {
  readonly done: boolean;
  readonly crossOriginIsolated: boolean;
  readonly results: PageResult[];
  readonly error: string | null;
  readonly openObjects: string[];
  readonly kernelObjects: string[];
}

describe('example page in chromium', () => {
  it('chromium: runs pipe, message queue, semaphore and shared memory in Web Workers and shows what crossed', { timeout: 120_000 }, async () => {
    const server = await startBrowserServer();
    onTestFinished(() => server.close());
    const browser = await launchChromium();
    onTestFinished(() => browser.close());
    const page = await browser.newPage({ viewport: { width: 1150, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${server.url}/examples/browser/index.html`);
    await page.waitForFunction(() => (globalThis as unknown as { ipcxDemo?: { done: boolean } }).ipcxDemo?.done === true, undefined, { timeout: 100_000 });
    const state = (await page.evaluate(() => (globalThis as unknown as { ipcxDemo: unknown }).ipcxDemo)) as PageState;
    mkdirSync(path.dirname(screenshot), { recursive: true });
    await page.screenshot({ path: screenshot, fullPage: true });

    expect(errors).toEqual([]);
    expect(state.error).toBeNull();
    expect(state.crossOriginIsolated).toBe(true);
    expect(state.results.map((r) => [r.name, r.status, r.error])).toEqual([
      ['pipe', 'pass', null],
      ['message-queue', 'pass', null],
      ['semaphore', 'pass', null],
      ['shared-memory', 'pass', null],
    ]);
    const byName = new Map(state.results.map((r) => [r.name, r]));
    // The same outcomes the demo checks in Node.
    expect(byName.get('pipe')!.outcome).toEqual([0, 1, 2, 3, 4]);
    expect(byName.get('semaphore')!.outcome).toEqual({ acquired: 5, atMost: 3, finalValue: 3 });
    expect(byName.get('shared-memory')!.outcome).toHaveLength(10);
    // The page is pid 1; children are other workers, named by pid in every crossing.
    expect(byName.get('pipe')!.crossings[0]).toMatchObject({ from: 'parent 1', to: expect.stringMatching(/^child \d+$/) });
    expect(byName.get('pipe')!.crossings[0]!.to).not.toBe('child 1');
    for (const result of state.results) expect(result.crossings.length).toBeGreaterThan(0);
    // Shown: a row per crossing, and the timeline.
    expect(await page.locator('#crossings tbody tr').count()).toBe(state.results.reduce((n, r) => n + r.crossings.length, 0));
    expect(await page.locator('#timeline svg line[marker-end]').count()).toBe(state.results.reduce((n, r) => n + r.crossings.length, 0));
    expect(await page.locator('#status').textContent()).toBe('all 4 examples passed');
    expect(state.openObjects).toEqual([]);
    expect(state.kernelObjects).toEqual([]);
  });

  it('chromium: a page that is not cross-origin isolated gets an error naming the missing headers', { timeout: 60_000 }, async () => {
    const server = await startBrowserServer({ isolate: false });
    onTestFinished(() => server.close());
    const browser = await launchChromium();
    onTestFinished(() => browser.close());
    const page = await browser.newPage();
    await page.goto(`${server.url}/examples/browser/index.html`);
    await page.waitForFunction(() => (globalThis as unknown as { ipcxDemo?: { done: boolean } }).ipcxDemo?.done === true, undefined, { timeout: 30_000 });
    const state = (await page.evaluate(() => (globalThis as unknown as { ipcxDemo: unknown }).ipcxDemo)) as PageState;
    expect(state.crossOriginIsolated).toBe(false);
    expect(state.error).toMatch(/Cross-Origin-Opener-Policy: same-origin.*Cross-Origin-Embedder-Policy: require-corp/);
  });

  it('chromium: the worker package README\'s first example runs in a page as written', { timeout: 60_000 }, async () => {
    const readme = readFileSync(path.join(root, 'packages/adapter-worker/README.md'), 'utf8');
    const first = /```ts\n([\s\S]*?)```/.exec(readme)![1]!;
    const server = await startBrowserServer();
    onTestFinished(() => server.close());
    const browser = await launchChromium();
    onTestFinished(() => browser.close());
    const page = await browser.newPage();
    const logged: string[] = [];
    const errors: string[] = [];
    page.on('console', (message) => logged.push(message.text()));
    page.on('pageerror', (error) => errors.push(error.message));
    // A plain page with an import map for the two packages, cross-origin isolated by the server.
    await page.goto(`${server.url}/examples/browser/blank.html`);
    await page.addScriptTag({ type: 'module', content: `${first}\nglobalThis.readmeDone = true;` });
    await page.waitForFunction(() => (globalThis as { readmeDone?: boolean }).readmeDone === true || false, undefined, { timeout: 30_000 }).catch(() => {});
    expect(errors).toEqual([]);
    expect(logged).toContain('hello from the emulated kernel');
  });
});

