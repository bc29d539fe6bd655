/**
 * The comparison benchmark (`npm run bench`): the preset against the usual alternatives on the
 * same generated spec files, whole `jest` child runs, interleaved and repeated in one run, with
 * both drivers (see bench/lib/compare-project.js for the strategies):
 *
 * 1. counts (in band, through a counting proxy on loopback, no delay): statements and round
 *    trips of the preset and of BEGIN/ROLLBACK at three sizes, from which per-test and fixed
 *    costs are solved; and the time of back-to-back `live.reset()` calls on an idle session;
 * 2. rounds: every strategy x driver, the in-memory floor, and the skip path (preset with live
 *    tests off vs plain Jest), in a rotating order, `rounds` times after a warm-up round;
 * 3. latency: the preset and BEGIN/ROLLBACK on a smaller suite, direct vs through the proxy
 *    adding `latencyMs` each way, alternating.
 *
 * Ratios are taken within a round (or pair) and summarised by their median and spread; each
 * summary figure is the worse of the two drivers' medians.
 */
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { URL } = require('url');
const { connect, dist, dropSchema } = require('./lib/db');
const {
  compareProject,
  CLONE_PREFIX,
  TEMPLATE_DATABASE,
  TEMPLATE_SCHEMA,
  WORKER_SCHEMA_PREFIX,
} = require('./lib/compare-project');
const { removeProject, skipProject } = require('./lib/fixtures');
const { assertSameTests, runJest } = require('./lib/jest-run');
const { startLatencyProxy } = require('./lib/latency-proxy');
const { median, round, summarize } = require('./lib/stats');
const { BENCH_DATABASE } = require('./lib/db');

const DRIVERS = ['pg', 'postgres'];
const STRATEGIES = ['preset', 'truncate', 'rollback', 'template'];
const MAIN = { files: 20, tests: 25 };
// Half the main suite: enough tests that the database, not Jest start-up, dominates the run time
// (4 x 10 tests was mostly start-up and hid the cost of round trips).
const LATENCY = { files: 10, tests: 25 };
/** Three sizes of the counting runs: per-test, per-file and per-run costs solve from them. */
const COUNT = { files: 6, tests: 10 };
const COUNT_SIZES = [COUNT, { files: COUNT.files, tests: 1 }, { files: 1, tests: 1 }];
const SKIP = { files: 20, tests: 10 };
/** Runs of the idle-reset file per driver (see resetIdle). */
const IDLE_RUNS = 3;
/** Adjacent skip pairs per round (see mainPhase). */
const SKIP_PAIRS_PER_ROUND = 4;
/** Two workers for sure (Jest runs <= 20 fast files in band otherwise; the limit is never hit). */
const TWO_WORKERS = ['--maxWorkers=2', '--workerIdleMemoryLimit=4GB'];
const IN_BAND = ['--runInBand'];

/** The targets of issue 15, keyed as in `summary`. */
const TARGETS = {
  vsRollback: 0.85,
  vsMemory: 1.6,
  statementsPerTest: 4,
  fixedStatementsPerRun: 25,
  latencySlowdown: 2.5,
  resetIdleMs: 0.3,
  skipOverhead: 1.02,
};

const sizeKey = ({ files, tests }) => `specs-${files}x${tests}`;

function withPort(dsn, port) {
  const url = new URL(dsn);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return url.toString();
}

function envOf(mode, driver, dsn) {
  if (mode === 'preset')
    return {
      BENCH_MODE: 'preset',
      USER_ENGINE_LIVE_DSN: dsn,
      USER_ENGINE_LIVE_RESET: BENCH_DATABASE,
      USER_ENGINE_LIVE_DRIVER: driver,
      // A misconfiguration must fail the benchmark, never time a run that skipped everything.
      USER_ENGINE_LIVE_REQUIRED: '1',
    };
  return { BENCH_MODE: mode, BENCH_DSN: dsn, BENCH_DRIVER: driver };
}

