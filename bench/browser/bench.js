// The browser bench page: ipcx's worker backend between two module Web Workers (a pipe ping-pong
// and a System V semaphore ping-pong) against postMessage between two Web Workers over a
// MessagePort, all in this one page run. `?roundTrips=N&runs=M&warmUp=W`: before the M measured runs
// of N round trips, one warm-up run of W round trips (default N), the same for the three cases.
// The results are left in `window.ipcxBench` for `npm run bench -- --browser`.
import { createWorkerBackend } from '@ipcx/adapter-worker';

const query = new URLSearchParams(location.search);
const roundTrips = Number(query.get('roundTrips') ?? 20000);
const runs = Number(query.get('runs') ?? 7);
const warmUp = Number(query.get('warmUp') ?? roundTrips);
const state = { done: false, error: null, roundTrips, runs, results: [] };
window.ipcxBench = state;
const child = new URL('./ipcx-child.js', import.meta.url);

function summarize(name, values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  const result = { name, unit: 'us', median, min: sorted[0], max: sorted[sorted.length - 1], runs: values.length };
  state.results.push(result);
  const row = document.querySelector('#results tbody').insertRow();
  for (const text of [name, median.toFixed(2), result.min.toFixed(2), result.max.toFixed(2), 'µs']) row.insertCell().textContent = text;
}

async function report(reader) {
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of reader) text += decoder.decode(chunk, { stream: true });
  return JSON.parse(text);
}

async function pipePingpong(ipc) {
  const [toEchoReader, toEcho] = await ipc.pipes.create();
  const [fromEcho, fromEchoWriter] = await ipc.pipes.create();
  const [reportReader, reportWriter] = await ipc.pipes.create();
  const echo = await ipc.processes.spawn(child, { args: ['pipe-echo', toEchoReader, fromEchoWriter] });
  const pinger = await ipc.processes.spawn(child, { args: ['pipe-pinger', toEcho, fromEcho, roundTrips, runs, warmUp, reportWriter] });
  for (const end of [toEchoReader, fromEchoWriter, toEcho, fromEcho, reportWriter]) await end.close();
  const times = await report(reportReader);
  await reportReader.close();
  for (const worker of [pinger, echo]) {
    const status = await worker.exited;
    if (status.code !== 0) throw new Error(`a pipe bench worker ended with ${JSON.stringify(status)}`);
  }
  summarize('browser.pipe.pingpong', times);
}

async function semPingpong(ipc) {
  const set = await ipc.semaphores.open('private', { size: 2 });
  const [reportReader, reportWriter] = await ipc.pipes.create();
  try {
    const echo = await ipc.processes.spawn(child, { args: ['sem-echo', set, warmUp + roundTrips * runs] });
    const pinger = await ipc.processes.spawn(child, { args: ['sem-pinger', set, roundTrips, runs, warmUp, reportWriter] });
    await reportWriter.close();
    const times = await report(reportReader);
    for (const worker of [pinger, echo]) {
      const status = await worker.exited;
      if (status.code !== 0) throw new Error(`a semaphore bench worker ended with ${JSON.stringify(status)}`);
    }
    summarize('browser.sysv-sem.pingpong', times);
  } finally {
    await reportReader.close();
    await set.remove();
    await set.close();
  }
}

async function messagePortPingpong() {
  const { port1, port2 } = new MessageChannel();
  const echo = new Worker(new URL('./port-worker.js', import.meta.url));
  const pinger = new Worker(new URL('./port-worker.js', import.meta.url));
  try {
    echo.postMessage({ role: 'echo', port: port1 }, [port1]);
    const times = await new Promise((resolve, reject) => {
      pinger.onmessage = ({ data }) => resolve(data);
      pinger.onerror = (event) => reject(new Error(event.message));
      pinger.postMessage({ role: 'pinger', port: port2, roundTrips, runs, warmUp }, [port2]);
    });
    summarize('browser.peer.messageport.pingpong', times);
  } finally {
    echo.terminate();
    pinger.terminate();
  }
}

try {
  const ipc = createWorkerBackend();
  await pipePingpong(ipc);
  await semPingpong(ipc);
  await messagePortPingpong();
  document.getElementById('status').textContent = `done: ${roundTrips} round trips per run, ${runs} runs after a warm-up`;
} catch (error) {
  state.error = error instanceof Error ? error.stack ?? error.message : String(error);
  document.getElementById('status').textContent = `failed: ${state.error}`;
} finally {
  state.done = true;
}
