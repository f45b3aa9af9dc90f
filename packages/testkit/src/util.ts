/** Small helpers shared by the suites. */
import { it, onTestFinished } from 'vitest';
import type { ByteReader, IpcObject } from '@ipcx/core';
import type { SuiteContext } from './context.js';

/** Closes `object` when the current test finishes, passed or failed. Returns it. */
export function closeAfter<T extends IpcObject>(object: T): T {
  onTestFinished(async () => {
    await object.close();
  });
  return object;
}

/** Closes every object when the current test finishes. */
export function closeAllAfter<T extends readonly IpcObject[]>(objects: T): T {
  for (const object of objects) closeAfter(object);
  return objects;
}

/** Reads until EOF and returns all bytes. */
export async function readToEnd(reader: ByteReader): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of reader) chunks.push(chunk);
  return concatBytes(chunks);
}

/** The chunks' bytes one after another (host-neutral: no Buffer in a page). */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  const all = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.length;
  }
  return all;
}

/** UTF-8 text of bytes. */
export function text(bytes: Uint8Array | null): string | null {
  return bytes === null ? null : new TextDecoder().decode(bytes);
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Reads a byte stream as lines (children report through a pipe one line per event; lines shorter
 * than PIPE_BUF are written atomically, so lines of several children never mix).
 */
export class LineReader {
  private buffered = '';
  private readonly decoder = new TextDecoder();

  constructor(private readonly reader: ByteReader) {}

  /** The next line without its newline, or `null` at EOF. */
  async next(options?: { timeout?: number }): Promise<string | null> {
    for (;;) {
      const newline = this.buffered.indexOf('\n');
      if (newline >= 0) {
        const line = this.buffered.slice(0, newline);
        this.buffered = this.buffered.slice(newline + 1);
        return line;
      }
      const chunk = await this.reader.read(options);
      if (chunk === null) return this.buffered === '' ? null : this.take();
      this.buffered += this.decoder.decode(chunk, { stream: true });
    }
  }

  /** The next line parsed as JSON; throws at EOF. */
  async json<T = Record<string, unknown>>(options?: { timeout?: number }): Promise<T> {
    const line = await this.next(options);
    if (line === null) throw new Error('expected a JSON line, got EOF');
    return JSON.parse(line) as T;
  }

  /** Every remaining line until EOF. */
  async rest(): Promise<string[]> {
    const lines: string[] = [];
    for (let line = await this.next(); line !== null; line = await this.next()) lines.push(line);
    return lines;
  }

  private take(): string {
    const rest = this.buffered;
    this.buffered = '';
    return rest;
  }
}

/**
 * Polls `condition` every 5 ms until it is true (for state another process reaches, such as a
 * waiter being counted by the kernel). Fails after `timeoutMs` with `what` in the message.
 */
export async function waitUntil(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(5);
  }
}

const runAsVerdicts = new Map<string, string | undefined>();

/**
 * Why this machine cannot start an OS process as `user`, or `undefined` when it can. That needs
 * root, and the user must be able to execute this Node and read the kit's child modules: a Node
 * installed under /root (nvm) is out of reach of `nobody`. Tried once per user by starting this
 * Node as that user and reading a child module, so the verdict is the system's, not a guess.
 * Suites skip such tests with this reason in their title.
 */
export function cannotRunAs(user: { uid: number; gid: number }): string | undefined {
  const key = `${user.uid}:${user.gid}`;
  if (runAsVerdicts.has(key)) return runAsVerdicts.get(key);
  let verdict: string | undefined;
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    verdict = 'starting a process as another user needs root';
  } else {
    // process.getBuiltinModule keeps this file free of a static node: import.
    const { spawnSync } = process.getBuiltinModule('node:child_process') as typeof import('node:child_process');
    const childModule = new URL('./children/hold.js', import.meta.url).pathname;
    const probe = spawnSync(process.execPath, ['-e', "require('node:fs').accessSync(process.argv[1], require('node:fs').constants.R_OK)", childModule], {
      uid: user.uid, gid: user.gid, timeout: 20_000, encoding: 'utf8',
    });
    if (probe.status !== 0) {
      const why = probe.error?.message ?? (probe.stderr.split('\n').find((line) => /Error|denied/.test(line)) ?? `exit ${probe.status ?? probe.signal}`);
      verdict = `uid ${user.uid} cannot run ${process.execPath} with the kit's child modules (${why.trim()})`;
    }
  }
  runAsVerdicts.set(key, verdict);
  return verdict;
}

/** The unprivileged user that permission tests run their children as. */
export const NOBODY = { uid: 65534, gid: 65534 } as const;

/**
 * `it` for a test that runs a child as another user ({@link NOBODY}): skipped, with the reason in
 * its title, where this machine cannot start an OS process as that user (see {@link cannotRunAs});
 * an emulating backend, whose users are emulated, always runs it.
 */
export function itAsAnotherUser(context: SuiteContext, title: string, fn: () => Promise<void>): void {
  const why = context.hasFeature('os-processes') ? cannotRunAs(NOBODY) : undefined;
  if (why === undefined) it(title, fn);
  else it.skip(`${title} (skipped: ${why})`, fn);
}
