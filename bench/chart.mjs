// A small SVG renderer for the benchmark charts: horizontal bars with min–max whiskers, on a
// logarithmic or linear axis, one bar (or one group of bars) per case.
//
// Why our own and not a charting library: the charts are made in Node at the end of a bench run,
// offline, with no browser and no DOM. The well-kept libraries that can do that headless (Vega,
// via its Node renderer; Observable Plot or d3 with jsdom) bring a DOM emulation and tens of
// megabytes of dependencies for what is one chart type here: bars on an axis. ~200 lines of string
// building give deterministic output (no fonts measured, no random ids), which the report test can
// read back as text.

/** Colours by kind of case: ipcx's backends and the peers they are compared with. */
export const KIND_COLOURS = {
  native: '#1f6fb5',
  worker: '#2e9e4f',
  redis: '#c2410c',
  browser: '#7c3aed',
  peer: '#8a8f98',
};

/** Colours of the series in a grouped (comparison) chart, in series order. */
const SERIES_COLOURS = ['#1f6fb5', '#d97706', '#7c3aed', '#2e9e4f'];

const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';
const LABEL_CHAR_PX = 6.6; // a conservative average advance at 12 px, to size the label column
const BAR_HEIGHT = 16;
const ROW_GAP = 8;
const PLOT_WIDTH = 520;
const MARGIN = { top: 58, right: 90, bottom: 48, left: 16 };

/** The kind of a case, from the first segment of its name (`native.pipe.pingpong` → native). */
export function kindOf(name) {
  const first = name.split('.')[0];
  return first in KIND_COLOURS ? first : 'peer';
}

