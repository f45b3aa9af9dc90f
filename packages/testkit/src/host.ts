/**
 * What the suites need to know about the host that runs them: Node (both backends) or a browser
 * page (the worker backend in Chromium). Suites import `node:` modules only for host-interop and
 * OS-process cases, which a browser run skips; these are the few facts that cases running on both
 * hosts compare with.
 */
interface NodeProcessLike {
  readonly pid: number;
  readonly versions?: { readonly node?: string };
  getuid?(): number;
  getgid?(): number;
  cpuUsage?(previous?: { user: number; system: number }): { user: number; system: number };
}

const nodeProcess = (globalThis as { process?: NodeProcessLike }).process;

/**
 * True when the suites run in Node (false in a browser page). Node's `process` is the only one
 * whose tag is `[object process]`; a test runner's stand-in `process` in a page is a plain object.
 */
export const onNode = Object.prototype.toString.call(nodeProcess) === '[object process]';

/** This process's pid: Node's, or 1 in a page (the pid the worker backend gives a page's main thread). */
export const hostPid: number = onNode ? nodeProcess!.pid : 1;

/** This process's uid and gid: Node's, or 0 in a page (no OS user: the worker backend's first thread acts as root). */
export const hostUid: number = onNode ? nodeProcess!.getuid!() : 0;
export const hostGid: number = onNode ? nodeProcess!.getgid!() : 0;

/** True when the process runs as a user other than root (always false in a page: no OS user). */
export const notRoot: boolean = onNode && typeof nodeProcess!.getuid === 'function' && nodeProcess!.getuid() !== 0;

interface NodeFs {
  existsSync(path: string): boolean;
  chmodSync(path: string, mode: number): void;
  rmSync(path: string, options: { force: boolean; recursive?: boolean }): void;
  promises: { readFile(path: string, encoding: 'utf8'): Promise<string>; writeFile(path: string, data: string): Promise<void>; rm(path: string, options: { force: boolean }): Promise<void> };
}
interface NodeUrl {
  fileURLToPath(url: string | URL): string;
}

// Node's modules without an import statement, so that a page never loads one.
const builtin = <T>(id: string): T | undefined =>
  onNode ? (nodeProcess as unknown as { getBuiltinModule(id: string): T }).getBuiltinModule(id) : undefined;
const fs = builtin<NodeFs>('node:fs');
const url = builtin<NodeUrl>('node:url');

/** True if `path` exists on the host's disk (never, in a page: its paths live in the emulated kernel). */
export function existsOnDisk(path: string): boolean {
  return fs !== undefined && fs.existsSync(path);
}

/** Removes `path` from the host's disk if it is there (nothing to do in a page). */
export function removeFromDisk(path: string): void {
  fs?.rmSync(path, { force: true });
}

/**
 * Sets the mode of the folder that holds `path` on the host's disk (so that another user can reach
 * a FIFO or socket file in it). Nothing to do in a page: its paths live in the emulated kernel.
 */
export function chmodParentOnDisk(path: string, mode: number): void {
  fs?.chmodSync(path.slice(0, path.lastIndexOf('/')) || '/', mode);
}

/**
 * Writes a small file for `ftok` to examine. In a page there is no disk and the worker backend's
 * `ftok` derives the key from the path alone, so nothing is written.
 */
export async function writeKeyFile(path: string, text: string): Promise<void> {
  await fs?.promises.writeFile(path, text);
}

/** Removes a file written by {@link writeKeyFile}. */
export async function removeKeyFile(path: string): Promise<void> {
  await fs?.promises.rm(path, { force: true });
}

/**
 * The text of a module's own source, as host I/O that must still complete while the backend has
 * many waits pending: a file read (libuv's pool) in Node, a fetch in a page.
 */
export async function readOwnSource(moduleUrl: string): Promise<string> {
  if (fs !== undefined && url !== undefined) return fs.promises.readFile(url.fileURLToPath(moduleUrl), 'utf8');
  return (await fetch(moduleUrl)).text();
}
