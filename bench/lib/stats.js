/**
 * Timing and summary helpers shared by every benchmark. Figures are medians of repeated samples
 * taken after a warm-up, and every cost is reported as a ratio against a baseline measured in the
 * same run, so a busy or slow machine shifts both sides alike.
 */
'use strict';

/** Wall-clock milliseconds since an arbitrary origin, sub-microsecond resolution. */
function nowMs() {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Runs `fn` once and returns its duration in ms (and its result). */
async function timed(fn) {
  const start = nowMs();
  const value = await fn();
  return { ms: nowMs() - start, value };
}

function median(values) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/** Rounded for the JSON file: enough digits for sub-millisecond figures, no float noise. */
function round(value, digits = 3) {
  if (!Number.isFinite(value)) return value;
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** Samples (ms) plus the figures the tables print. */
function summarize(samples) {
  return {
    n: samples.length,
    median: round(median(samples)),
    min: round(Math.min(...samples)),
    max: round(Math.max(...samples)),
    p90: round(percentile(samples, 90)),
    samples: samples.map((s) => round(s)),
  };
}

/**
 * A target check. `kind` is 'max' (value must be <= limit) or 'min' (value must be >= limit).
 * `against` says in words what the figure was compared with.
 */
function target(name, value, limit, kind, unit, against) {
  const pass = kind === 'max' ? value <= limit : value >= limit;
  return { name, value: round(value), limit, kind, unit, against, pass };
}

/**
 * Runs `warmup` unrecorded rounds and then `runs` recorded rounds of `round(i)`, which must
 * return an object of named durations; returns the per-name sample arrays.
 */
async function rounds({ warmup, runs }, roundFn) {
  for (let i = 0; i < warmup; i++) await roundFn(-1 - i);
  const samples = {};
  for (let i = 0; i < runs; i++) {
    const figures = await roundFn(i);
    for (const [key, ms] of Object.entries(figures)) (samples[key] ??= []).push(ms);
  }
  return samples;
}

function formatNumber(value) {
  if (typeof value !== 'number') return String(value);
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

/** A plain aligned text table; `rows` are arrays of cells (numbers are formatted). */
function table(headers, rows) {
  const cells = [headers, ...rows.map((row) => row.map(formatNumber))];
  const widths = headers.map((_, c) => Math.max(...cells.map((row) => String(row[c]).length)));
  const line = (row) =>
    row
      .map((cell, c) =>
        c === 0 ? String(cell).padEnd(widths[c]) : String(cell).padStart(widths[c]),
      )
      .join('  ');
  return [
    line(cells[0]),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...cells.slice(1).map(line),
  ].join('\n');
}

/** A Markdown table of the same cells, for docs/performance.md; numeric columns right-aligned. */
function markdownTable(headers, rows) {
  const cells = rows.map((row) => row.map(formatNumber));
  const numeric = headers.map((_, c) => rows.some((row) => typeof row[c] === 'number'));
  return [
    `| ${headers.join(' | ')} |`,
    `|${numeric.map((n) => (n ? ' ---: ' : ' --- ')).join('|')}|`,
    ...cells.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
}

function targetRows(targets) {
  return targets.map((t) => [
    t.name,
    `${formatNumber(t.value)} ${t.unit}`,
    `${t.kind === 'max' ? '<=' : '>='} ${t.limit} ${t.unit}`,
    t.pass ? 'PASS' : 'FAIL',
  ]);
}

module.exports = {
  nowMs,
  timed,
  median,
  percentile,
  round,
  summarize,
  target,
  rounds,
  table,
  markdownTable,
  targetRows,
  formatNumber,
};
