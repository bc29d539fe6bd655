/**
 * Benchmark 2, live overhead: the shared conformance suite live through the preset against the
 * bench database, against the same specs in memory with plain Jest, whole child runs alternating.
 * The live runs use the preset's own environment and global hooks wrapped by bench/fixture/ to
 * record globalSetup, per-file setup, per-test reset and per-test event handling.
 */
'use strict';
const { alternate, assertSameTests } = require('./lib/jest-run');
const { removeProject, suiteProject } = require('./lib/fixtures');
const {
  SUITE_FILES,
  TWO_WORKERS,
  liveEnv,
  splitFirstFiles,
  takeTimings,
  timingsFileOf,
} = require('./lib/live-suite');
const { round, summarize, target } = require('./lib/stats');

const RUNS = 5;
const ARGS = TWO_WORKERS;

function hook(file, key) {
  return (file.hooks[key] || []).reduce((sum, ms) => sum + ms, 0);
}

/** Preset cost of one file: environment setup + the preset's prepare hook (migrate once, reset). */
function fileSetup(file) {
  return file.setupMs + hook(file, 'beforeAll:root');
}

async function run({ dsn, log }) {
  const project = suiteProject({ files: SUITE_FILES });
  const timingsFile = timingsFileOf(project.dir);
  const records = [];
  let measured;
  try {
    measured = await alternate({
      runs: RUNS,
      log: (line) => log(`live: ${line}`),
      a: {
        name: 'live',
        dir: project.dir,
        config: project.live,
        args: ARGS,
        env: liveEnv(dsn, timingsFile),
        afterRun: (i) => {
          const taken = takeTimings(timingsFile);
          if (i >= 0) records.push(taken);
        },
      },
      b: { name: 'memory', dir: project.dir, config: project.memory, args: ARGS },
    });
  } finally {
    removeProject(project.dir);
  }
  const { samples, tests } = measured;
  assertSameTests(tests.live, tests.memory, 'live overhead');

  const globalSetup = records.flatMap((run) =>
    run.filter((r) => r.kind === 'globalSetup').map((r) => r.ms),
  );
  const globalTeardown = records.flatMap((run) =>
    run.filter((r) => r.kind === 'globalTeardown').map((r) => r.ms),
  );
  const split = records.map(splitFirstFiles);
  const firstFiles = split.flatMap((s) => s.first);
  const laterFiles = split.flatMap((s) => s.later);
  const allFiles = [...firstFiles, ...laterFiles];
  const resets = allFiles.flatMap((f) => f.hooks['beforeEach:suite'] || []);
  const perTestEvents = allFiles.map((f) => f.eventMs / Math.max(1, f.tests));
  const fig = {
    live: summarize(samples.live),
    memory: summarize(samples.memory),
    globalSetup: summarize(globalSetup),
    globalTeardown: summarize(globalTeardown),
    firstFileSetup: summarize(firstFiles.map(fileSetup)),
    firstFileEnvSetup: summarize(firstFiles.map((f) => f.setupMs)),
    firstFilePrepare: summarize(firstFiles.map((f) => hook(f, 'beforeAll:root'))),
    laterFileSetup: summarize(laterFiles.map(fileSetup)),
    laterFileEnvSetup: summarize(laterFiles.map((f) => f.setupMs)),
    laterFilePrepare: summarize(laterFiles.map((f) => hook(f, 'beforeAll:root'))),
    suiteBeforeAll: summarize(allFiles.map((f) => hook(f, 'beforeAll:suite'))),
    fileTeardown: summarize(allFiles.map((f) => f.teardownMs + hook(f, 'afterAll:root'))),
    perTestReset: summarize(resets),
    perTestEvents: summarize(perTestEvents),
  };
  const ratio = round(fig.live.median / fig.memory.median);
  const row = (label, s, what) => [label, s.median, s.p90, s.min, s.max, s.n, what];
  // Drop the raw per-reset samples from the JSON beyond a summary: there are ~1,000 of them.
  fig.perTestReset = { ...fig.perTestReset, samples: undefined };
  return {
    title: `Live overhead: conformance suite live (preset) vs in memory (plain Jest)`,
    notes: [
      `${tests.live.passed} specs run (+${tests.live.pending} skipped: no createFreshStore) in ${tests.live.files} files; jest --ci --silent ${ARGS.join(' ')}.`,
      `${RUNS} alternating pairs after one warm-up pair. Live figures come from the preset's own environment`,
      'and global hooks wrapped by bench/fixture/ (the preset has no timing hook of its own).',
      "Per-file setup = environment setup (pool, worker schema) + the preset's beforeAll (migrate once per worker, reset).",
    ],
    tables: [
      {
        headers: ['figure', 'median ms', 'p90 ms', 'min ms', 'max ms', 'n', 'what'],
        rows: [
          row('whole run, live', fig.live, 'spawn to exit'),
          row('whole run, memory', fig.memory, 'spawn to exit'),
          ['live / memory', ratio, '', '', '', '', 'ratio of medians'],
          row('globalSetup', fig.globalSetup, 'connect, checks, ledger, run lock, GC'),
          row('globalTeardown', fig.globalTeardown, 'drop run schemas, unlock, close'),
          row('file setup, first per worker', fig.firstFileSetup, 'creates + migrates schema'),
          row('  environment setup', fig.firstFileEnvSetup, 'pool + ledger row + CREATE SCHEMA'),
          row('  preset beforeAll', fig.firstFilePrepare, 'migrate + reset'),
          row('file setup, schema exists', fig.laterFileSetup, 'target <= 20 ms'),
          row('  environment setup', fig.laterFileEnvSetup, 'reused pool'),
          row('  preset beforeAll', fig.laterFilePrepare, 'reset'),
          row(
            'suite beforeAll (not preset)',
            fig.suiteBeforeAll,
            'conformance harness: store.migrate()',
          ),
          row('file teardown', fig.fileTeardown, 'environment teardown + store close'),
          row('per-test reset', fig.perTestReset, 'suite beforeEach -> live.reset()'),
          row('per-test event handling', fig.perTestEvents, "preset's handleTestEvent, per test"),
        ],
      },
    ],
    targets: [
      target(
        'per-test reset of an almost empty schema (median)',
        fig.perTestReset.median,
        1,
        'max',
        'ms',
        'absolute',
      ),
      target(
        'per-file setup once the worker schema exists (median)',
        fig.laterFileSetup.median,
        20,
        'max',
        'ms',
        'absolute',
      ),
      target('globalSetup (median)', fig.globalSetup.median, 300, 'max', 'ms', 'absolute'),
    ],
    data: { files: SUITE_FILES, args: ARGS, tests: tests.live, ratio, figures: fig },
  };
}

module.exports = { name: 'live', run };
