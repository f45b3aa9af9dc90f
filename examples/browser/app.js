// The example page: runs the seed's examples (built in examples/dist) on the worker backend in this
// page, children as module Web Workers, and shows what crossed between which workers as a table
// and a timeline. The results are also left in `window.ipcxDemo` for the test that loads the page.
import { createWorkerBackend } from '@ipcx/adapter-worker';

const examples = [
  { name: 'pipe', module: '/examples/dist/pipe.js', title: 'pipe: parent -> child, EOF when the writer closes' },
  { name: 'message-queue', module: '/examples/dist/message-queue.js', title: 'System V message queue: a writer and a reader, typed messages' },
  { name: 'semaphore', module: '/examples/dist/semaphore.js', title: 'System V semaphore: Semaphore(3) shared by five children' },
  { name: 'shared-memory', module: '/examples/dist/shared-memory.js', title: 'shared memory: writer and reader ordered by semaphores' },
];

const state = { done: false, crossOriginIsolated: globalThis.crossOriginIsolated === true, results: [], error: null };
window.ipcxDemo = state;
document.getElementById('isolation').textContent = state.crossOriginIsolated
  ? 'This page is cross-origin isolated (COOP same-origin + COEP require-corp).'
  : 'This page is NOT cross-origin isolated: the worker backend cannot run here.';

const cell = (row, text, className) => {
  const td = row.insertCell();
  td.textContent = text;
  if (className) td.className = className;
  return td;
};

async function run() {
  const backend = createWorkerBackend();
  const origin = performance.now();
  let counter = 0;
  for (const example of examples) {
    const started = performance.now() - origin;
    const result = { name: example.name, title: example.title, status: 'fail', started, ended: started, crossings: [], outcome: null, error: null };
    try {
      const { main } = await import(example.module);
      const { crossings, outcome } = await main(backend, {
        tempDir: '/tmp/ipcx-page',
        uniqueName: (label) => `/ipcx-page-${++counter}-${label}`,
      });
      Object.assign(result, { status: 'pass', crossings, outcome });
    } catch (error) {
      result.error = error instanceof Error ? `${error.message}` : String(error);
    }
    result.ended = performance.now() - origin;
    state.results.push(result);
    render();
  }
  state.openObjects = backend.diagnostics.openObjects();
  state.kernelObjects = await backend.diagnostics.kernelObjects();
}

function render() {
  const exampleBody = document.querySelector('#examples tbody');
  const crossingBody = document.querySelector('#crossings tbody');
  exampleBody.replaceChildren();
  crossingBody.replaceChildren();
  let n = 0;
  for (const result of state.results) {
    const row = exampleBody.insertRow();
    cell(row, result.name);
    cell(row, result.status === 'pass' ? 'pass' : `FAIL: ${result.error}`, result.status);
    cell(row, `${(result.ended - result.started).toFixed(0)} ms`);
    cell(row, result.title);
    for (const crossing of result.crossings) {
      const line = crossingBody.insertRow();
      cell(line, String(++n));
      cell(line, result.name);
      cell(line, crossing.from);
      cell(line, crossing.to);
      cell(line, crossing.what);
    }
  }
  drawTimeline();
}

/** One lane per participant ("parent 1", "child 2", ...); per example a band over its time span and its crossings as arrows between lanes. */
function drawTimeline() {
  const results = state.results;
  const lanes = [];
  for (const result of results) for (const { from, to } of result.crossings) for (const who of [from, to]) if (!lanes.includes(who)) lanes.push(who);
  const end = Math.max(1, ...results.map((r) => r.ended));
  const left = 150;
  const width = 900;
  const laneHeight = 26;
  const top = 30;
  const height = top + lanes.length * laneHeight + 30;
  const x = (ms) => left + ((width - left - 20) * ms) / end;
  const y = (who) => top + lanes.indexOf(who) * laneHeight + laneHeight / 2;
  const colors = ['#3867d6', '#20bf6b', '#eb3b5a', '#f7b731', '#8854d0'];
  let svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="timeline">`;
  svg += '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#333"/></marker></defs>';
  lanes.forEach((who, i) => {
    svg += `<text x="4" y="${top + i * laneHeight + laneHeight / 2 + 4}">${escape(who)}</text>`;
    svg += `<line x1="${left}" x2="${width - 10}" y1="${y(who)}" y2="${y(who)}" stroke="#d5d9e2"/>`;
  });
  results.forEach((result, i) => {
    const color = colors[i % colors.length];
    const x0 = x(result.started);
    const x1 = Math.max(x0 + 8, x(result.ended));
    svg += `<rect x="${x0}" y="${top - 22}" width="${x1 - x0}" height="14" fill="${color}" opacity="0.85"><title>${escape(result.name)}</title></rect>`;
    svg += `<text x="${x0 + 3}" y="${top - 11}" fill="#fff">${escape(result.name)}</text>`;
    const step = (x1 - x0) / (result.crossings.length + 1);
    result.crossings.forEach((crossing, k) => {
      const cx = x0 + step * (k + 1);
      svg += `<line x1="${cx}" x2="${cx}" y1="${y(crossing.from)}" y2="${y(crossing.to)}" stroke="${color}" stroke-width="2" marker-end="url(#arrow)"><title>${escape(crossing.what)}</title></line>`;
      svg += `<circle cx="${cx}" cy="${y(crossing.from)}" r="3.5" fill="${color}"/>`;
    });
  });
  svg += `<text x="${left}" y="${height - 8}" fill="#5b6478">0 ms</text><text x="${width - 70}" y="${height - 8}" fill="#5b6478">${end.toFixed(0)} ms</text>`;
  svg += '</svg>';
  document.getElementById('timeline').innerHTML = svg;
}

function escape(text) {
  return String(text).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
}

try {
  await run();
  const failed = state.results.filter((r) => r.status !== 'pass').length;
  document.getElementById('status').textContent = failed === 0 ? `all ${state.results.length} examples passed` : `${failed} example(s) failed`;
} catch (error) {
  state.error = error instanceof Error ? error.message : String(error);
  document.getElementById('status').textContent = `failed: ${state.error}`;
} finally {
  state.done = true;
}
