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
 * The skip path's project: `files` x `tests` ordinary tests; `jest.preset.config.js` uses the
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

function removeProject(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
}

module.exports = { newProject, writeConfig, skipProject, removeProject };
