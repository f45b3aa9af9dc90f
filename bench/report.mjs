// `npm run bench -- --report DIR`: the run's JSON and one SVG chart per family of cases, plus a
// chart comparing the same cases idle and under load once DIR holds a run of each.
//
// A run is `{ meta: { date, cpus, cpuModel, node, load, busy, quick, runs }, results: [...] }` as
// bench/run.mjs writes it. `node bench/report.mjs DIR` renders the charts again from the JSON
// files already in DIR (e.g. after changing this file), without measuring anything.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderBarChart } from './chart.mjs';

/**
 * The hardware floor drawn on the ping-pong chart: a C program's round trip through a futex on
 * shared memory with ~5 µs of spinning first, measured on this machine kind (2 vCPU KVM guest)
 * with the same 64-byte exchange; see docs/BENCHMARKS.md, "The floor".
 */
const FLOOR = { label: 'C futex floor', value: 0.09 };

/** Cases of the value layer (@ipcx/multiprocessing) and the peers they are compared with. */
const VALUE_LAYER = /\.mp-|\.ring\.|python-mp-queue|python-mp-pool|piscina/;
const REDIS = /(^|\.)redis|bullmq/;

/**
 * The chart families: which cases each shows, on which axis. A peer may appear in more than one
 * family (process-send is the yardstick of both the kernel ping-pongs and the value layer's).
 * Cases whose unit no family takes get a chart of their own unit (see `familiesOf`).
 */
const FAMILIES = [
  {
    id: 'pingpong',
    title: 'Round trips of a small message (µs, lower is better)',
    log: true,
    floor: true,
    takes: (r) => r.unit === 'us' && !r.name.startsWith('browser.') && !REDIS.test(r.name) && !/\.mp-/.test(r.name),
  },
  {
    id: 'bulk',
    title: 'Bulk transfer, 64 KiB chunks (GB/s, higher is better)',
    log: false,
    takes: (r) => r.unit === 'GB/s' && !r.name.startsWith('browser.') && !REDIS.test(r.name),
  },
  {
    id: 'values-pingpong',
    title: 'A small object there and back through a queue (µs, lower is better)',
    log: true,
    takes: (r) => r.unit === 'us' && (VALUE_LAYER.test(r.name) || /process-send|messageport/.test(r.name)),
    needs: /\.mp-/,
  },
  {
    id: 'values-throughput',
    title: 'Values and tasks per second (higher is better)',
    log: true,
    takes: (r) => /\/s$/.test(r.unit) && r.unit !== 'GB/s' && VALUE_LAYER.test(r.name),
  },
  {
    id: 'redis',
    title: 'Queues on Redis (lower is better for µs, higher for values/s)',
    log: true,
    takes: (r) => REDIS.test(r.name),
  },
  {
    id: 'browser',
    title: 'In Chromium, between Web Workers (µs, lower is better)',
    log: true,
    takes: (r) => r.name.startsWith('browser.'),
  },
];

/** The families that have cases in `results`, each with its rows split by unit. */
export function familiesOf(results) {
  const charts = [];
  const taken = new Set();
  for (const family of FAMILIES) {
    const members = results.filter((r) => family.takes(r));
    if (members.length === 0 || (family.needs && !members.some((r) => family.needs.test(r.name)))) continue;
    members.forEach((r) => taken.add(r.name));
    for (const unit of [...new Set(members.map((r) => r.unit))]) {
      const id = members.every((r) => r.unit === unit) ? family.id : `${family.id}-${slug(unit)}`;
      charts.push({ ...family, id, unit, members: members.filter((r) => r.unit === unit) });
    }
  }
  // Anything no family took still gets drawn, one chart per unit.
  const rest = results.filter((r) => !taken.has(r.name));
  for (const unit of [...new Set(rest.map((r) => r.unit))]) {
    charts.push({ id: `other-${slug(unit)}`, title: `Other cases (${unit})`, log: true, unit, members: rest.filter((r) => r.unit === unit) });
  }
  return charts;
}

const slug = (unit) => unit.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').toLowerCase();

