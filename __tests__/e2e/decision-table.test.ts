/**
 * Every row of the live decision table, through the real `jest` CLI and the built preset: the
 * skip rows (exit 0, live tests skipped, no preset output, no driver loaded) and the fail-closed
 * rows (exit ≠ 0 before any test, the variable at fault named, password never shown, nothing
 * written to the database).
 */
import { spawnSync } from 'child_process';
import * as path from 'path';
import {
  assertBuilt,
  cleanEnv,
  describeRun,
  prepareProject,
  REPO,
  removeProjects,
  runJest,
  SENTINEL_PASSWORD,
  titles,
  type JestRun,
} from './support/harness';
import { ADMIN_DSN, createTestDatabase, type TestDatabase } from '../support/database';

jest.setTimeout(120_000);

/** Anything the preset would print mentions the package or its variables. */
const PRESET_OUTPUT = /user[-_ ]?engine|USER_ENGINE|console\.(log|info|warn|error)/i;
const DATABASE = 'ue_e2e_decision';
/** Never connected to in the fail-closed rows: they must fail before any connection. */
const DSN = `postgres://postgres:${SENTINEL_PASSWORD}@127.0.0.1:5432/${DATABASE}`;

let provider: string;

beforeAll(() => {
  assertBuilt();
  provider = prepareProject('provider');
});
afterAll(removeProjects);

function expectSkippedRun(run: JestRun): void {
  expect({ code: run.code, success: run.json?.success }).toEqual({ code: 0, success: true });
  const json = run.json!;
  expect(json.numFailedTests).toBe(0);
  // Only the plain unit test runs; every live test is reported as skipped (pending).
  expect(json.numPassedTests).toBe(1);
  expect(titles(run, 'passed')).toEqual(['plain tests always run']);
  expect(json.numPendingTests).toBe(json.numTotalTests - 1);
  expect(json.numPendingTests).toBeGreaterThan(60);
  expect(titles(run, 'pending')).toEqual(
    expect.arrayContaining([
      'accounts (live) starts every file with an empty, migrated schema',
      'accounts (live) reset empties the managed tables',
    ]),
  );
}

describe('skip rows', () => {
  test('no USER_ENGINE_LIVE_DSN: live tests skipped, exit 0, the preset prints nothing', async () => {
    const run = await runJest(provider, { args: ['--verbose=false'] });
    expectSkippedRun(run);
    expect(run.stderr.replace(/Test results written to: .*/, '')).not.toMatch(PRESET_OUTPUT);
    expect(run.stdout).toBe('');
  });

  test('USER_ENGINE_LIVE_DSN set to the empty string: skipped like unset', async () => {
    expectSkippedRun(await runJest(provider, { env: { USER_ENGINE_LIVE_DSN: '' } }));
  });

  test('USER_ENGINE_LIVE_RESET without a DSN: skipped', async () => {
    expectSkippedRun(await runJest(provider, { env: { USER_ENGINE_LIVE_RESET: DATABASE } }));
  });

  test('DATABASE_URL and PG* are never read: still skipped', async () => {
    const env = {
      DATABASE_URL: DSN,
      PGHOST: '127.0.0.1',
      PGDATABASE: DATABASE,
      PGUSER: 'postgres',
    };
    expectSkippedRun(await runJest(provider, { env }));
  });

  test('no driver module is loaded in a skipped run (in band, Node module cache)', () => {
    const probe = spawnSync(
      process.execPath,
      [
        path.join(__dirname, 'support', 'probe-in-band.js'),
        path.join(REPO, 'node_modules', 'jest'),
      ],
      { cwd: provider, env: cleanEnv(), encoding: 'utf8', timeout: 120_000 },
    );
    const last = probe.stdout.trim().split('\n').pop() ?? '';
    expect(JSON.parse(last)).toEqual({
      success: true,
      passed: 1,
      pending: expect.any(Number),
      failed: 0,
      drivers: [],
    });
  });

  test('a project where neither pg nor postgres can be resolved skips cleanly', async () => {
    const isolated = prepareProject('provider', { withoutDrivers: true });
    for (const driver of ['pg', 'postgres']) {
      expect(() => require.resolve(driver, { paths: [isolated] })).toThrow();
    }
    const run = await runJest(isolated, { args: ['--verbose=false'] });
    expectSkippedRun(run);
    expect(run.stderr.replace(/Test results written to: .*/, '')).not.toMatch(PRESET_OUTPUT);
  });
});

interface FailRow {
  name: string;
  env: Record<string, string>;
  /** Must all appear in the output. */
  mentions: string[];
}

