/**
 * Throwaway provider projects in the temp dir, consuming this repository exactly as a provider
 * does: `node_modules/@user-engine/jest-live` is a symlink to the repo root (compiled dist/), and
 * Jest runs as a child process. Each project holds a config WITH the preset and one WITHOUT it
 * over the same test files (or the same suite), so the two differ only by the preset.
 */
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { REPO } = require('./db');

const FIXTURE_SUPPORT = path.join(REPO, 'bench', 'fixture');

function newProject(kind) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ue-bench-${kind}-`));
  const scope = path.join(dir, 'node_modules', '@user-engine');
  fs.mkdirSync(scope, { recursive: true });
  fs.symlinkSync(REPO, path.join(scope, 'jest-live'), 'dir');
  fs.writeFileSync(
    path.join(dir, 'package.json'),
    `${JSON.stringify({ name: `ue-bench-${kind}`, private: true }, null, 2)}\n`,
  );
  return dir;
}

function writeConfig(dir, file, config) {
  fs.writeFileSync(path.join(dir, file), `module.exports = ${JSON.stringify(config, null, 2)};\n`);
  return path.join(dir, file);
}

/** An ordinary unit-test file: `tests` small synchronous tests, a little real work each. */
function plainTestFile(fileNo, tests) {
  const body = Array.from(
    { length: tests },
    (_, t) => `test('file ${fileNo} case ${t}', () => {
  expect(fib(${12 + (t % 5)})).toBe(${[144, 233, 377, 610, 987][t % 5]});
  expect({ n: ${t}, tags: ['a', 'b'] }).toEqual({ n: ${t}, tags: ['a', 'b'] });
});`,
  ).join('\n\n');
  return `/* global test, expect */
function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

${body}
`;
}

/**
 * Benchmark 1's project: `files` x `tests` ordinary tests; `jest.preset.config.js` uses the
 * preset, `jest.plain.config.js` does not. Nothing else differs (same transform, same match).
 */
function skipProject({ files, tests }) {
  const dir = newProject('skip');
  fs.mkdirSync(path.join(dir, 'tests'));
  for (let f = 1; f <= files; f++) {
    const name = `unit-${String(f).padStart(2, '0')}.test.js`;
    fs.writeFileSync(path.join(dir, 'tests', name), plainTestFile(f, tests));
  }
  const common = {
    transform: {},
    testMatch: ['<rootDir>/tests/**/*.test.js'],
    // Jest's per-file figures, recorded the same way on both sides.
    reporters: ['default', path.join(FIXTURE_SUPPORT, 'perf-reporter.js')],
  };
  return {
    dir,
    preset: writeConfig(dir, 'jest.preset.config.js', {
      ...common,
      preset: '@user-engine/jest-live',
      cacheDirectory: '<rootDir>/.jest-cache-preset',
    }),
    plain: writeConfig(dir, 'jest.plain.config.js', {
      ...common,
      testEnvironment: 'node',
      cacheDirectory: '<rootDir>/.jest-cache-plain',
    }),
  };
}

/**
 * Splits the conformance catalogue's groups over `files` files, largest group first into the
 * file with the fewest specs so far: one suite's worth of specs in total, spread so that workers
 * get several files each (what per-file costs and worker scaling need).
 */
function splitGroups(files) {
  const { listConformanceSpecs } = require(path.join(REPO, 'dist', 'conformance', 'index.js'));
  const sizes = new Map();
  for (const spec of listConformanceSpecs())
    sizes.set(spec.group, (sizes.get(spec.group) || 0) + 1);
  const bins = Array.from({ length: files }, () => ({ groups: [], specs: 0 }));
  for (const [group, count] of [...sizes].sort((a, b) => b[1] - a[1])) {
    const bin = bins.reduce((min, b) => (b.specs < min.specs ? b : min));
    bin.groups.push(group);
    bin.specs += count;
  }
  return bins.filter((b) => b.groups.length > 0);
}

/**
 * A test file registering the shared suite through its own registration function, restricted to
 * `groups` (the other groups' describe blocks are not declared at all). Same specs, same harness
 * and hooks as `runStoreConformance`.
 */
function suiteFile(kind, groups) {
  const register = JSON.stringify(path.join(REPO, 'dist', 'conformance', 'register.js'));
  const head = `/* global describe */
// Part of the shared conformance suite (groups: ${groups.join(', ')}), ${kind === 'live' ? 'live, through the preset' : 'in memory, plain Jest'}.
const { registerConformance, jestSuiteApi } = require(${register});

const GROUPS = ${JSON.stringify(groups)};
let depth = 0;
const api = {
  ...jestSuiteApi,
  describe(title, fn) {
    // Depth 0 is the suite's own block, depth 1 a spec group.
    if (depth === 1 && !GROUPS.includes(title)) return;
    jestSuiteApi.describe(title, () => {
      depth += 1;
      try {
        fn();
      } finally {
        depth -= 1;
      }
    });
  },
};
`;
  if (kind === 'live') {
    return `${head}const { describeLive } = require('@user-engine/jest-live');

describeLive('store conformance (live)', (live) => {
  registerConformance(
    'preset store',
    { createStore: () => live.store, reset: () => live.reset(), closeStore: async () => {} },
    api,
  );
});
`;
  }
  return `${head}const { InMemoryUserEngineStore } = require('@user-engine/jest-live/store');

describe('store conformance (memory)', () => {
  registerConformance('memory store', { createStore: () => new InMemoryUserEngineStore() }, api);
});
`;
}

/**
 * Benchmarks 2 and 5: the conformance suite split over `files` files, live through the preset
 * (`jest.live.config.js`, instrumented: see bench/fixture/) and in memory with plain Jest
 * (`jest.memory.config.js`). Neither passes createFreshStore, so both run the same specs.
 */
function suiteProject({ files }) {
  const dir = newProject('suite');
  const bins = splitGroups(files);
  for (const sub of ['live', 'memory']) fs.mkdirSync(path.join(dir, sub));
  bins.forEach((bin, i) => {
    const name = `conformance-${String(i + 1).padStart(2, '0')}.test.js`;
    fs.writeFileSync(path.join(dir, 'live', name), suiteFile('live', bin.groups));
    fs.writeFileSync(path.join(dir, 'memory', name), suiteFile('memory', bin.groups));
  });
  return {
    dir,
    files: bins.map((b) => ({ groups: b.groups, specs: b.specs })),
    live: writeConfig(dir, 'jest.live.config.js', {
      preset: '@user-engine/jest-live',
      // The preset's own environment and global hooks, wrapped only to record their timings.
      testEnvironment: path.join(FIXTURE_SUPPORT, 'timed-environment.js'),
      globalSetup: path.join(FIXTURE_SUPPORT, 'timed-global-setup.js'),
      globalTeardown: path.join(FIXTURE_SUPPORT, 'timed-global-teardown.js'),
      transform: {},
      testMatch: ['<rootDir>/live/**/*.test.js'],
      cacheDirectory: '<rootDir>/.jest-cache-live',
    }),
    memory: writeConfig(dir, 'jest.memory.config.js', {
      testEnvironment: 'node',
      transform: {},
      testMatch: ['<rootDir>/memory/**/*.test.js'],
      cacheDirectory: '<rootDir>/.jest-cache-memory',
    }),
  };
}

function removeProject(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
}

module.exports = { skipProject, suiteProject, removeProject };
