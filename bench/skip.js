/**
 * Benchmark 1, skip overhead: a project of 20 test files x 10 ordinary tests, with the preset and
 * no USER_ENGINE_LIVE_* variables (live tests off), against the same project without the preset.
 * Whole `jest` child-process runs, same flags, alternating order, in two scheduling modes:
 * Jest's own choice (with <= 20 files that its cache knows to be fast, Jest runs them in band)
 * and two worker processes forced. Then, in fresh Node processes, what each preset entry point
 * costs to load when live tests are off, to show where any overhead would come from.
 */
'use strict';
const { execFileSync } = require('child_process');
const path = require('path');
const { REPO } = require('./lib/db');
const { alternate, assertSameTests, childEnv } = require('./lib/jest-run');
const { takeTimings } = require('./lib/live-suite');
const { removeProject, skipProject } = require('./lib/fixtures');
const { median, round, summarize, target } = require('./lib/stats');

const FILES = 20;
const TESTS = 10;
const RUNS = 7;
const LOAD_SAMPLES = 5;
const MODES = [
  { key: 'default', label: "Jest's choice (in band)", args: ['--maxWorkers=2'] },
  // A memory limit makes Jest always use workers (it otherwise runs <= 20 fast files in band);
  // 4GB is never reached, so no worker is ever recycled.
  {
    key: 'workers',
    label: '2 workers forced',
    args: ['--maxWorkers=2', '--workerIdleMemoryLimit=4GB'],
  },
];

/** Jest's own per-file figures (ms resolution, hence medians over every file of every run). */
function perFileFigures(perf) {
  const figure = (name, key) => median((perf[name] || []).map((r) => r[key]));
  return {
    files: (perf.preset || []).length,
    presetRuntime: figure('preset', 'runtimeMs'),
    plainRuntime: figure('plain', 'runtimeMs'),
    presetLoadEnv: figure('preset', 'loadEnvMs'),
    plainLoadEnv: figure('plain', 'loadEnvMs'),
  };
}

function entryCosts() {
  const preset = require(path.join(REPO, 'jest-preset.js'));
  const probe = path.join(__dirname, 'lib', 'load-cost.js');
  const entries = [
    ['globalSetup (parent, once)', preset.globalSetup, 'call'],
    ['globalTeardown (parent, once)', preset.globalTeardown, 'call'],
    ['testEnvironment (once per worker)', preset.testEnvironment, 'load'],
    ['setup-store (once per test file)', preset.setupFilesAfterEnv[0], 'load'],
  ];
  return entries.map(([label, file, mode]) => {
    const samples = [];
    for (let i = 0; i < LOAD_SAMPLES; i++) {
      const out = execFileSync(process.execPath, [probe, file, mode], {
        cwd: REPO,
        env: childEnv(),
        encoding: 'utf8',
      });
      samples.push(JSON.parse(out));
    }
    return {
      label,
      loadMs: round(median(samples.map((s) => s.loadMs))),
      callMs: round(median(samples.map((s) => s.callMs))),
      modules: samples[0].modules,
    };
  });
}