const FAIL_ROWS: FailRow[] = [
  {
    name: 'DSN without USER_ENGINE_LIVE_RESET',
    env: { USER_ENGINE_LIVE_DSN: DSN },
    mentions: ['USER_ENGINE_LIVE_RESET', `USER_ENGINE_LIVE_RESET=${DATABASE}`],
  },
  {
    name: 'USER_ENGINE_LIVE_RESET naming another database',
    env: { USER_ENGINE_LIVE_DSN: DSN, USER_ENGINE_LIVE_RESET: 'production' },
    mentions: ['USER_ENGINE_LIVE_RESET', '"production"', `USER_ENGINE_LIVE_RESET=${DATABASE}`],
  },
  {
    name: 'USER_ENGINE_LIVE_RESET differing only in case',
    env: { USER_ENGINE_LIVE_DSN: DSN, USER_ENGINE_LIVE_RESET: DATABASE.toUpperCase() },
    mentions: ['USER_ENGINE_LIVE_RESET', `"${DATABASE.toUpperCase()}"`, 'letter case'],
  },
  {
    name: 'malformed DSN (bad port)',
    env: {
      USER_ENGINE_LIVE_DSN: `postgres://postgres:${SENTINEL_PASSWORD}@127.0.0.1:99999/${DATABASE}`,
      USER_ENGINE_LIVE_RESET: DATABASE,
    },
    mentions: ['USER_ENGINE_LIVE_DSN', 'postgres://postgres:***@'],
  },
  {
    name: 'malformed DSN (wrong scheme)',
    env: { USER_ENGINE_LIVE_DSN: `mysql://root:${SENTINEL_PASSWORD}@127.0.0.1/${DATABASE}` },
    mentions: ['USER_ENGINE_LIVE_DSN'],
  },
  {
    name: 'USER_ENGINE_LIVE_REQUIRED=1 without a DSN',
    env: { USER_ENGINE_LIVE_REQUIRED: '1' },
    mentions: ['USER_ENGINE_LIVE_DSN', 'USER_ENGINE_LIVE_REQUIRED'],
  },
  {
    name: 'USER_ENGINE_LIVE_REQUIRED with a typo',
    env: { USER_ENGINE_LIVE_REQUIRED: 'yes' },
    mentions: ['USER_ENGINE_LIVE_REQUIRED', '"yes"'],
  },
  {
    name: 'unknown USER_ENGINE_LIVE_DRIVER',
    env: {
      USER_ENGINE_LIVE_DSN: DSN,
      USER_ENGINE_LIVE_RESET: DATABASE,
      USER_ENGINE_LIVE_DRIVER: 'mysql',
    },
    mentions: ['USER_ENGINE_LIVE_DRIVER', '"mysql"'],
  },
  {
    name: 'server unreachable (connection refused)',
    env: {
      USER_ENGINE_LIVE_DSN: `postgres://postgres:${SENTINEL_PASSWORD}@127.0.0.1:1/${DATABASE}`,
      USER_ENGINE_LIVE_RESET: DATABASE,
    },
    mentions: ['127.0.0.1', DATABASE],
  },
];

function expectFailedBeforeAnyTest(run: JestRun, row: FailRow): void {
  expect(run.code).not.toBe(0);
  expect(run.code).not.toBeNull();
  // Jest stops in globalSetup: no test file ran, so no result file or an empty one.
  expect(run.json?.numTotalTests ?? 0).toBe(0);
  expect(run.stderr).toContain('globalSetup');
  for (const mention of row.mentions) expect(run.stderr).toContain(mention);
  expect(run.allOutput).not.toContain(SENTINEL_PASSWORD);
  expect(run.allOutput).not.toContain(encodeURIComponent(SENTINEL_PASSWORD));
}

describe('fail-closed rows', () => {
  let db: TestDatabase | undefined;
  beforeAll(async () => {
    if (ADMIN_DSN) {
      db = await createTestDatabase('decision', { prefix: 'ue_e2e_' });
      await db.plantCanaries();
    }
  });
  afterAll(async () => db?.drop());

  test.each(FAIL_ROWS)('$name: exit ≠ 0 before any test, named, redacted', async (row) => {
    const before = await db?.catalogSnapshot();
    const canaries = await db?.canarySnapshot();
    const run = await runJest(provider, { env: row.env });
    try {
      expectFailedBeforeAnyTest(run, row);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${describeRun(run)}`);
    }
    if (db) {
      // Nothing written: no ledger, no schema, canaries untouched.
      expect(await db.catalogSnapshot()).toBe(before);
      expect(await db.canarySnapshot()).toBe(canaries);
    }
  });
});
