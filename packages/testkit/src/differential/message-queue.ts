/**
 * Differential model of System V message queues: sends and receives by every type rule, around
 * the size limits (msgmax 8192, msg_qbytes) and after removal, all with `nowait` so that a
 * sequence never blocks. `stat()` compares only what both backends must agree on.
 */
import fc from 'fast-check';
import { IPC_PRIVATE, MSGMAX_DEFAULT, MSGMNB_DEFAULT, isIpcError, type IpcBackend, type MessageQueue, type MessageQueueReceiveOptions } from '@ipcx/core';
import type { DifferentialModel, Step } from './harness.js';
import { patternBytes, patternText, showOptions, step } from './steps.js';

/** One queue per backend and sequence. */
export interface QueueSubject {
  readonly queue: MessageQueue;
}

/** Payload sizes: empty, small, and around msgmax (8193 is refused with EINVAL). */
const size = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 40 }) },
  { weight: 2, arbitrary: fc.constantFrom(0, 1, 100, 4096, MSGMAX_DEFAULT - 1, MSGMAX_DEFAULT, MSGMAX_DEFAULT + 1) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: MSGMAX_DEFAULT }) },
);

const send = fc.record({ type: fc.integer({ min: 1, max: 5 }), size, fill: fc.nat(255) }).map(({ type, size, fill }): Step<QueueSubject> =>
  step(`send(${type}, ${patternText(size, fill)}, { nowait: true })`, ({ queue }) => queue.send(type, patternBytes(size, fill), { nowait: true })),
);

/** `receive` with each type rule (0, >0, <0, except), noError and maxBytes, always nowait. */
const receive = fc
  .record(
    {
      type: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 6 }), fc.integer({ min: -6, max: -1 })),
      except: fc.boolean(),
      noError: fc.boolean(),
      maxBytes: fc.constantFrom(0, 1, 10, 40, 4096, MSGMAX_DEFAULT - 1, MSGMAX_DEFAULT),
    },
    { requiredKeys: ['type'] },
  )
  .map(({ type, except, noError, maxBytes }): Step<QueueSubject> => {
    const options: MessageQueueReceiveOptions = {
      ...(type !== 0 ? { type } : {}),
      // MSG_EXCEPT with type <= 0 is a RangeError on both: generated only where it means something.
      ...(except === true && type > 0 ? { except } : {}),
      ...(noError === true ? { noError } : {}),
      ...(maxBytes !== undefined ? { maxBytes } : {}),
      nowait: true,
    };
    return step(`receive(${showOptions(options)})`, async ({ queue }) => {
      const message = await queue.receive(options);
      return { type: message.type, data: message.data };
    });
  });

/** The fields of `msgctl(IPC_STAT)` that a sequence determines (not pids or times). */
const stat: Step<QueueSubject> = step('stat()', async ({ queue }) => {
  const { messages, bytes, maxBytes } = await queue.stat();
  return { messages, bytes, maxBytes };
});

/**
 * `msg_qbytes` small enough to fill the queue (EAGAIN on send; it also caps the number of
 * messages), and back up to msgmnb. Above msgmnb needs privilege, which would make the outcome
 * depend on who runs the test, so it is not generated.
 */
const setMaxBytes = fc
  .oneof(fc.constantFrom(0, 1, 2, 3, 10, 100, MSGMAX_DEFAULT, MSGMNB_DEFAULT), fc.integer({ min: 0, max: MSGMNB_DEFAULT }))
  .map((maxBytes): Step<QueueSubject> => step(`set({ maxBytes: ${maxBytes} })`, ({ queue }) => queue.set({ maxBytes })));

const remove: Step<QueueSubject> = step('remove()', ({ queue }) => queue.remove());

/** The System V message queue model. */
export const messageQueueModel: DifferentialModel<QueueSubject> = {
  primitive: 'message-queue',
  title: 'System V message queue',
  async create(backend: IpcBackend) {
    return { queue: await backend.messageQueues.open(IPC_PRIVATE, { create: true }) };
  },
  async dispose({ queue }) {
    await queue.remove().catch((error: unknown) => {
      if (!isIpcError(error, 'EINVAL') && !isIpcError(error, 'EIDRM')) throw error;
    });
    await queue.close();
  },
  step: () =>
    fc.oneof(
      { weight: 6, arbitrary: send },
      { weight: 6, arbitrary: receive },
      { weight: 2, arbitrary: fc.constant(stat) },
      { weight: 2, arbitrary: setMaxBytes },
      { weight: 1, arbitrary: fc.constant(remove) },
    ),
  finalSteps: [stat],
};
