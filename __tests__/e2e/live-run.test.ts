/**
 * A provider project on a real database through the built preset: the unchanged conformance
 * suite passes on two workers, Jest exits on its own with no open handles, the run leaves no
 * schema, ledger row or backend behind, the canaries are byte-identical and the DSN's password is
 * never printed.
 */
import {
  assertBuilt,
  describeRun,
  prepareProject,
  removeProjects,
  runJest,
  SENTINEL_PASSWORD,
  titles,
  type JestRun,
} from './support/harness';
import { createTestDatabase, describeWithDatabase, type TestDatabase } from '../support/database';

jest.setTimeout(180_000);

/** Messages Jest prints when something keeps it (or a worker) alive. */
const HANG_SIGNS = [
  'did not exit one second after',
  'failed to exit gracefully',
  'open handle',
  'detectOpenHandles',
];

function expectCleanPass(run: JestRun): void {
  try {
    expect(run.code).toBe(0);
    expect(run.json?.success).toBe(true);
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${describeRun(run)}`);
  }
  const json = run.json!;
  expect(json.numFailedTests).toBe(0);
  expect(json.numRuntimeErrorTestSuites).toBe(0);
  expect(json.numTotalTestSuites).toBe(3);
  // The preset offers everything the suite can ask for (a fresh unmigrated store included), so
  // nothing is skipped: the readiness/migration specs run too.
  expect(titles(run, 'pending')).toEqual([]);
  expect(json.numPendingTests).toBe(0);
  expect(titles(run, 'passed')).toEqual(
    expect.arrayContaining([
      'plain tests always run',
      'accounts (live) starts every file with an empty, migrated schema',
      'accounts (live) writes through the store land in the worker schema only',
      'accounts (live) createFreshStore: an empty, unmigrated schema of the run, dropped by dispose',
    ]),
  );
  const readiness = titles(run, 'passed').filter((name) => name.includes('readiness & migration'));
  expect(readiness).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/a fresh store is not ready, at version 0/),
      expect.stringMatching(/migrate on a fresh store applies every migration/),
      expect.stringMatching(/upsertUser before migrate is refused with not_ready/),
    ]),
  );
  expect(readiness.length).toBeGreaterThanOrEqual(24);
  expect(json.numPassedTests).toBeGreaterThan(60);
  for (const sign of HANG_SIGNS) expect(run.stderr).not.toContain(sign);
  expect(run.allOutput).not.toContain(SENTINEL_PASSWORD);
}

describeWithDatabase('live run of a provider project', () => {
  let db: TestDatabase;
  let project: string;
  let canaries: string;

  beforeAll(async () => {
    assertBuilt();
    db = await createTestDatabase('live', { prefix: 'ue_e2e_' });
    await db.plantCanaries();
    canaries = await db.canarySnapshot();
    project = prepareProject('provider');
  });
  afterAll(async () => {
    removeProjects();
    await db?.drop();
  });

  async function expectNothingLeft(): Promise<void> {
    expect(await db.leftovers()).toEqual({ runSchemas: [], ledgerRows: 0, backends: 0 });
    expect(await db.canarySnapshot()).toBe(canaries);
  }

  test('the unchanged conformance suite passes with --maxWorkers=2 and Jest exits by itself', async () => {
    const run = await runJest(project, {
      env: db.liveEnv(),
      args: ['--maxWorkers=2'],
      timeoutMs: 150_000,
    });
    expectCleanPass(run);
    const conformance = run.json!.testResults.find((file) =>
      file.name.endsWith('conformance.test.js'),
    );
    expect(
      conformance?.assertionResults.filter((a) => a.status === 'passed').length,
    ).toBeGreaterThan(50);
    await expectNothingLeft();
  });

  test('--detectOpenHandles (in band) reports nothing', async () => {
    const run = await runJest(project, {
      env: db.liveEnv(),
      args: ['--detectOpenHandles'],
      timeoutMs: 150_000,
    });
    expectCleanPass(run);
    expect(run.json?.openHandles ?? []).toEqual([]);
    expect(run.stderr).not.toContain('Jest has detected the following');
    await expectNothingLeft();
  });

  test('the postgres.js driver works the same (USER_ENGINE_LIVE_DRIVER=postgres)', async () => {
    const run = await runJest(project, {
      env: db.liveEnv({ USER_ENGINE_LIVE_DRIVER: 'postgres' }),
      args: ['--maxWorkers=2'],
      timeoutMs: 150_000,
    });
    expectCleanPass(run);
    await expectNothingLeft();
  });
});
