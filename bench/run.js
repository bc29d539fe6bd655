#!/usr/bin/env node
/**
 * `npm run bench` (all benchmarks) or `node bench/run.js <name>...`: runs each benchmark, prints
 * its figures as tables and writes them to bench/results.json. Needs the compiled package (dist/)
 * and a PostgreSQL server: the admin DSN is USER_ENGINE_LIVE_DSN or
 * postgres://postgres@127.0.0.1:5432/test; everything runs in a database `ue_bench` created on it.
 *
 *   --strict    exit 1 when a target is missed (default: report it, exit 0)
 *   --markdown  print bench/results.json as Markdown tables (measures nothing)
 */
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { REPO, ensureBenchDatabase, redacted, serverVersion } = require('./lib/db');
const { machineInfo, readResults, writeResults, RESULTS } = require('./lib/results');
const { markdownTable, table, targetRows } = require('./lib/stats');

const BENCHMARKS = {
  skip: () => require('./skip'),
  live: () => require('./live'),
  reset: () => require('./reset'),
  upsert: () => require('./upsert'),
  workers: () => require('./workers'),
};
const NAMES = Object.keys(BENCHMARKS);

/** What the preset, the store and the drivers need from dist/ (built by tsconfig.build.json). */
const BUILT = [
  'dist/jest/worker/environment.js',
  'dist/jest/parent/global-setup.js',
  'dist/jest/test/setup-store.js',
  'dist/live/reset.js',
  'dist/store/postgres/postgres-store.js',
  'dist/driver/create-connection.js',
  'dist/conformance/index.js',
];

function parseArgs(argv) {
  const flags = new Set(argv.filter((a) => a.startsWith('--')));
  for (const flag of flags) {
    if (flag !== '--strict' && flag !== '--markdown')
      throw new Error(`unknown option ${flag} (known: --strict, --markdown)`);
  }
  const names = argv.filter((a) => !a.startsWith('--'));
  for (const name of names) {
    if (!NAMES.includes(name))
      throw new Error(`unknown benchmark ${JSON.stringify(name)} (known: ${NAMES.join(', ')})`);
  }
  return {
    names: names.length > 0 ? names : NAMES,
    strict: flags.has('--strict'),
    markdown: flags.has('--markdown'),
  };
}

function printResult(name, result, print) {
  print(`\n== ${name}: ${result.title} ==`);
  for (const note of result.notes || []) print(`  ${note}`);
  for (const t of result.tables) {
    if (t.caption) print(`\n${t.caption}`);
    print(`\n${table(t.headers, t.rows)}`);
  }
  print(`\n${table(['target', 'measured', 'limit', 'verdict'], targetRows(result.targets))}`);
  for (const explanation of result.explanations || []) print(`  ! ${explanation}`);
}

function printMarkdown(print) {
  const doc = readResults();
  const m = doc.machine || {};
  const pkgs = m.packages || {};
  print(
    `Machine: ${m.cpus} x ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.os}; Node ${m.node}; ` +
      `PostgreSQL ${m.postgres}; jest ${pkgs.jest}, pg ${pkgs.pg}, postgres ${pkgs.postgres}.\n`,
  );
  for (const [name, result] of Object.entries(doc.benchmarks || {})) {
    const load = result.loadAverage1m || {};
    print(`### ${name}: ${result.title}\n`);
    print(
      `\`${result.command}\`, ${result.date}, ${result.durationSeconds} s, ` +
        `1-min load average ${Number(load.before).toFixed(1)} -> ${Number(load.after).toFixed(1)}\n`,
    );
    for (const note of result.notes || []) print(`- ${note}`);
    print('');
    for (const t of result.tables) {
      if (t.caption) print(`${t.caption}:\n`);
      print(`${markdownTable(t.headers, t.rows)}\n`);
    }
    if (result.targets.length > 0)
      print(
        `${markdownTable(['target', 'measured', 'limit', 'verdict'], targetRows(result.targets))}\n`,
      );
  }
}

async function main() {
  const print = (line) => process.stdout.write(`${line}\n`);
  const log = (line) => process.stderr.write(`[bench] ${line}\n`);
  const args = parseArgs(process.argv.slice(2));
  if (args.markdown) return printMarkdown(print);
  const missing = BUILT.filter((file) => !fs.existsSync(path.join(REPO, file)));
  if (missing.length > 0) {
    throw new Error(
      `${missing[0]} is missing: build the package first (npx tsc -p tsconfig.build.json)`,
    );
  }
  const dsn = await ensureBenchDatabase();
  const machine = machineInfo(await serverVersion(dsn));
  log(
    `database ${redacted(dsn)}; load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const extra = process.argv.slice(2).join(' ');
  const command =
    process.env.npm_lifecycle_event === 'bench'
      ? `npm run bench${extra ? ` -- ${extra}` : ''}`
      : `node bench/run.js${extra ? ` ${extra}` : ''}`;
  let missed = 0;
  for (const name of args.names) {
    const started = Date.now();
    const loadBefore = os.loadavg()[0];
    const result = await BENCHMARKS[name]().run({ dsn, log, repo: REPO });
    const entry = {
      ...result,
      date: new Date().toISOString(),
      command,
      durationSeconds: Math.round((Date.now() - started) / 100) / 10,
      loadAverage1m: { before: loadBefore, after: os.loadavg()[0] },
    };
    // Written after each benchmark, so a later failure keeps the earlier figures.
    writeResults(machine, { [name]: entry }, NAMES);
    printResult(name, entry, print);
    missed += entry.targets.filter((t) => !t.pass).length;
    log(`${name} took ${entry.durationSeconds} s`);
  }
  print(
    `\nresults: ${path.relative(process.cwd(), RESULTS) || RESULTS}; ${missed} target(s) missed`,
  );
  if (missed > 0 && args.strict) process.exitCode = 1;
}

main().catch((error) => {
  process.stderr.write(`bench: ${error && error.stack ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