/** Formats a value as the bench prints it: three significant digits, no exponent. */
export function formatValue(value) {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${(value / 1e6).toFixed(abs >= 1e8 ? 0 : abs >= 1e7 ? 1 : 2)}M`;
  if (abs >= 1e4) return `${(value / 1e3).toFixed(abs >= 1e5 ? 0 : 1)}k`;
  return abs >= 100 ? value.toFixed(0) : abs >= 10 ? value.toFixed(1) : abs >= 0.1 ? value.toFixed(2) : value.toPrecision(2);
}

/** Unit as shown on an axis: `us` is written µs. */
export const unitLabel = (unit) => (unit === 'us' ? 'µs' : unit);

const escapeXml = (text) =>
  String(text).replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]);

/**
 * The axis: maps a value to an x offset within the plot and lists the ticks. A log axis spans
 * whole decades around the data (latencies from 0.5 µs to 100 µs read best in decades); a linear
 * axis starts at zero, so bar lengths compare.
 */
function makeAxis(values, log) {
  const positive = values.filter((v) => Number.isFinite(v) && v > 0);
  const hi = positive.length ? Math.max(...positive) : 1;
  if (log) {
    const lo = positive.length ? Math.min(...positive) : 1;
    const from = Math.floor(Math.log10(lo));
    const to = Math.max(from + 1, Math.ceil(Math.log10(hi)));
    const ticks = [];
    for (let e = from; e <= to; e++) ticks.push(10 ** e);
    const x = (v) => (PLOT_WIDTH * (Math.log10(Math.max(v, 10 ** from)) - from)) / (to - from);
    return { x, ticks, origin: 10 ** from };
  }
  const step = niceStep(hi / 5);
  const top = Math.ceil(hi / step) * step;
  const ticks = [];
  for (let t = 0; t <= top + step / 2; t += step) ticks.push(Number(t.toPrecision(12)));
  return { x: (v) => (PLOT_WIDTH * Math.max(0, v)) / top, ticks, origin: 0 };
}

function niceStep(raw) {
  const power = 10 ** Math.floor(Math.log10(raw || 1));
  const fraction = raw / power;
  return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
}

/**
 * Renders a bar chart as an SVG document.
 *
 * @param {object} chart
 * @param {string} chart.title
 * @param {string | string[]} [chart.subtitle] e.g. the machine, load and date of the run (one line each)
 * @param {string} chart.unit the unit of every value (`us`, `GB/s`, `values/s`, ...)
 * @param {boolean} chart.log logarithmic axis
 * @param {string[]} [chart.series] names of the series for a grouped chart (e.g. idle, busy 1)
 * @param {Array<{ label: string, kind?: string, values: Array<{ median: number, min?: number, max?: number } | undefined> }>} chart.rows
 *   one row per case; `values` has one entry per series (one for a plain chart)
 * @param {Array<{ label: string, value: number }>} [chart.references] dashed vertical lines (e.g. a hardware floor)
 * @returns {string} the SVG text
 */
export function renderBarChart({ title, subtitle, unit, log, series = [''], rows, references = [] }) {
  const all = rows.flatMap((row) => row.values.flatMap((v) => (v ? [v.median, v.min ?? v.median, v.max ?? v.median] : [])));
  const axis = makeAxis([...all, ...references.map((r) => r.value)], log);
  const labelWidth = Math.ceil(Math.max(...rows.map((r) => r.label.length), 8) * LABEL_CHAR_PX) + 12;
  const groupHeight = series.length * BAR_HEIGHT + (series.length - 1) * 2;
  const plotHeight = rows.length * (groupHeight + ROW_GAP);
  const subtitles = subtitle === undefined ? [] : [subtitle].flat();
  const headerHeight = MARGIN.top + Math.max(0, subtitles.length - 1) * 14;
  const legendHeight = series.length > 1 ? 22 : 0;
  const left = MARGIN.left + labelWidth;
  const width = left + PLOT_WIDTH + MARGIN.right;
  const height = headerHeight + legendHeight + plotHeight + MARGIN.bottom;
  const top = headerHeight + legendHeight;
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${MARGIN.left}" y="22" font-size="15" font-weight="600" fill="#111827">${escapeXml(title)}</text>`);
  subtitles.forEach((line, i) => {
    out.push(`<text x="${MARGIN.left}" y="${40 + 14 * i}" font-size="11" fill="#4b5563">${escapeXml(line)}</text>`);
  });
  if (series.length > 1) {
    series.forEach((name, i) => {
      const x = left + i * 140;
      out.push(`<rect x="${x}" y="${headerHeight - 6}" width="12" height="12" fill="${SERIES_COLOURS[i % SERIES_COLOURS.length]}"/>`);
      out.push(`<text x="${x + 18}" y="${headerHeight + 4}" fill="#111827">${escapeXml(name)}</text>`);
    });
  }
  // Grid and ticks first, so bars draw over them.
  for (const tick of axis.ticks) {
    const x = left + axis.x(tick);
    out.push(`<line x1="${x.toFixed(1)}" y1="${top - 4}" x2="${x.toFixed(1)}" y2="${top + plotHeight}" stroke="#e5e7eb"/>`);
    out.push(`<text x="${x.toFixed(1)}" y="${top + plotHeight + 16}" text-anchor="middle" fill="#4b5563">${Number(tick.toPrecision(3))}</text>`);
  }
  out.push(`<text x="${left + PLOT_WIDTH / 2}" y="${top + plotHeight + 36}" text-anchor="middle" fill="#111827">${escapeXml(unitLabel(unit))}${log ? ' (log scale)' : ''}</text>`);
  rows.forEach((row, r) => {
    const y0 = top + r * (groupHeight + ROW_GAP) + ROW_GAP / 2;
    const kind = row.kind ?? kindOf(row.label);
    out.push(`<g data-case="${escapeXml(row.label)}" data-kind="${kind}">`);
    out.push(`<text x="${left - 8}" y="${(y0 + groupHeight / 2 + 4).toFixed(1)}" text-anchor="end" fill="#111827">${escapeXml(row.label)}</text>`);
    row.values.forEach((value, s) => {
      if (!value) return;
      const y = y0 + s * (BAR_HEIGHT + 2);
      const colour = series.length > 1 ? SERIES_COLOURS[s % SERIES_COLOURS.length] : KIND_COLOURS[kind];
      const end = axis.x(value.median);
      const seriesName = series.length > 1 ? `${series[s]}: ` : '';
      out.push(`<rect x="${left}" y="${y}" width="${Math.max(1, end).toFixed(1)}" height="${BAR_HEIGHT}" fill="${colour}" data-value="${value.median}">` +
        `<title>${escapeXml(`${row.label} ${seriesName}${formatValue(value.median)} ${unitLabel(unit)}` + (value.min !== undefined ? ` (min ${formatValue(value.min)}, max ${formatValue(value.max)})` : ''))}</title></rect>`);
      let labelX = end;
      if (value.min !== undefined && value.max !== undefined) {
        const x1 = left + axis.x(value.min);
        const x2 = left + axis.x(value.max);
        const ym = y + BAR_HEIGHT / 2;
        out.push(`<path d="M${x1.toFixed(1)} ${ym}H${x2.toFixed(1)}M${x1.toFixed(1)} ${ym - 4}V${ym + 4}M${x2.toFixed(1)} ${ym - 4}V${ym + 4}" stroke="#111827" stroke-width="1"/>`);
        labelX = Math.max(end, x2 - left);
      }
      out.push(`<text x="${(left + labelX + 6).toFixed(1)}" y="${y + BAR_HEIGHT - 4}" fill="#111827">${escapeXml(formatValue(value.median))}</text>`);
    });
    out.push('</g>');
  });
  for (const reference of references) {
    const x = left + axis.x(reference.value);
    out.push(`<line x1="${x.toFixed(1)}" y1="${top - 4}" x2="${x.toFixed(1)}" y2="${top + plotHeight}" stroke="#b91c1c" stroke-dasharray="4 3"/>`);
    out.push(`<text x="${(x + 4).toFixed(1)}" y="${top - 8}" font-size="10" fill="#b91c1c">${escapeXml(`${reference.label} ${formatValue(reference.value)} ${unitLabel(unit)}`)}</text>`);
  }
  if (series.length === 1) {
    // Legend of kinds present, bottom right.
    const kinds = [...new Set(rows.map((row) => row.kind ?? kindOf(row.label)))];
    kinds.forEach((kind, i) => {
      const x = width - MARGIN.right - (kinds.length - i) * 78 + 20;
      const y = height - 14;
      out.push(`<rect x="${x}" y="${y - 9}" width="10" height="10" fill="${KIND_COLOURS[kind]}"/>`);
      out.push(`<text x="${x + 14}" y="${y}" font-size="11" fill="#374151">${kind === 'peer' ? 'peers' : kind}</text>`);
    });
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}
