/**
 * The preset under each Jest it supports (29.7 and 30), with the package installed as a consumer
 * gets it: copied, with only its declared dependencies (and `pg`) beside it, so the one
 * `jest-environment-node` it can find is the running Jest's own. For each version, a CommonJS
 * provider project and an ES module one (`"type": "module"`, `jest.config.mjs`, ESM tests and
 * store factory) run the shared suite live and pass.
 * Jest 29.7 comes from `.cache/jest-29.7.0` (scripts/install-jest.js; npm installs it once).
 */
import { execFileSync } from 'child_process';
import * as path from 'path';
import {
  assertBuilt,
  describeRun,
  prepareProject,
  removeProjects,
  REPO,
  runJest,
  SENTINEL_PASSWORD,
  titles,
  type JestRun,
} from './support/harness';
import { resolveJestEnvironmentNode } from '../../src/jest/worker/consumer-jest';
import { createTestDatabase, describeWithDatabase, type TestDatabase } from '../support/database';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { ensureJest } = require('../../scripts/install-jest.js') as {
  ensureJest(version: string): string;
};

jest.setTimeout(300_000);

const JESTS = [
  { major: 29, bin: () => ensureJest('29.7.0') },
  { major: 30, bin: () => path.join(REPO, 'node_modules', 'jest', 'bin', 'jest.js') },
];

function expectPassed(run: JestRun, suites: number): void {
  if (run.code !== 0 || !run.json?.success) {
    throw new Error(`expected a passing run\n${describeRun(run)}`);
  }
  expect(run.json.numTotalTestSuites).toBe(suites);
  expect(run.json.numFailedTests).toBe(0);
  expect(run.json.numPendingTests).toBe(0);
  expect(run.allOutput).not.toContain(SENTINEL_PASSWORD);
}

describeWithDatabase.each(JESTS)('the preset under Jest $major', ({ major, bin }) => {
  let db: TestDatabase;
  let jestBin: string;

  beforeAll(async () => {
    assertBuilt();
    jestBin = bin();
    db = await createTestDatabase(`jest${major}`, { prefix: 'ue_ergo_' });
  });
  afterAll(async () => {
    removeProjects();
    await db?.drop();
  });

  test('the CLI is that Jest', () => {
    const version = execFileSync(process.execPath, [jestBin, '--version'], { encoding: 'utf8' });
    expect(version.trim().split('.')[0]).toBe(String(major));
  });

  test('the package alone cannot resolve jest-environment-node: it must use Jest’s', () => {
    const project = prepareProject('provider', { isolatedWith: ['pg'] });
    const pkg = path.join(project, 'node_modules', '@user-engine', 'jest-live');
    expect(() => require.resolve('jest-environment-node', { paths: [pkg] })).toThrow(
      /Cannot (find|resolve) module/,
    );
  });

  test('resolveJestEnvironmentNode picks the copy of the loaded jest-runner', () => {
    // npm's flat layout: jest-runner sits beside jest.
    const modules = path.resolve(path.dirname(jestBin), '..', '..');
    const runner = path.join(modules, 'jest-runner', 'build', 'index.js');
    const unrelated = path.join(REPO, 'node_modules', 'jest-config', 'build', 'index.js');
    const found = resolveJestEnvironmentNode([unrelated, runner], path.join(REPO, 'no-project'));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const manifest = require(path.join(found, '..', '..', 'package.json')) as { version: string };
    expect(manifest.version.split('.')[0]).toBe(String(major));
    expect(found).toBe(path.join(modules, 'jest-environment-node', 'build', 'index.js'));
  });

  test('a CommonJS provider project runs the shared suite live', async () => {
    const project = prepareProject('provider', { isolatedWith: ['pg'] });
    const run = await runJest(project, {
      jestBin,
      env: db.liveEnv({ USER_ENGINE_LIVE_REQUIRED: '1' }),
    });
    expectPassed(run, 3);
    const readiness = titles(run, 'passed').filter((name) =>
      name.includes('readiness & migration'),
    );
    expect(readiness.length).toBeGreaterThanOrEqual(24);
    expect(run.json!.numPassedTests).toBeGreaterThan(200);
    expect(await db.leftovers()).toEqual({ runSchemas: [], ledgerRows: 0, backends: 0 });
  });

  test('an ES module provider project (type module, jest.config.mjs, ESM factory) runs live', async () => {
    const project = prepareProject('esm', { isolatedWith: ['pg'] });
    const run = await runJest(project, {
      jestBin,
      env: db.liveEnv({
        USER_ENGINE_LIVE_REQUIRED: '1',
        NODE_OPTIONS: '--experimental-vm-modules',
      }),
    });
    expectPassed(run, 1);
    expect(titles(run, 'passed')).toContain(
      'esm store (live) the provider factory built the store, in the worker schema',
    );
    expect(run.json!.numPassedTests).toBeGreaterThan(200);
    expect(await db.leftovers()).toEqual({ runSchemas: [], ledgerRows: 0, backends: 0 });
  });

  test('the same ESM project configured in TypeScript (read by Jest through ts-node)', async () => {
    const project = prepareProject('esm', { isolatedWith: ['pg'] });
    const run = await runJest(project, {
      jestBin,
      // One spec is enough here: the suite itself ran above; this proves the TS config is used.
      args: ['--config', 'typescript.jest.config.ts', '-t', 'the provider factory built the store'],
      env: db.liveEnv({
        USER_ENGINE_LIVE_REQUIRED: '1',
        NODE_OPTIONS: '--experimental-vm-modules',
      }),
    });
    if (run.code !== 0) throw new Error(`expected a passing run\n${describeRun(run)}`);
    expect(titles(run, 'passed')).toEqual([
      'esm store (live) the provider factory built the store, in the worker schema',
    ]);
  });
});

describeWithDatabase('an ES module store factory without Jest ES module mode', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    assertBuilt();
    db = await createTestDatabase('esmfactory', { prefix: 'ue_ergo_' });
  });
  afterAll(async () => {
    removeProjects();
    await db?.drop();
  });

  test('fails the file naming the option, the module and the fix', async () => {
    const project = prepareProject('esm', { isolatedWith: ['pg'] });
    const run = await runJest(project, {
      args: ['--config', 'cjs-tests.config.mjs'],
      env: db.liveEnv(),
    });
    expect(run.code).toBe(1);
    const message = run.json?.testResults[0]?.message ?? '';
    expect(message).toContain('StoreFactoryError');
    expect(message).toContain('testEnvironmentOptions.userEngineLive.storeFactory');
    expect(message).toContain('store-factory.js) is an ES module');
    expect(message).toContain('NODE_OPTIONS=--experimental-vm-modules');
    expect(await db.leftovers()).toEqual({ runSchemas: [], ledgerRows: 0, backends: 0 });
  });
});
