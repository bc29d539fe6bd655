#!/usr/bin/env node
/**
 * `npm run bench`: the comparison benchmark (bench/compare.js), printed as tables and written to
 * bench/results.json (machine facts, raw figures, ratios, a flat `summary`). Needs the compiled
 * package (dist/) and a PostgreSQL server: the admin DSN is USER_ENGINE_LIVE_DSN or
 * postgres://postgres@127.0.0.1:5432/test; the runs use a database `ue_bench` created on it.
 *
 *   --rounds=N       interleaved rounds after the warm-up (default 4; env BENCH_ROUNDS)
 *   --latency-ms=N   delay each way of the latency proxy (default 5; env BENCH_LATENCY_MS)
 *   --strict         exit 1 when a target is missed
 *   --markdown       print bench/results.json as the Markdown table of docs/performance.md
 *   upsert           instead: the batch upsert benchmark (bench/upsert.js), printed only
 */
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { REPO, ensureBenchDatabase, redacted, serverVersion } = require('./lib/db');
const { machineInfo, RESULTS } = require('./lib/results');
const { markdownTable, table, targetRows } = require('./lib/stats');

const DEFAULT_ROUNDS = 4;
const DEFAULT_LATENCY_MS = 5;

/** What the preset, the store and the drivers need from dist/ (built by tsconfig.build.json). */
const BUILT = [
  'dist/jest/worker/environment.js',
  'dist/jest/parent/global-setup.js',
  'dist/jest/test/setup-store.js',
  'dist/store/index.js',
  'dist/driver/index.js',
];

function positiveInt(name, text) {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0)
    throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(text)}`);
  return value;
}

function parseArgs(argv) {
  const args = {
    rounds: positiveInt('BENCH_ROUNDS', process.env.BENCH_ROUNDS ?? DEFAULT_ROUNDS),
    latencyMs: positiveInt('BENCH_LATENCY_MS', process.env.BENCH_LATENCY_MS ?? DEFAULT_LATENCY_MS),
    strict: false,
    markdown: false,
    upsert: false,
  };
  for (const arg of argv) {
    const [flag, value] = arg.split('=');
    if (flag === '--rounds') args.rounds = positiveInt('--rounds', value);
    else if (flag === '--latency-ms') args.latencyMs = positiveInt('--latency-ms', value);
    else if (arg === '--strict') args.strict = true;
    else if (arg === '--markdown') args.markdown = true;
    else if (arg === 'upsert') args.upsert = true;
    else
      throw new Error(
        `unknown argument ${arg} (known: --rounds=N, --latency-ms=N, --strict, --markdown, upsert)`,
      );
  }
  if (args.rounds < 1) throw new Error('--rounds must be at least 1');
  return args;
}

const fmt = (r) => `${r.median.toFixed(2)} (${r.min.toFixed(2)}-${r.max.toFixed(2)})`;

/** The comparison table: one row per strategy, ratios of the preset's time to it, per driver. */
function comparisonRows(doc) {
  const { perDriver } = doc.ratios;
  const wall = doc.raw.wallMs;
  const row = (label, key, pick) => [
    label,
    ...['pg', 'postgres'].flatMap((d) => [
      wall[`${key}:${d}`]?.median ?? wall[key].median,
      pick(d),
    ]),
  ];
  return [
    row('preset', 'preset', () => '1'),
    row('BEGIN/ROLLBACK per test', 'rollback', (d) => fmt(perDriver[d].vsRollback)),
    row('TRUNCATE per worker schema', 'truncate', (d) => fmt(perDriver[d].vsTruncate)),
    row('template database per file', 'template', (d) => fmt(perDriver[d].vsTemplate)),
    row('in-memory store (floor)', 'memory', (d) => fmt(perDriver[d].vsMemory)),
  ];
}

const COMPARISON_HEADERS = [
  'strategy',
  'pg ms',
  'preset / it, pg',
  'postgres.js ms',
  'preset / it, postgres.js',
];

function summaryRows(doc) {
  return Object.entries(doc.summary).map(([key, value]) => {
    const limit = doc.targets[key];
    return [key, value, `<= ${limit}`, value <= limit ? 'met' : 'missed'];
  });
}

function print(doc, out, markdown) {
  const render = markdown ? markdownTable : table;
  const m = doc.machine;
  out(
    `Machine: ${m.cpus} x ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.os}; Node ${m.node}; PostgreSQL ${m.postgres}; ` +
      `jest ${m.packages.jest}, pg ${m.packages.pg}, postgres ${m.packages.postgres}; ` +
      `1-min load average ${m.loadAverageBefore[0].toFixed(2)} -> ${m.loadAverageAfter[0].toFixed(2)}.`,
  );
  out(
    `\`${doc.command}\`, ${doc.date}, ${doc.durationSeconds} s; ${doc.workload.rounds} rounds of ${doc.workload.main.files} files x ${doc.workload.main.tests} tests.\n`,
  );
  out(render(COMPARISON_HEADERS, comparisonRows(doc)));
  out('');
  const { perDriver } = doc.ratios;
  const per = (label, pick) => [label, pick(perDriver.pg), pick(perDriver.postgres)];
  out(
    render(
      ['per driver', 'pg', 'postgres.js'],
      [
        per('statements per test, preset (all)', (d) => d.statements.presetPerTest),
        per("statements per test, the test's own", (d) => d.statements.ownPerTest),
        per('statements per test, preset beyond own', (d) => d.statements.presetBeyondOwnPerTest),
        per('statements per file, preset', (d) => d.statements.presetPerFile),
        per('statements per run (fixed), preset', (d) => d.statements.presetPerRun),
        per('round trips per test, preset', (d) => d.roundTrips.presetPerTest),
        per('round trips per test, BEGIN/ROLLBACK', (d) => d.roundTrips.rollbackPerTest),
        per('round trips per run (fixed), preset', (d) => d.roundTrips.presetPerRun),
        per(`slowdown at ${doc.workload.latency.delayMsEachWay} ms, preset`, (d) =>
          fmt(d.latencySlowdown),
        ),
        per(`slowdown at ${doc.workload.latency.delayMsEachWay} ms, BEGIN/ROLLBACK`, (d) =>
          fmt(d.rollbackLatencySlowdown),
        ),
        per('reset on an idle session, median ms', (d) => d.resetIdleMs.median),
      ],
    ),
  );
  out('');
  out(render(['summary', 'measured', 'target', 'verdict'], summaryRows(doc)));
}

