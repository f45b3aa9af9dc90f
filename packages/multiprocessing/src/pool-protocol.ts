/**
 * What a pool and its workers say to each other over each worker's Connection, and how an error
 * crosses: class name, message, stack and code, rebuilt as the same built-in class where there
 * is one.
 */

/** A function a worker runs: an export of a module (functions themselves cannot cross processes). */
export interface TaskRef {
  /** The module's URL (`new URL('./tasks.js', import.meta.url)`) or absolute file URL string. */
  readonly module: string;
  /** The export's name. */
  readonly name: string;
}

/** Parent to worker: run `fn` on each item (spread as arguments when `star`). */
export interface RunMessage {
  readonly type: 'run';
  readonly id: number;
  readonly task: TaskRef;
  readonly items: readonly unknown[];
  readonly star: boolean;
}

/** Parent to worker: finish and exit. */
export interface StopMessage {
  readonly type: 'stop';
}

/** An error as it crosses from a worker. */
export interface ErrorRecord {
  readonly className: string;
  readonly message: string;
  readonly stack: string | undefined;
  readonly code: unknown;
}

/** Worker to parent. `retiring`: this was its last task (`maxtasksperchild`); it exits next. */
export type WorkerMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'done'; readonly id: number; readonly results: readonly unknown[]; readonly retiring: boolean }
  | { readonly type: 'failed'; readonly id: number; readonly error: ErrorRecord; readonly index: number; readonly retiring: boolean };

/** The record of a thrown value. */
export function errorRecord(error: unknown): ErrorRecord {
  if (error instanceof Error) {
    return { className: error.constructor?.name ?? error.name, message: error.message, stack: error.stack, code: (error as { code?: unknown }).code };
  }
  return { className: 'Error', message: `a non-Error was thrown: ${String(error)}`, stack: undefined, code: undefined };
}

const BUILT_IN: Record<string, ErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

/** The error of a record: the same built-in class where there is one, else an `Error` named after the class. */
export function errorFromRecord(record: ErrorRecord): Error {
  const Ctor = BUILT_IN[record.className] ?? Error;
  const error = new Ctor(record.message);
  if (!(record.className in BUILT_IN)) error.name = record.className;
  if (record.stack !== undefined) error.stack = record.stack;
  if (record.code !== undefined) (error as { code?: unknown }).code = record.code;
  return error;
}
