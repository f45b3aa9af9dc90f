// Shared helpers of the benchmark harness: statistics, timing, and the payloads every case uses.

/** The ping-pong message: 64 bytes there and back. */
export const PING_BYTES = 64;
/** Bulk cases move data in chunks of this size. */
export const CHUNK_BYTES = 64 * 1024;

/** Median, min and max of a list of numbers. */
export function summarize(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1] };
}

/** Microseconds per round trip for `count` round trips that took `ns` nanoseconds. */
export const usPerRoundTrip = (ns, count) => Number(ns) / 1000 / count;

/** GB/s (10^9 bytes per second) for `bytes` moved in `ns` nanoseconds. */
export const gbPerSecond = (ns, bytes) => bytes / Number(ns);

/**
 * Reads exactly `bytes` bytes from `reader` into `buffer`, reused for every read (readInto: no
 * allocation per chunk); throws at an early EOF. The receiving loop of the bulk cases.
 */
export async function receiveBytes(reader, buffer, bytes) {
  for (let received = 0; received < bytes; ) {
    const limit = bytes - received;
    const n = await reader.readInto(limit < buffer.length ? buffer.subarray(0, limit) : buffer);
    if (n === 0) throw new Error(`bulk receive: EOF after ${received} of ${bytes} bytes`);
    received += n;
  }
}

/** Resolves with the first argument of the next `event` of `emitter` (rejects on 'error'). */
export function once(emitter, event) {
  return new Promise((resolve, reject) => {
    const onEvent = (value) => {
      emitter.off('error', onError);
      resolve(value);
    };
    const onError = (error) => {
      emitter.off(event, onEvent);
      reject(error);
    };
    emitter.once(event, onEvent);
    emitter.once('error', onError);
  });
}
