/**
 * What the `node:` modules imported by the testkit's suites resolve to in the chromium project
 * (vitest.config.ts aliases them here). The suites use them only in host-interop and OS-process
 * cases (shell tools, /proc, temporary files on disk), which the worker backend does not declare
 * and so skips; Vite's own browser stand-in would throw already when a suite module imports a name.
 * Calling any of these in a page throws, so a case that does reach one fails loudly.
 */
function unavailable(name: string): (...args: unknown[]) => never {
  return () => {
    throw new Error(`${name} is a Node API: not available in a browser page`);
  };
}

export const execFile = unavailable('child_process.execFile');
export const execFileSync = unavailable('child_process.execFileSync');
export const spawn = unavailable('child_process.spawn');
export const existsSync = unavailable('fs.existsSync');
export const spawnSync = unavailable('child_process.spawnSync');
export const statSync = unavailable('fs.statSync');
export const mkdirSync = unavailable('fs.mkdirSync');
export const writeSync = unavailable('fs.writeSync');
export const openSync = unavailable('fs.openSync');
export const chmodSync = unavailable('fs.chmodSync');
export const chmod = unavailable('fs.promises.chmod');
export const dirname = unavailable('path.dirname');
export const mkdtempSync = unavailable('fs.mkdtempSync');
export const readdirSync = unavailable('fs.readdirSync');
export const readFileSync = unavailable('fs.readFileSync');
export const rmSync = unavailable('fs.rmSync');
export const writeFileSync = unavailable('fs.writeFileSync');
export const readFile = unavailable('fs.promises.readFile');
export const rm = unavailable('fs.promises.rm');
export const writeFile = unavailable('fs.promises.writeFile');
export const fileURLToPath = unavailable('url.fileURLToPath');
export const once = unavailable('events.once');
export const pipeline = unavailable('stream.promises.pipeline');
export const Readable = new Proxy(class {}, { get: (_target, name) => unavailable(`stream.Readable.${String(name)}`) });
// AbortSignal listener limits are a Node warning only: nothing to raise in a page.
export const setMaxListeners = (): void => {};
export const promisify = (fn: { name?: string }) => unavailable(`util.promisify(${fn.name ?? 'function'})`);

const module = new Proxy({}, { get: (_target, name) => unavailable(`node module member ${String(name)}`) });
export default module;
