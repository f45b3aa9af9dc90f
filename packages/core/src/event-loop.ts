/**
 * Fairness for operations that complete at once.
 *
 * Both backends complete an operation on the calling thread when it can (bytes are there, the
 * semaphore is free): the promise is already resolved, and its continuation runs as a microtask.
 * A loop of such operations (a consumer slower than its producer, so there is always data) then
 * never gives the event loop a turn: timers, I/O callbacks and `'exit'` events wait until the loop
 * runs dry, which may be never. That would break the rule that IPC never blocks the event loop,
 * as surely as a blocking call.
 *
 * {@link completedNow} bounds it: the first immediate completion after an event-loop turn notes
 * the time and schedules one `setImmediate` that marks the next turn; once immediate completions
 * have gone on for more than {@link MAX_RUN_MS} without a turn, the next one resolves from a
 * macrotask instead (after the timers and I/O that were waiting). In a busy exchange that costs one
 * `setImmediate` per event-loop turn and one clock read per 64 completions.
 */

/** How long immediate completions may run without an event-loop turn (ms). */
export const MAX_RUN_MS = 10;
/** Completions between two looks at the clock. */
const COMPLETIONS_PER_CLOCK = 64;

let runStartedAt = 0;
let completions = 0;
let turnPending = false;
/**
 * A macrotask without setImmediate (a browser): a message to ourselves on a MessageChannel. Not
 * `setTimeout(0)`: browsers clamp nested timers to 4 ms, which would stall a busy exchange.
 */
function messageTask(): (callback: () => void) => void {
  const queue: (() => void)[] = [];
  const channel = new MessageChannel();
  (channel.port1 as unknown as { onmessage: () => void }).onmessage = () => queue.shift()?.();
  return (callback) => {
    queue.push(callback);
    channel.port2.postMessage(null);
  };
}

const schedule: (callback: () => void) => void =
  typeof setImmediate === 'function'
    ? (callback) => void setImmediate(callback)
    : typeof MessageChannel === 'function'
      ? messageTask()
      : (callback) => void setTimeout(callback, 0);

function turned(): void {
  turnPending = false;
  completions = 0;
}

/**
 * A promise of `value` for an operation that completed at once: resolved now, or, once immediate
 * completions have run for {@link MAX_RUN_MS} without an event-loop turn, after one.
 */
export function completedNow<T>(value: T): Promise<T> {
  if (!turnPending) {
    turnPending = true;
    runStartedAt = performance.now();
    schedule(turned);
  } else if (++completions % COMPLETIONS_PER_CLOCK === 0 && performance.now() - runStartedAt > MAX_RUN_MS) {
    return new Promise((resolve) => schedule(() => resolve(value)));
  }
  return Promise.resolve(value);
}
