/**
 * What every example module exports: `main(backend)` runs the parent side and returns what
 * crossed between the processes; the module's default export is the child side, started with
 * `backend.processes.spawn(import.meta.url, ...)`. Examples import only `@ipcx/core`.
 */
import type { IpcBackend } from '@ipcx/core';

/** This process's pid in the transcripts: Node's, or 1 in a browser page (the pid the worker backend gives a page). */
export const parentPid: number = (globalThis as { process?: { pid?: number } }).process?.pid ?? 1;

/** One line of an example's transcript: which process said or received what. */
export interface Crossing {
  /** Who sent it, e.g. `'parent 1234'`, `'child 1240'`, `'shell'`. */
  readonly from: string;
  /** Who received it. */
  readonly to: string;
  /** What crossed. */
  readonly what: string;
}

/** What an example reports. */
export interface ExampleResult {
  /** What crossed between which processes (pids differ from run to run). */
  readonly crossings: readonly Crossing[];
  /** What was received, without pids or paths: the demo checks every backend got the same. */
  readonly outcome: unknown;
}

/** An example's parent side. */
export type ExampleMain = (backend: IpcBackend, options: ExampleOptions) => Promise<ExampleResult>;

/** What the demo gives each example. */
export interface ExampleOptions {
  /** A private folder for paths (FIFOs, socket files); the demo checks it is empty afterwards. */
  readonly tempDir: string;
  /** A name unique to this run for POSIX objects, e.g. `/ipcx-demo-1234-queue`. */
  uniqueName(label: string): string;
}

/** Throws unless `actual` equals `expected` (examples check what they received). */
export function expectEqual<T>(actual: T, expected: T, what: string): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(`${what}: expected ${JSON.stringify(expected)}, received ${JSON.stringify(actual)}`);
  }
}

/** Newline-delimited JSON over a byte stream: the framing the examples use for messages. */
export function encodeLine(value: unknown): string {
  return JSON.stringify(value) + '\n';
}

/** Splits a stream of chunks into parsed JSON lines. */
export async function* lines(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<unknown> {
  const decoder = new TextDecoder();
  let pending = '';
  for await (const chunk of chunks) {
    pending += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      yield JSON.parse(pending.slice(0, newline));
      pending = pending.slice(newline + 1);
    }
  }
  if (pending.trim() !== '') yield JSON.parse(pending);
}