/** A migrated template database for the `template` strategy (recreated each run). */
async function prepareTemplate(dsn) {
  const admin = await connect(dsn, { max: 1, driver: 'pg' });
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${TEMPLATE_DATABASE}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${TEMPLATE_DATABASE}"`);
  } finally {
    await admin.close();
  }
  const url = new URL(dsn);
  url.pathname = `/${TEMPLATE_DATABASE}`;
  const conn = await connect(url.toString(), { max: 1, driver: 'pg', schema: TEMPLATE_SCHEMA });
  try {
    await conn.query(`CREATE SCHEMA ${TEMPLATE_SCHEMA}`);
    await dist('store/postgres/postgres-store.js').createPostgresStore(conn).migrate();
  } finally {
    await conn.close();
  }
}

/** Drops what the non-preset strategies created (the preset drops its own schemas). */
async function cleanUp(dsn) {
  const admin = await connect(dsn, { max: 1, driver: 'pg' });
  try {
    const { rows: schemas } = await admin.query(
      `SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)`,
      [WORKER_SCHEMA_PREFIX],
    );
    for (const { nspname } of schemas) await dropSchema(admin, nspname);
    const { rows: databases } = await admin.query(
      `SELECT datname FROM pg_database WHERE starts_with(datname, $1) OR datname = $2`,
      [CLONE_PREFIX, TEMPLATE_DATABASE],
    );
    for (const { datname } of databases)
      await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  } finally {
    await admin.close();
  }
}

/**
 * Per-test, per-file and per-run counts from three runs: n(F, T) = run + F x file + F x T x test.
 */
function solveCounts(counts) {
  const [big, oneEach, single] = COUNT_SIZES.map((s) => counts[sizeKey(s)]);
  const perTest = (big - oneEach) / (COUNT.files * (COUNT.tests - 1));
  if (single === undefined) return { perTest };
  const perFile = (oneEach - single) / (COUNT.files - 1) - perTest;
  const perRun = single - perFile - perTest;
  return { perTest, perFile, perRun };
}

async function countPhase({ project, driver, countDsn, proxy, log }) {
  const out = {};
  for (const mode of ['preset', 'rollback']) {
    const statements = {};
    const roundTrips = {};
    const sizes = mode === 'preset' ? COUNT_SIZES : COUNT_SIZES.slice(0, 2);
    for (const size of sizes) {
      const key = sizeKey(size);
      proxy.take();
      await runJest({
        dir: project.dir,
        config: project.configs[key][mode === 'preset' ? 'preset' : 'plain'],
        args: IN_BAND,
        env: envOf(mode, driver, countDsn),
      });
      const taken = proxy.take();
      statements[key] = taken.statements;
      roundTrips[key] = taken.roundTrips;
    }
    out[mode] = {
      raw: { statements, roundTrips },
      statements: solveCounts(statements),
      roundTrips: solveCounts(roundTrips),
    };
    log(`counts: ${driver} ${mode}: ${JSON.stringify(out[mode].statements)}`);
  }
  return out;
}

/**
 * The idle-reset file, `IDLE_RUNS` times: the median of one run's 200 resets moved between 0.37
 * and 1.17 ms from run to run on this machine, so the figure is the median of the runs' medians
 * (`runs` keeps each run's summary).
 */
async function resetIdle({ project, driver, dsn }) {
  const file = path.join(project.dir, `reset-idle-${driver}.json`);
  const runs = [];
  for (let i = 0; i < IDLE_RUNS; i++) {
    await runJest({
      dir: project.dir,
      config: project.configs.idle.preset,
      args: IN_BAND,
      env: { ...envOf('preset', driver, dsn), BENCH_OUT: file },
    });
    runs.push(summarize(JSON.parse(fs.readFileSync(file, 'utf8'))));
  }
  return { ...summarize(runs.map((r) => r.median)), runs };
}

/** The timed sides of one round: every strategy x driver and the floor (the skip pair apart). */
function roundSides(project, dsn) {
  const main = project.configs[sizeKey(MAIN)];
  const sides = [];
  for (const driver of DRIVERS)
    for (const mode of STRATEGIES)
      sides.push({
        name: `${mode}:${driver}`,
        dir: project.dir,
        config: mode === 'preset' ? main.preset : main.plain,
        args: TWO_WORKERS,
        env: envOf(mode, driver, dsn),
      });
  sides.push({
    name: 'memory',
    dir: project.dir,
    config: main.plain,
    args: TWO_WORKERS,
    env: { BENCH_MODE: 'memory' },
  });
  return sides;
}