/** One line saying where and when a run was made. */
export function describeRun(meta) {
  const parts = [
    meta.date?.slice(0, 10),
    meta.cpus ? `${meta.cpus} vCPU${meta.cpuModel ? ` (${meta.cpuModel})` : ''}` : undefined,
    meta.node ? `Node ${meta.node}` : undefined,
    meta.load ? `load ${meta.load.map((l) => l.toFixed(2)).join(' ')} at start` : undefined,
    meta.busy ? `${meta.busy} busy loop${meta.busy > 1 ? 's' : ''}` : 'no busy loop',
    meta.quick ? 'quick run' : undefined,
    meta.runs ? `medians of ${meta.runs} runs, whiskers min–max` : undefined,
  ];
  return parts.filter(Boolean).join(', ');
}

/** Label of a run's load, for file names and legends: `idle` or `busy 2`. */
const loadName = (meta) => (meta.busy ? `busy ${meta.busy}` : 'idle');
const loadSlug = (meta) => (meta.busy ? `busy-${meta.busy}` : 'idle');

/**
 * The SVG charts of one run: `{ file name: svg text }`. File names carry the load when the run
 * was made under load (`pingpong-busy-1.svg`), so an idle and a loaded run share one folder.
 */
export function renderRun(run) {
  const files = {};
  const suffix = run.meta?.busy ? `-${loadSlug(run.meta)}` : '';
  for (const chart of familiesOf(run.results)) {
    files[`${chart.id}${suffix}.svg`] = renderBarChart({
      title: run.meta?.busy ? `${chart.title}, ${loadName(run.meta)}` : chart.title,
      subtitle: describeRun(run.meta ?? {}),
      unit: chart.unit,
      log: chart.log,
      references: chart.floor ? [FLOOR] : [],
      rows: chart.members.map((r) => ({ label: r.name, values: [r] })),
    });
  }
  return files;
}

/**
 * The comparison chart of an idle run and a run under load: the ping-pong cases measured in both,
 * two bars each. Returns `{ file name: svg text }` (empty when they share no such case).
 */
export function renderComparison(idle, busy) {
  const loaded = new Map(busy.results.map((r) => [r.name, r]));
  const rows = idle.results
    .filter((r) => r.unit === 'us' && loaded.has(r.name))
    .map((r) => ({ label: r.name, values: [r, loaded.get(r.name)] }));
  if (rows.length === 0) return {};
  return {
    [`compare-${loadSlug(busy.meta)}.svg`]: renderBarChart({
      title: `Round trips idle and with ${loadName(busy.meta)} (µs, lower is better)`,
      subtitle: [`idle: ${describeRun(idle.meta)}`, `${loadName(busy.meta)}: ${describeRun(busy.meta)}`],
      unit: 'us',
      log: true,
      series: ['idle', loadName(busy.meta)],
      rows,
    }),
  };
}

/** Reads every run JSON in `dir` (`bench-idle.json`, `bench-busy-N.json`). */
export function readRuns(dir) {
  return readdirSync(dir)
    .filter((f) => /^bench-(idle|busy-\d+)\.json$/.test(f))
    .sort()
    .map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')));
}

/**
 * Writes `run` into `dir` as `bench-idle.json` / `bench-busy-N.json`, then renders every chart
 * from the runs the folder holds. Returns the paths written.
 */
export function writeReport(dir, run) {
  mkdirSync(dir, { recursive: true });
  const written = [];
  if (run) {
    const file = path.join(dir, `bench-${loadSlug(run.meta)}.json`);
    writeFileSync(file, JSON.stringify(run, null, 2) + '\n');
    written.push(file);
  }
  const runs = readRuns(dir);
  const idle = runs.find((r) => !r.meta?.busy);
  const files = {};
  for (const r of runs) Object.assign(files, renderRun(r));
  if (idle) for (const r of runs.filter((x) => x.meta?.busy)) Object.assign(files, renderComparison(idle, r));
  for (const [name, svg] of Object.entries(files)) {
    writeFileSync(path.join(dir, name), svg);
    written.push(path.join(dir, name));
  }
  return written;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: node bench/report.mjs DIR   (renders the charts of the bench-*.json runs in DIR)');
    process.exit(2);
  }
  for (const file of writeReport(dir)) console.log(`wrote ${file}`);
}