async function run({ log }) {
  const project = skipProject({ files: FILES, tests: TESTS });
  const modes = {};
  const timingsFile = path.join(project.dir, 'timings.jsonl');
  let perf = {};
  const side = (name, config, args) => ({
    name,
    dir: project.dir,
    config,
    args,
    env: { BENCH_TIMINGS_FILE: timingsFile },
    afterRun: (i) => {
      const records = takeTimings(timingsFile).filter((r) => r.kind === 'perf');
      if (i >= 0) (perf[name] ??= []).push(...records);
    },
  });
  try {
    for (const mode of MODES) {
      perf = {};
      const measured = await alternate({
        runs: RUNS,
        log: (line) => log(`skip (${mode.key}): ${line}`),
        a: side('preset', project.preset, mode.args),
        b: side('plain', project.plain, mode.args),
      });
      const { samples, cpu, tests } = measured;
      assertSameTests(tests.preset, tests.plain, 'skip overhead');
      if (tests.preset.passed !== FILES * TESTS)
        throw new Error(
          `skip overhead: expected ${FILES * TESTS} passing tests, got ${JSON.stringify(tests.preset)}`,
        );
      const pairRatios = samples.preset.map((p, i) => p / samples.plain[i]);
      modes[mode.key] = {
        ...mode,
        preset: summarize(samples.preset),
        plain: summarize(samples.plain),
        pairRatios: pairRatios.map((r) => round(r)),
        perFile: perFileFigures(perf),
        cpu:
          cpu.preset.length > 0
            ? { preset: summarize(cpu.preset), plain: summarize(cpu.plain) }
            : undefined,
      };
    }
  } finally {
    removeProject(project.dir);
  }
  const costs = entryCosts();
  const rows = [];
  const targets = [];
  for (const m of Object.values(modes)) {
    const ratio = round(m.preset.median / m.plain.median);
    m.ratio = ratio;
    rows.push(
      [m.label, 'with preset (live off)', m.preset.median, m.preset.min, m.preset.max, m.preset.n],
      [m.label, 'without preset', m.plain.median, m.plain.min, m.plain.max, m.plain.n],
      [m.label, 'ratio of medians', ratio, '', '', ''],
      [
        m.label,
        'median of pair ratios',
        round(median(m.pairRatios)),
        round(Math.min(...m.pairRatios)),
        round(Math.max(...m.pairRatios)),
        m.pairRatios.length,
      ],
    );
    const pf = m.perFile;
    rows.push(
      [m.label, 'per file: runtime, with preset', pf.presetRuntime, '', '', pf.files],
      [m.label, 'per file: runtime, without preset', pf.plainRuntime, '', '', pf.files],
      [m.label, 'per file: env load, with preset', pf.presetLoadEnv, '', '', pf.files],
      [m.label, 'per file: env load, without preset', pf.plainLoadEnv, '', '', pf.files],
    );
    if (m.cpu) {
      m.cpuRatio = round(m.cpu.preset.median / m.cpu.plain.median);
      rows.push(
        [
          m.label,
          'CPU ms, with preset',
          m.cpu.preset.median,
          m.cpu.preset.min,
          m.cpu.preset.max,
          m.cpu.preset.n,
        ],
        [
          m.label,
          'CPU ms, without preset',
          m.cpu.plain.median,
          m.cpu.plain.min,
          m.cpu.plain.max,
          m.cpu.plain.n,
        ],
        [m.label, 'CPU ratio of medians', m.cpuRatio, '', '', ''],
      );
    }
    targets.push(
      target(
        `whole run, preset (off) / no preset, ${m.label}`,
        ratio,
        1.05,
        'max',
        'x',
        'same project without the preset, same run',
      ),
    );
  }
  return {
    title: `Skip overhead: preset with live tests off vs no preset (${FILES} files x ${TESTS} tests)`,
    notes: [
      `jest --ci --silent, child processes, no USER_ENGINE_LIVE_* variables; ${RUNS} alternating pairs after a warm-up pair, per mode.`,
      "Jest's choice: Jest runs <= 20 files in band once its cache knows them fast (both configs alike).",
      'CPU = user + system time of jest and its workers (GNU time), less disturbed by neighbours than wall time.',
      "Per file: Jest's own perfStats (ms resolution), median over every file of every run.",
      'Entry-point costs: median of fresh Node processes, live tests off (what the preset adds to Jest).',
    ],
    tables: [
      {
        headers: ['mode', 'run', 'median ms', 'min ms', 'max ms', 'n'],
        rows,
      },
      {
        caption: 'Preset entry points with live tests off (fresh process each)',
        headers: ['entry point', 'load ms', 'call ms', 'modules loaded'],
        rows: costs.map((c) => [c.label, c.loadMs, c.callMs, c.modules]),
      },
    ],
    targets,
    data: { files: FILES, testsPerFile: TESTS, modes, entryCosts: costs },
  };
}

module.exports = { name: 'skip', run };
