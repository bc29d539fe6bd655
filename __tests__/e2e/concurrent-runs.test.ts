/**
 * Two live runs of the same project at the same time against one database: each keeps to its
 * own run id and schemas, both pass, and together they leave nothing behind.
 */
import {
  assertBuilt,
  describeRun,
  prepareProject,
  removeProjects,
  startJest,
  SENTINEL_PASSWORD,
} from './support/harness';
import { createTestDatabase, describeWithDatabase, type TestDatabase } from '../support/database';

jest.setTimeout(180_000);

describeWithDatabase('two live runs at once', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    assertBuilt();
    db = await createTestDatabase('concurrent', { prefix: 'ue_e2e_' });
    await db.plantCanaries();
  });
  afterAll(async () => {
    removeProjects();
    await db?.drop();
  });

  test('both pass, overlap in time, and leave no schema, ledger row or backend', async () => {
    const canaries = await db.canarySnapshot();
    const started = [prepareProject('provider'), prepareProject('provider')].map((project) =>
      startJest(project, { env: db.liveEnv(), args: ['--maxWorkers=2'], timeoutMs: 170_000 }),
    );
    // While both run, the ledger holds two runs with valid leases.
    let runIdsSeen = 0;
    const watch = setInterval(() => {
      db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM user_engine_live.runs WHERE lease_expires_at > now()`,
      ).then(
        ([row]) => (runIdsSeen = Math.max(runIdsSeen, row.n)),
        () => undefined,
      );
    }, 100);
    const runs = await Promise.all(started.map((s) => s.done));
    clearInterval(watch);

    for (const run of runs) {
      if (run.code !== 0) throw new Error(describeRun(run));
      expect(run.json?.success).toBe(true);
      expect(run.json?.numFailedTests).toBe(0);
      expect(run.json?.numPassedTests).toBeGreaterThan(60);
      expect(run.allOutput).not.toContain(SENTINEL_PASSWORD);
    }
    expect(runIdsSeen).toBe(2);
    expect(await db.leftovers()).toEqual({ runSchemas: [], ledgerRows: 0, backends: 0 });
    expect(await db.canarySnapshot()).toBe(canaries);
  });
});
