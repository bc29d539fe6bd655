/**
 * Provider projects for child Jest runs under faults: the e2e harness's `provider` fixture (the
 * built preset linked in), with its tests replaced by the small ones below, so each run does
 * little besides meeting the fault.
 */
import * as fs from 'fs';
import * as path from 'path';
import { prepareProject } from '../../e2e/support/harness';

/** Appends a line to $FAULTS_BODY_LOG whenever a test body runs: "no test body ran" is checkable. */
const BODY_LOG = `
const fs = require('fs');
function bodyRan(name) {
  if (process.env.FAULTS_BODY_LOG) fs.appendFileSync(process.env.FAULTS_BODY_LOG, name + '\\n');
}
`;

/**
 * A live file whose second test parks in a long statement after writing $FAULTS_PARK_MARKER, so
 * the harness can cut or freeze the connection under it; the third runs after it.
 */
export const PARKING_TEST = `/* global test, expect */
const { describeLive } = require('@user-engine/jest-live');
${BODY_LOG}
describeLive('faults (live)', (live) => {
  test('before the fault', async () => {
    bodyRan('before');
    await live.store.upsertUser({ email: 'before@example.org', displayName: 'Before' });
    expect((await live.recordCounts()).user_engine_users).toBe(1);
  });

  test('parked when the fault hits', async () => {
    bodyRan('parked');
    await live.store.upsertUser({ email: 'parked@example.org', displayName: 'Parked' });
    fs.writeFileSync(process.env.FAULTS_PARK_MARKER, live.schema);
    await live.connection.query('SELECT pg_sleep(' + (process.env.FAULTS_PARK_SECONDS || '3') + ')');
  });

  test('after the fault', async () => {
    bodyRan('after');
    await live.connection.query('SELECT 1');
  });
});
`;

/** A live file with one quick test: proves whether any live test body ran at all. */
export const QUICK_TEST = `/* global test, expect */
const { describeLive } = require('@user-engine/jest-live');
${BODY_LOG}
describeLive('quick (live)', (live) => {
  test('touches the store', async () => {
    bodyRan('quick');
    await live.store.upsertUser({ email: 'quick@example.org', displayName: 'Quick' });
    expect((await live.recordCounts()).user_engine_users).toBe(1);
  });
});
`;

export interface FaultsProjectOptions {
  /** File name (under tests/) → source. */
  tests: Record<string, string>;
  /** Merged into the fixture's Jest config. */
  config?: Record<string, unknown>;
}

/** A temp provider project (removed by the harness's `removeProjects`). */
export function faultsProject(options: FaultsProjectOptions): string {
  const dir = prepareProject('provider');
  const testsDir = path.join(dir, 'tests');
  fs.rmSync(testsDir, { recursive: true, force: true });
  fs.mkdirSync(testsDir);
  for (const [name, source] of Object.entries(options.tests)) {
    fs.writeFileSync(path.join(testsDir, name), source);
  }
  const config = {
    preset: '@user-engine/jest-live',
    transform: {},
    testMatch: ['<rootDir>/tests/**/*.test.js'],
    cacheDirectory: '<rootDir>/.jest-cache',
    ...options.config,
  };
  fs.writeFileSync(
    path.join(dir, 'jest.config.js'),
    `module.exports = ${JSON.stringify(config, null, 2)};\n`,
  );
  return dir;
}

/** Lines the tests of a run appended to its body log (empty when none ran). */
export function bodiesRun(logFile: string): string[] {
  return fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').split('\n').filter(Boolean) : [];
}
