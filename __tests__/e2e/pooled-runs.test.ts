/**
 * Two live runs at once through PgBouncer in transaction mode with `options` ignored (the usual
 * deployment): no session survives between statements, so run liveness must come from the
 * leases, not from any session. Each run's garbage collection must leave the other's schemas
 * alone, both pass, and together they leave nothing behind; the canaries stay byte-identical.
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
import { pgBouncerBinary, startPgBouncer, type PgBouncer } from '../support/pgbouncer';

jest.setTimeout(240_000);

const describePooled = pgBouncerBinary() ? describeWithDatabase : describe.skip;

describePooled('two live runs at once through PgBouncer (transaction mode)', () => {
  let db: TestDatabase;
  let bouncer: PgBouncer;

  beforeAll(async () => {
    assertBuilt();
    db = await createTestDatabase('pooled', { prefix: 'ue_e2e_' });
    await db.plantCanaries();
    bouncer = await startPgBouncer({
      mode: 'transaction',
      ignoreStartupParameters: 'extra_float_digits,options',
    });
  });
  afterAll(async () => {
    removeProjects();
    await bouncer?.stop();
    await db?.drop();
  });

  test('both pass with short leases, neither collects the other, nothing is left', async () => {
    const canaries = await db.canarySnapshot();
    const env = db.liveEnv({
      USER_ENGINE_LIVE_DSN: bouncer.dsnFor(db.name),
      // A 3 s lease, so each run's GC would take the other if liveness rested on anything else.
      E2E_LEASE_MS: '3000',
    });
    const started = [prepareProject('provider'), prepareProject('provider')].map((project) =>
      startJest(project, { env, args: ['--maxWorkers=2'], timeoutMs: 220_000 }),
    );
    const runs = await Promise.all(started.map((s) => s.done));
    for (const run of runs) {
      if (run.code !== 0) throw new Error(`${describeRun(run)}\n${bouncer.log().slice(-2000)}`);
      expect(run.json?.numFailedTests).toBe(0);
      expect(run.json?.numPassedTests).toBeGreaterThan(60);
      expect(run.allOutput).not.toContain(SENTINEL_PASSWORD);
      expect(run.stderr).not.toMatch(/lost its lease|NotReadyError/);
    }
    // PgBouncer keeps its server sessions (with the runs' application_name) for reuse: stopped,
    // they end too.
    await bouncer.stop();
    expect(await db.leftovers()).toEqual({ runSchemas: [], ledgerRows: 0, backends: 0 });
    expect(await db.canarySnapshot()).toBe(canaries);
    // Nothing of the preset in public, through the pooler either.
    expect(
      await db.query(
        `SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relname LIKE 'user\\_engine\\_live%'`,
      ),
    ).toEqual([]);
  });
});