/** The skip pair: the preset with live tests off against plain Jest, on the plain spec files. */
function skipSides(skip) {
  return [
    { name: 'skip:preset', dir: skip.dir, config: skip.preset, args: ['--maxWorkers=2'] },
    { name: 'skip:plain', dir: skip.dir, config: skip.plain, args: ['--maxWorkers=2'] },
  ];
}

async function mainPhase({ project, skip, dsn, rounds, log }) {
  const sides = roundSides(project, dsn);
  const skips = skipSides(skip);
  const samples = Object.fromEntries([...sides, ...skips].map((s) => [s.name, []]));
  const tests = {};
  const record = async (side, r) => {
    const result = await runJest(side);
    tests[side.name] = result.tests;
    if (r >= 0) samples[side.name].push(result.ms);
  };
  for (let r = -1; r < rounds; r++) {
    // Rotate the order each round, so drift (caches, a neighbour's load) hits every side alike.
    const shift = ((r + 1) * 3) % sides.length;
    const order = [...sides.slice(shift), ...sides.slice(0, shift)];
    for (const side of order) await record(side, r);
    // One skip pair's ratio varies by +-10% between pairs (a 2 s run), five times the 1.02
    // target: several adjacent pairs per round, alternating which side goes first.
    for (let k = 0; k < SKIP_PAIRS_PER_ROUND; k++)
      for (const side of k % 2 === 0 ? skips : [...skips].reverse()) await record(side, r);
    log(
      `round ${r < 0 ? 'warm-up' : `${r + 1}/${rounds}`} done; load ${os.loadavg()[0].toFixed(2)}`,
    );
  }
  for (const side of sides.filter((s) => !s.name.startsWith('skip:')))
    assertSameTests(tests[side.name], tests.memory, side.name);
  assertSameTests(tests['skip:preset'], tests['skip:plain'], 'skip');
  return { samples, tests };
}

async function latencyPhase({ project, dsn, slowDsn, rounds, log }) {
  const config = project.configs[sizeKey(LATENCY)];
  const samples = {};
  for (let r = 0; r < rounds; r++) {
    for (const driver of DRIVERS) {
      for (const mode of ['preset', 'rollback']) {
        const pair = [
          ['direct', dsn],
          ['latency', slowDsn],
        ];
        if (r % 2 === 1) pair.reverse();
        for (const [where, target] of pair) {
          const result = await runJest({
            dir: project.dir,
            config: mode === 'preset' ? config.preset : config.plain,
            args: TWO_WORKERS,
            env: envOf(mode, driver, target),
          });
          (samples[`${mode}:${driver}:${where}`] ??= []).push(result.ms);
        }
      }
    }
    log(`latency pair ${r + 1}/${rounds} done`);
  }
  return samples;
}

/** Per-round ratios a/b: their median and spread. */
function ratios(a, b) {
  const values = a.map((x, i) => x / b[i]);
  const s = summarize(values);
  return { median: s.median, min: s.min, max: s.max, values: s.samples };
}