async function main() {
  const out = (line) => process.stdout.write(`${line}\n`);
  const log = (line) => process.stderr.write(`[bench] ${line}\n`);
  const args = parseArgs(process.argv.slice(2));
  if (args.markdown) return print(JSON.parse(fs.readFileSync(RESULTS, 'utf8')), out, true);
  const missing = BUILT.filter((file) => !fs.existsSync(path.join(REPO, file)));
  if (missing.length > 0)
    throw new Error(`${missing[0]} is missing: build the package first (npm run build)`);
  const dsn = await ensureBenchDatabase();
  log(
    `database ${redacted(dsn)}; load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  if (args.upsert) {
    const result = await require('./upsert').run({ dsn, log, repo: REPO });
    for (const t of result.tables) out(`\n${table(t.headers, t.rows)}`);
    out(`\n${table(['target', 'measured', 'limit', 'verdict'], targetRows(result.targets))}`);
    return;
  }
  const machine = machineInfo(await serverVersion(dsn));
  const result = await require('./compare').run({
    dsn,
    log,
    rounds: args.rounds,
    latencyMs: args.latencyMs,
  });
  const extra = process.argv.slice(2).join(' ');
  const doc = {
    machine: {
      ...machine,
      loadAverageBefore: result.machineLoad.loadAverageBefore,
      loadAverageAfter: result.machineLoad.loadAverageAfter,
    },
    date: new Date().toISOString(),
    command: `npm run bench${extra ? ` -- ${extra}` : ''}`,
    ...result,
  };
  delete doc.machineLoad;
  fs.writeFileSync(RESULTS, `${JSON.stringify(doc, null, 2)}\n`);
  print(doc, out, false);
  const missed = Object.entries(doc.summary).filter(([k, v]) => v > doc.targets[k]);
  out(`\nresults: ${path.relative(process.cwd(), RESULTS)}; ${missed.length} target(s) missed`);
  if (missed.length > 0 && args.strict) process.exitCode = 1;
}

main().catch((error) => {
  process.stderr.write(`bench: ${error && error.stack ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
