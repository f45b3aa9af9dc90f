/**
 * Differential model of System V semaphore sets (a set of 3): multi-operation `semop` lists with
 * small deltas and wait-for-zero, every operation `IPC_NOWAIT` (through the call's option or each
 * operation's own flag) so that nothing blocks, values set near 0 and near SEMVMX to reach EAGAIN
 * and ERANGE, lists longer than SEMOPM (E2BIG), SEM_UNDO adjustments, the semctl reads and writes,
 * and everything after removal.
 */
import fc from 'fast-check';
import { SEMOPM, SEMVMX, isIpcError, type IpcBackend, type SemaphoreOperation, type SemaphoreSet } from '@ipcx/core';
import type { DifferentialModel, Step } from './harness.js';
import { showOptions, step } from './steps.js';

/** One set per backend and sequence. */
export interface SemaphoreSubject {
  readonly set: SemaphoreSet;
}

/** Size of every generated set. */
const SIZE = 3;

const index = fc.integer({ min: 0, max: SIZE - 1 });
/** Values near both ends, where operations block (EAGAIN) or overflow (ERANGE). */
const value = fc.oneof(fc.integer({ min: 0, max: 4 }), fc.integer({ min: SEMVMX - 4, max: SEMVMX }));

const operation = fc.record(
  { index, delta: fc.integer({ min: -3, max: 3 }), undo: fc.constant(true) },
  { requiredKeys: ['index', 'delta'] },
);

/**
 * `operate` of 1..4 operations. Either the call's `{ nowait: true }`, or every operation carries
 * its own `nowait: true` (the per-operation IPC_NOWAIT path): both can only fail with EAGAIN.
 */
const operate = fc
  .record({ operations: fc.array(operation, { minLength: 1, maxLength: 4 }), perOperation: fc.boolean() })
  .map(({ operations, perOperation }): Step<SemaphoreSubject> => {
    const list: SemaphoreOperation[] = operations.map((op) => (perOperation ? { ...op, nowait: true } : { ...op }));
    const options = perOperation ? undefined : { nowait: true };
    const text = `operate([${list.map((op) => showOptions(op)).join(', ')}]${options ? `, ${showOptions(options)}` : ''})`;
    return step(text, ({ set }) => set.operate(list, options));
  });

/** A list one longer than SEMOPM: E2BIG, which the kernel checks before even looking up the set. */
const tooMany: Step<SemaphoreSubject> = step(`operate(${SEMOPM + 1} × { index: 0, delta: 0 }, { nowait: true })`, ({ set }) =>
  set.operate(Array.from({ length: SEMOPM + 1 }, () => ({ index: 0, delta: 0 })), { nowait: true }),
);

const setValue = fc
  .tuple(index, value)
  .map(([i, v]): Step<SemaphoreSubject> => step(`setValue(${i}, ${v})`, ({ set }) => set.setValue(i, v)));
const setValues = fc
  .array(value, { minLength: SIZE, maxLength: SIZE })
  .map((values): Step<SemaphoreSubject> => step(`setValues([${values.join(', ')}])`, ({ set }) => set.setValues(values)));
const values: Step<SemaphoreSubject> = step('values()', ({ set }) => set.values());
const valueOf = index.map((i): Step<SemaphoreSubject> => step(`value(${i})`, ({ set }) => set.value(i)));
/** Nobody waits in a sequential model: both must say 0 (and the same error once removed). */
const waiting = fc
  .tuple(index, fc.boolean())
  .map(([i, zero]): Step<SemaphoreSubject> =>
    zero ? step(`waitingForZero(${i})`, ({ set }) => set.waitingForZero(i)) : step(`waitingForIncrease(${i})`, ({ set }) => set.waitingForIncrease(i)),
  );
const remove: Step<SemaphoreSubject> = step('remove()', ({ set }) => set.remove());

/** The System V semaphore set model. */
export const semaphoreModel: DifferentialModel<SemaphoreSubject> = {
  primitive: 'semaphore',
  title: 'System V semaphore set',
  async create(backend: IpcBackend) {
    return { set: await backend.semaphores.open('private', { size: SIZE, create: true }) };
  },
  async dispose({ set }) {
    await set.remove().catch((error: unknown) => {
      if (!isIpcError(error, 'EINVAL') && !isIpcError(error, 'EIDRM')) throw error;
    });
    await set.close();
  },
  step: () =>
    fc.oneof(
      { weight: 8, arbitrary: operate },
      { weight: 3, arbitrary: setValue },
      { weight: 1, arbitrary: setValues },
      { weight: 2, arbitrary: fc.constant(values) },
      { weight: 1, arbitrary: valueOf },
      { weight: 1, arbitrary: waiting },
      { weight: 1, arbitrary: fc.constant(tooMany) },
      { weight: 1, arbitrary: fc.constant(remove) },
    ),
  finalSteps: [values],
};