async function run({ dsn, log, rounds, latencyMs }) {
  const started = Date.now();
  const loadBefore = os.loadavg();
  const server = new URL(dsn);
  const target = { host: server.hostname || '127.0.0.1', port: Number(server.port || 5432) };
  const counter = await startLatencyProxy({ target, delayMs: 0 });
  const slow = await startLatencyProxy({ target, delayMs: latencyMs });
  const project = compareProject([MAIN, ...COUNT_SIZES, LATENCY]);
  const skip = skipProject(SKIP);
  const latencyRounds = Math.max(2, Math.ceil(rounds / 2));
  let counts = {};
  let idle = {};
  let main;
  let latency;
  try {
    await cleanUp(dsn);
    await prepareTemplate(dsn);
    for (const driver of DRIVERS) {
      counts[driver] = await countPhase({
        project,
        driver,
        countDsn: withPort(dsn, counter.port),
        proxy: counter,
        log,
      });
      idle[driver] = await resetIdle({ project, driver, dsn });
      log(
        `reset on an idle session, ${driver}: median ${idle[driver].median} ms ` +
          `(runs: ${idle[driver].samples.join(', ')})`,
      );
    }
    main = await mainPhase({ project, skip, dsn, rounds, log });
    latency = await latencyPhase({
      project,
      dsn,
      slowDsn: withPort(dsn, slow.port),
      rounds: latencyRounds,
      log,
    });
  } finally {
    await counter.close();
    await slow.close();
    removeProject(project.dir);
    removeProject(skip.dir);
    await cleanUp(dsn).catch(() => undefined);
  }

  const s = main.samples;
  const perDriver = {};
  for (const driver of DRIVERS) {
    const preset = s[`preset:${driver}`];
    const c = counts[driver];
    const ownPerTest = c.rollback.statements.perTest - 2; // BEGIN and ROLLBACK of the test
    perDriver[driver] = {
      vsRollback: ratios(preset, s[`rollback:${driver}`]),
      vsTruncate: ratios(preset, s[`truncate:${driver}`]),
      vsTemplate: ratios(preset, s[`template:${driver}`]),
      vsMemory: ratios(preset, s.memory),
      rollbackVsMemory: ratios(s[`rollback:${driver}`], s.memory),
      statements: {
        presetPerTest: round(c.preset.statements.perTest),
        ownPerTest: round(ownPerTest),
        presetBeyondOwnPerTest: round(c.preset.statements.perTest - ownPerTest),
        presetPerFile: round(c.preset.statements.perFile),
        presetPerRun: round(c.preset.statements.perRun),
        rollbackPerTest: round(c.rollback.statements.perTest),
      },
      roundTrips: {
        presetPerTest: round(c.preset.roundTrips.perTest),
        presetPerFile: round(c.preset.roundTrips.perFile),
        presetPerRun: round(c.preset.roundTrips.perRun),
        rollbackPerTest: round(c.rollback.roundTrips.perTest),
      },
      latencySlowdown: ratios(
        latency[`preset:${driver}:latency`],
        latency[`preset:${driver}:direct`],
      ),
      rollbackLatencySlowdown: ratios(
        latency[`rollback:${driver}:latency`],
        latency[`rollback:${driver}:direct`],
      ),
      resetIdleMs: idle[driver],
    };
  }
  const worse = (pick) => Math.max(...DRIVERS.map((d) => pick(perDriver[d])));
  const summary = {
    vsRollback: round(worse((d) => d.vsRollback.median)),
    vsMemory: round(worse((d) => d.vsMemory.median)),
    statementsPerTest: round(worse((d) => d.statements.presetBeyondOwnPerTest)),
    fixedStatementsPerRun: round(worse((d) => d.statements.presetPerRun)),
    latencySlowdown: round(worse((d) => d.latencySlowdown.median)),
    resetIdleMs: round(worse((d) => d.resetIdleMs.median)),
    skipOverhead: ratios(s['skip:preset'], s['skip:plain']).median,
  };
  return {
    title: 'Comparison: the preset vs TRUNCATE, BEGIN/ROLLBACK, template databases, in memory',
    durationSeconds: Math.round((Date.now() - started) / 1000),
    machineLoad: { loadAverageBefore: loadBefore, loadAverageAfter: os.loadavg() },
    workload: {
      main: { ...MAIN, args: TWO_WORKERS },
      counts: { sizes: COUNT_SIZES, args: IN_BAND },
      latency: { ...LATENCY, args: TWO_WORKERS, delayMsEachWay: latencyMs, rounds: latencyRounds },
      skip: { ...SKIP, args: ['--maxWorkers=2'] },
      rounds,
      tests: main.tests,
    },
    raw: {
      wallMs: Object.fromEntries(Object.entries(s).map(([k, v]) => [k, summarize(v)])),
      latencyWallMs: Object.fromEntries(Object.entries(latency).map(([k, v]) => [k, summarize(v)])),
      counts,
    },
    ratios: { perDriver, skipOverhead: ratios(s['skip:preset'], s['skip:plain']) },
    summary,
    targets: TARGETS,
    medians: { wallMs: Object.fromEntries(Object.entries(s).map(([k, v]) => [k, median(v)])) },
  };
}

module.exports = { run, TARGETS, DRIVERS, STRATEGIES };
