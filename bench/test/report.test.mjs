// The bench report's charts, rendered from small recorded runs (no timing here: the figures are
// fixtures). Every case of a run must appear in a chart with its median as the bench prints it.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatValue } from '../chart.mjs';
import { formatDuration, Progress } from '../progress.mjs';
import { familiesOf, renderComparison, renderRun } from '../report.mjs';

const load = (name) => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
const idle = load('bench-idle.json');
const busy = load('bench-busy-1.json');

/** The `<g>` element drawn for one case in an SVG, or undefined. */
function caseGroup(svg, name) {
  const start = svg.indexOf(`<g data-case="${name}"`);
  return start < 0 ? undefined : svg.slice(start, svg.indexOf('</g>', start));
}

describe('bench report', () => {
  it('draws every case of a run, with its median, in the chart of its family', () => {
    const files = renderRun(idle);
    expect(Object.keys(files).sort()).toEqual(['bulk.svg', 'pingpong.svg']);
    for (const result of idle.results) {
      const file = result.unit === 'us' ? 'pingpong.svg' : 'bulk.svg';
      const group = caseGroup(files[file], result.name);
      expect(group, `${result.name} in ${file}`).toBeDefined();
      expect(group).toContain(`>${formatValue(result.median)}</text>`);
      expect(group).toContain(`data-value="${result.median}"`);
    }
    // Kinds are coloured apart: ipcx's backends and the peers.
    expect(caseGroup(files['pingpong.svg'], 'native.pipe.pingpong')).toContain('data-kind="native"');
    expect(caseGroup(files['pingpong.svg'], 'worker.pipe.pingpong')).toContain('data-kind="worker"');
    expect(caseGroup(files['pingpong.svg'], 'peer.messageport.pingpong')).toContain('data-kind="peer"');
    // The latency chart is on a log axis and says so; the run's machine, load and date are in it.
    expect(files['pingpong.svg']).toContain('(log scale)');
    expect(files['pingpong.svg']).toContain('load 0.33 0.63 0.95 at start');
    expect(files['pingpong.svg']).toContain('2026-11-25');
    expect(files['bulk.svg']).not.toContain('(log scale)');
  });

  it('names the charts of a loaded run after its load', () => {
    const files = renderRun(busy);
    expect(Object.keys(files)).toEqual(['pingpong-busy-1.svg']);
    expect(files['pingpong-busy-1.svg']).toContain('1 busy loop');
    for (const result of busy.results) expect(caseGroup(files['pingpong-busy-1.svg'], result.name)).toContain(`>${formatValue(result.median)}</text>`);
  });

  it('compares the cases measured both idle and under load, both values side by side', () => {
    const files = renderComparison(idle, busy);
    const svg = files['compare-busy-1.svg'];
    expect(svg).toBeDefined();
    const byName = new Map(idle.results.map((r) => [r.name, r]));
    for (const loaded of busy.results) {
      const group = caseGroup(svg, loaded.name);
      expect(group).toContain(`>${formatValue(byName.get(loaded.name).median)}</text>`);
      expect(group).toContain(`>${formatValue(loaded.median)}</text>`);
    }
    // A case measured only idle is not in the comparison.
    expect(caseGroup(svg, 'native.shm-futex.pingpong')).toBeUndefined();
  });

  it('gives the value layer and Redis cases charts of their own, split by unit', () => {
    const results = [
      { name: 'native.mp-queue.pingpong', unit: 'us', median: 3.2, min: 3, max: 4 },
      { name: 'peer.python-mp-queue.pingpong', unit: 'us', median: 101, min: 98, max: 107 },
      { name: 'native.mp-queue.throughput', unit: 'values/s', median: 1_250_000, min: 1_100_000, max: 1_300_000 },
      { name: 'redis.sysv-mq.pingpong', unit: 'us', median: 95, min: 90, max: 120 },
      { name: 'redis.sysv-mq.throughput', unit: 'values/s', median: 61_000, min: 60_000, max: 64_000 },
    ];
    const ids = familiesOf(results).map((c) => c.id);
    expect(ids).toEqual(['pingpong', 'values-pingpong', 'values-throughput', 'redis-us', 'redis-values-s']);
    const files = renderRun({ meta: { busy: 0 }, results });
    expect(caseGroup(files['values-throughput.svg'], 'native.mp-queue.throughput')).toContain('>1.25M</text>');
    expect(caseGroup(files['redis-values-s.svg'], 'redis.sysv-mq.throughput')).toContain('>61.0k</text>');
  });
});

describe('bench progress', () => {
  it('prints one plain line per case with an estimate of what is left when not on a terminal', () => {
    let text = '';
    const stream = { isTTY: false, write: (chunk) => { text += chunk; return true; } };
    const progress = new Progress(3, 2, stream);
    progress.startCase('a');
    progress.runDone(0);
    progress.runDone(1);
    progress.runDone(2);
    progress.startCase('b');
    const lines = text.trim().split('\n');
    expect(lines[0]).toBe('[1/3] a');
    expect(lines[1]).toMatch(/^\[2\/3\] b, about \d+s left$/);
    expect(text).not.toContain('\r');
  });

  it('rewrites a single line in place on a terminal', () => {
    let text = '';
    const stream = { isTTY: true, columns: 80, write: (chunk) => { text += chunk; return true; } };
    const progress = new Progress(1, 2, stream);
    progress.startCase('native.pipe.pingpong');
    progress.runDone(0);
    progress.finish();
    expect(text).toContain('\r\x1b[K[1/1] native.pipe.pingpong warm-up');
    expect(text).toContain('[1/1] native.pipe.pingpong run 1/2, about');
    expect(text.endsWith('\r\x1b[K')).toBe(true);
    expect(text).not.toContain('\n');
  });

  it('formats durations', () => {
    expect(formatDuration(42.4)).toBe('42s');
    expect(formatDuration(65)).toBe('1m 05s');
  });
});
