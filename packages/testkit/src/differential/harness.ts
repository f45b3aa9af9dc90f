/**
 * The engine of the differential tests: one random sequence of operations runs step by step on a
 * reference backend (normally native: the kernel is the oracle) and on a candidate, and every step
 * must give the same result or the same error. fast-check generates the sequences and shrinks a
 * failing one to a short sequence that is printed with the first step where the backends differ.
 *
 * Everything is sequential: each model uses only forms that cannot wait (`nowait`), so one step
 * completes before the next starts and the two backends see exactly the same history.
 */
import fc from 'fast-check';
import type { IpcBackend, PrimitiveName } from '@ipcx/core';

/**
 * One operation of a sequence. `toString()` is what a reader sees in a counterexample, written as
 * the call it makes, e.g. `receive({ type: -3, noError: true, nowait: true })`.
 */
export interface Step<S> {
  /** Runs the operation on one backend's objects; the value it resolves with is compared. */
  run(subject: S): Promise<unknown>;
  /** The call, as code. */
  toString(): string;
}

/** What a primitive contributes: how to make and dispose of its objects, and its operations. */
export interface DifferentialModel<S> {
  /** The primitive both backends must declare, else the test is skipped. */
  readonly primitive: PrimitiveName;
  /** Test name, e.g. `'System V message queue'`. */
  readonly title: string;
  /** Fresh objects for one sequence (each sequence gets its own, on each backend). */
  create(backend: IpcBackend): Promise<S>;
  /** Removes and closes what {@link create} made, whatever the sequence did to it. Must not throw for a removed object. */
  dispose(subject: S): Promise<void>;
  /** The generator of one step. */
  step(): fc.Arbitrary<Step<S>>;
  /** Observations run after every sequence (they are part of the printed sequence when they differ). */
  readonly finalSteps: readonly Step<S>[];
}

/** Options of {@link checkDifferential} (see {@link registerDifferential} for defaults). */
export interface CheckOptions {
  /** The oracle. */
  readonly reference: IpcBackend;
  /** The backend under test. */
  readonly candidate: IpcBackend;
  /** Sequences to generate. */
  readonly runs: number;
  /** fast-check seed: the same seed generates the same sequences. */
  readonly seed: number;
  /** fast-check replay path (printed with a failure) to rerun exactly the failing case. */
  readonly path?: string;
  /** Longest sequence (default 30 steps). */
  readonly maxSteps?: number;
}

/**
 * How often each kind of outcome was seen on the reference, by operation name and result
 * (`'send ok'`, `'receive ENOMSG'`, `'operate ERANGE'`): shows (and lets a test assert) that the
 * generators reach the cases that matter.
 */
export type Coverage = Map<string, number>;

/** Sequences of a model up to `maxSteps` long. */
export function sequences<S>(model: DifferentialModel<S>, maxSteps = 30): fc.Arbitrary<Step<S>[]> {
  return fc.array(model.step(), { minLength: 1, maxLength: maxSteps });
}

/**
 * A step's outcome as text: results and errors are compared by this text, so it holds everything
 * that must agree (all payload bytes, through a hash when long) and nothing that may not (error
 * messages of the system, times, pids).
 */
export function describeOutcome(outcome: { value: unknown } | { error: unknown }): string {
  if ('error' in outcome) return `throws ${describeError(outcome.error)}`;
  return `→ ${describeValue(outcome.value)}`;
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    // IpcError and AbortError: the code is the contract. TypeError/RangeError: core's shared
    // validators give the same message on every backend, so the message is compared too.
    if (error.name === 'IpcError' || error.name === 'AbortError') return `${error.name} ${String(code)}`;
    return `${error.name}: ${error.message}`;
  }
  return `non-error ${String(error)}`;
}

/** Bytes shown in full up to this length; longer ones as length, first bytes and a hash. */
const SHOWN_BYTES = 16;

