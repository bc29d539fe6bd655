#!/usr/bin/env node
/**
 * `npm run conformance`: the shared conformance suite, live, through the Jest preset, with two
 * workers. Against USER_ENGINE_LIVE_DSN when it is set (USER_ENGINE_LIVE_RESET is then required as
 * for any live run); otherwise against a throwaway embedded PostgreSQL (zero infrastructure).
 * USER_ENGINE_LIVE_REQUIRED=1 is forced, so a misconfiguration fails instead of skipping green.
 * Extra arguments go to Jest. Exits with Jest's exit code.
 */
'use strict';
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
// What the preset, the suite and the reporter load: all compiled.
const BUILT = [
  'dist/index.js',
  'dist/conformance/index.js',
  'dist/jest/parent/global-setup.js',
  'dist/jest/worker/environment.js',
  'dist/summary-reporter.js',
];

function ensureBuilt() {
  const missing = BUILT.filter((file) => !fs.existsSync(path.join(root, file)));
  if (missing.length === 0) return;
  process.stderr.write(`conformance: ${missing[0]} is missing; running npm run build first\n`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const build = spawnSync(npm, ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) {
    process.stderr.write('conformance: npm run build failed\n');
    process.exit(build.status || 1);
  }
}

function liveEnv() {
  const env = { ...process.env, USER_ENGINE_LIVE_REQUIRED: '1' };
  // Set when this script runs inside a Jest worker; Jest sets its own per worker.
  delete env.JEST_WORKER_ID;
  if (!env.USER_ENGINE_LIVE_DSN) {
    env.USER_ENGINE_LIVE_DSN = 'embedded';
    process.stderr.write(
      'conformance: USER_ENGINE_LIVE_DSN is not set: starting an embedded PostgreSQL for this run\n',
    );
  }
  return env;
}

ensureBuilt();
// jest's package exports hide bin/jest.js from require.resolve; the path is stable.
const jest = path.join(root, 'node_modules', 'jest', 'bin', 'jest.js');
const child = spawn(
  process.execPath,
  [
    jest,
    '--config',
    path.join(root, 'conformance', 'jest.config.js'),
    '--maxWorkers=2',
    ...process.argv.slice(2),
  ],
  { cwd: root, env: liveEnv(), stdio: 'inherit' },
);
// Jest's globalTeardown drops the run's schemas (and stops an embedded server): let it run.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => child.kill(signal));
}
child.on('exit', (code, signal) => {
  process.exitCode = code ?? (signal ? 1 : 0);
});
