/**
 * Benchmark 5, worker scaling: the live conformance suite (split over several files) with one
 * Jest worker and with two, whole child runs alternating. Reports the speed-up of two workers and
 * where the time goes: the sum of the test files' own durations against the whole run.
 */
'use strict';
const os = require('os');
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
const { median, round, summarize } = require('./lib/stats');

const RUNS = 5;

/** Per run: the test files' durations (environment setup to teardown) summed, and per worker. */
function fileTimes(records) {
  const files = records.filter((r) => r.kind === 'file');
  const perWorker = new Map();
  for (const f of files) perWorker.set(f.pid, (perWorker.get(f.pid) || 0) + (f.at - f.startedAt));
  const busiest = Math.max(0, ...perWorker.values());
  const sum = [...perWorker.values()].reduce((a, b) => a + b, 0);
  const { first } = splitFirstFiles(records);
  return {
    sum,
    busiest,
    firstFileSetup: first.map((f) => f.setupMs + (f.hooks['beforeAll:root'] || [0])[0]),
  };
}

async function run({ dsn, log }) {
  const project = suiteProject({ files: SUITE_FILES });
  const timingsFile = timingsFileOf(project.dir);
  const figures = { one: [], two: [] };
  const side = (name, workers) => ({
    name,
    dir: project.dir,
    config: project.live,
    args: workers === 1 ? ['--maxWorkers=1'] : TWO_WORKERS,
    env: liveEnv(dsn, timingsFile),
    afterRun: (i) => {
      const times = fileTimes(takeTimings(timingsFile));
      if (i >= 0) figures[name].push(times);
    },
  });
  let measured;
  try {
    measured = await alternate({
      runs: RUNS,
      log: (line) => log(`workers: ${line}`),
      a: side('one', 1),
      b: side('two', 2),
    });
  } finally {
    removeProject(project.dir);
  }
  const { samples, tests } = measured;
  assertSameTests(tests.one, tests.two, 'worker scaling');
  const one = summarize(samples.one);
  const two = summarize(samples.two);
  const speedup = round(one.median / two.median);
  const row = (label, wall, name) => {
    const f = figures[name];
    const sum = median(f.map((x) => x.sum));
    const busiest = median(f.map((x) => x.busiest));
    return [
      label,
      wall.median,
      wall.min,
      wall.max,
      wall.n,
      sum,
      busiest,
      round(wall.median - busiest),
      round(median(f.flatMap((x) => x.firstFileSetup))),
    ];
  };
  return {
    title: 'Worker scaling: live conformance suite, --maxWorkers=1 vs 2',
    notes: [
      `${tests.one.passed} specs in ${tests.one.files} files, live through the preset; ${RUNS} alternating pairs after a warm-up.`,
      `--maxWorkers=1 runs in band (no worker process); 2 = ${TWO_WORKERS.join(' ')} (see bench/lib/live-suite.js),`,
      'each worker creating and migrating its own schema.',
      `Machine: ${os.cpus().length} cores, shared with PostgreSQL and Jest's parent process.`,
      'File time = environment setup to teardown of each test file; "outside files" = wall - busiest worker.',
    ],
    tables: [
      {
        headers: [
          'workers',
          'wall median ms',
          'min ms',
          'max ms',
          'n',
          'file time, sum ms',
          'busiest worker ms',
          'outside files ms',
          'first-file setup ms',
        ],
        rows: [
          row('1 (in band)', one, 'one'),
          row('2', two, 'two'),
          ['speed-up (1 / 2)', speedup, '', '', '', '', '', '', ''],
        ],
      },
    ],
    targets: [],
    data: { files: SUITE_FILES, tests: tests.one, one, two, speedup, fileTimes: figures },
  };
}

module.exports = { name: 'workers', run };
