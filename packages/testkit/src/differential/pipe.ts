/**
 * Differential model of anonymous pipes: `nowait` writes of sizes around PIPE_BUF and the
 * capacity (atomic or partial, EAGAIN), `nowait` reads of any size, capacity changes (rounding,
 * EBUSY), and closing either end (EOF after the buffered bytes, EPIPE, EBADF on the closed end).
 */
import fc from 'fast-check';
import { PIPE_BUF, type IpcBackend, type PipeReader, type PipeWriter } from '@ipcx/core';
import type { DifferentialModel, Step } from './harness.js';
import { patternBytes, patternText, step } from './steps.js';

/** One pipe per backend and sequence. */
export interface PipeSubject {
  readonly reader: PipeReader;
  readonly writer: PipeWriter;
}

const DEFAULT_CAPACITY = 65536;

/** Sizes at the edges that matter: PIPE_BUF (atomicity), the default capacity, and small ones. */
const writeSize = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 200 }) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(1, PIPE_BUF - 1, PIPE_BUF, PIPE_BUF + 1, 2 * PIPE_BUF, DEFAULT_CAPACITY - 1, DEFAULT_CAPACITY, DEFAULT_CAPACITY + 1),
  },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 2 * DEFAULT_CAPACITY }) },
);

const write = fc.record({ size: writeSize, fill: fc.nat(255) }).map(({ size, fill }): Step<PipeSubject> =>
  step(`writer.write(${patternText(size, fill)}, { nowait: true })`, ({ writer }) => writer.write(patternBytes(size, fill), { nowait: true })),
);

const read = fc
  .option(fc.oneof(fc.constantFrom(1, 100, PIPE_BUF - 1, PIPE_BUF, PIPE_BUF + 1, DEFAULT_CAPACITY, 2 * DEFAULT_CAPACITY), fc.integer({ min: 1, max: 2 * DEFAULT_CAPACITY })), {
    nil: undefined,
  })
  .map((maxBytes): Step<PipeSubject> => {
    const options = maxBytes === undefined ? { nowait: true } : { maxBytes, nowait: true };
    const text = maxBytes === undefined ? '{ nowait: true }' : `{ maxBytes: ${maxBytes}, nowait: true }`;
    return step(`reader.read(${text})`, ({ reader }) => reader.read(options));
  });

/** Either end may change the capacity; sizes below, at and above a page, and a shrink below what is buffered. */
const setCapacity = fc
  .record({ end: fc.constantFrom('reader', 'writer') as fc.Arbitrary<'reader' | 'writer'>, bytes: fc.constantFrom(1, 4095, 4096, 4097, 8192, 12288, 16384, 65536, 65537) })
  .map(({ end, bytes }): Step<PipeSubject> => step(`${end}.setCapacity(${bytes})`, (subject) => subject[end].setCapacity(bytes)));

const capacity = fc
  .constantFrom('reader', 'writer')
  .map((end): Step<PipeSubject> => step(`${end}.capacity()`, (subject) => subject[end as 'reader' | 'writer'].capacity()));

const close = fc
  .constantFrom('reader', 'writer')
  .map((end): Step<PipeSubject> => step(`${end}.close()`, (subject) => subject[end as 'reader' | 'writer'].close()));

/** Reads what is left (nowait, so EAGAIN while a writer is open, else the bytes and then EOF). */
const drain: Step<PipeSubject> = step('reader.read({ maxBytes: 1048576, nowait: true })', ({ reader }) => reader.read({ maxBytes: 1048576, nowait: true }));

/** The pipe model. */
export const pipeModel: DifferentialModel<PipeSubject> = {
  primitive: 'pipe',
  title: 'pipe',
  async create(backend: IpcBackend) {
    const [reader, writer] = await backend.pipes.create();
    return { reader, writer };
  },
  async dispose({ reader, writer }) {
    await reader.close();
    await writer.close();
  },
  step: () =>
    fc.oneof(
      { weight: 8, arbitrary: write },
      { weight: 6, arbitrary: read },
      { weight: 2, arbitrary: setCapacity },
      { weight: 1, arbitrary: capacity },
      { weight: 1, arbitrary: close },
    ),
  finalSteps: [drain],
};