function describeValue(value: unknown): string {
  if (value instanceof Uint8Array) {
    const hex = Buffer.from(value.buffer, value.byteOffset, Math.min(value.length, SHOWN_BYTES)).toString('hex');
    if (value.length <= SHOWN_BYTES) return `<${value.length} bytes${value.length > 0 ? ` ${hex}` : ''}>`;
    return `<${value.length} bytes ${hex}… fnv1a ${fnv1a(value).toString(16).padStart(8, '0')}>`;
  }
  if (Array.isArray(value)) return `[${value.map(describeValue).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    const fields = Object.entries(value).map(([key, field]) => `${key}: ${describeValue(field)}`);
    return `{ ${fields.join(', ')} }`;
  }
  return value === undefined ? 'undefined' : JSON.stringify(value);
}

/** FNV-1a of every byte: two payloads that differ anywhere give different text (with near certainty). */
function fnv1a(bytes: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (const byte of bytes) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash;
}

async function outcomeOf<S>(step: Step<S>, subject: S): Promise<string> {
  try {
    return describeOutcome({ value: await step.run(subject) });
  } catch (error) {
    return describeOutcome({ error });
  }
}

/** `'ok'`, or the error's code or class. */
function outcomeKind(outcome: string): string {
  if (outcome.startsWith('→')) return 'ok';
  return outcome.replace(/^throws (IpcError |AbortError )?/, '').replace(/:.*$/s, '');
}

/** The first step where the two backends disagree, with what each gave. */
export class Difference extends Error {
  constructor(
    readonly steps: readonly string[],
    readonly index: number,
    readonly reference: string,
    readonly candidate: string,
    names: { reference: string; candidate: string },
  ) {
    const listing = steps.map((step, i) => `  ${String(i + 1).padStart(2)}. ${step}${i === index ? '   <-- first difference' : ''}`);
    super(
      [
        `the backends differ at step ${index + 1}: ${steps[index]}`,
        `  ${names.reference} (reference): ${reference}`,
        `  ${names.candidate} (candidate): ${candidate}`,
        'sequence:',
        ...listing,
      ].join('\n'),
    );
    this.name = 'Difference';
  }
}

/**
 * Runs one sequence (then the model's final observations) on fresh objects of both backends and
 * throws a {@link Difference} at the first step whose outcomes differ. Objects are disposed of
 * whatever happens.
 */
export async function runSequence<S>(model: DifferentialModel<S>, reference: IpcBackend, candidate: IpcBackend, steps: readonly Step<S>[], coverage?: Coverage): Promise<void> {
  const all = [...steps, ...model.finalSteps];
  const names = all.map((step, i) => (i < steps.length ? String(step) : `${String(step)}   (final check)`));
  const referenceSubject = await model.create(reference);
  try {
    const candidateSubject = await model.create(candidate);
    try {
      for (const [index, step] of all.entries()) {
        const expected = await outcomeOf(step, referenceSubject);
        const actual = await outcomeOf(step, candidateSubject);
        if (coverage !== undefined && index < steps.length) {
          const key = `${String(step).replace(/\(.*$/s, '')} ${outcomeKind(expected)}`;
          coverage.set(key, (coverage.get(key) ?? 0) + 1);
        }
        if (expected !== actual) {
          throw new Difference(names.slice(0, index + 1), index, expected, actual, { reference: reference.name, candidate: candidate.name });
        }
      }
    } finally {
      await model.dispose(candidateSubject);
    }
  } finally {
    await model.dispose(referenceSubject);
  }
}

/**
 * Generates `runs` sequences of `model` and runs each on both backends. Resolves with the
 * reference's {@link Coverage} when all agree;
 * otherwise rejects with an Error that shows the shrunk sequence, the first differing step with
 * both outcomes, and how to replay it (seed and path).
 */
export async function checkDifferential<S>(model: DifferentialModel<S>, options: CheckOptions): Promise<Coverage> {
  const { reference, candidate, runs, seed } = options;
  const coverage: Coverage = new Map();
  const property = fc.asyncProperty(sequences(model, options.maxSteps), (steps) => runSequence(model, reference, candidate, steps, coverage));
  const details = await fc.check(property, { numRuns: runs, seed, ...(options.path !== undefined ? { path: options.path } : {}) });
  if (!details.failed) return new Map([...coverage].sort(([a], [b]) => a.localeCompare(b)));
  const cause = details.errorInstance;
  const header = `${model.title}: ${candidate.name} differs from ${reference.name} ` +
    `(${details.numRuns} sequences, shrunk ${details.numShrinks} times; replay with IPCX_FC_SEED=${details.seed} IPCX_FC_PATH=${details.counterexamplePath ?? ''})`;
  // The difference is the whole message (no `cause`: runners would print it twice).
  if (cause instanceof Difference) throw new Error(`${header}\n${cause.message}`);
  // Not a difference: the harness or a backend failed outside a step (creating or disposing).
  const steps = details.counterexample?.[0] ?? [];
  const listing = steps.map((step, i) => `  ${String(i + 1).padStart(2)}. ${String(step)}`).join('\n');
  throw new Error(`${header}\nthe sequence failed outside its steps: ${describeError(cause)}\nsequence:\n${listing}`, { cause });
}
