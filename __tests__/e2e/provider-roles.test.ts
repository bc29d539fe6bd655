/**
 * A provider's real Jest run (child `jest`, built preset) under a least-privilege role on
 * PostgreSQL 15: a role with only CONNECT + CREATE on the database passes and leaves nothing; a
 * role without CREATE, and a foreign `user_engine_live` schema, fail once in globalSetup before
 * any test file, naming the fix, with nothing written and the canaries byte-identical.
 */
import {
  SENTINEL_PASSWORD,
  assertBuilt,
  describeRun,
  prepareProject,
  removeProjects,
  runJest,
  type JestRun,
} from './support/harness';
import { createTestDatabase, describeWithDatabase, type TestDatabase } from '../support/database';

jest.setTimeout(240_000);

const ROLE_OK = 'ue_live_e2e_cc';
const ROLE_NO_CREATE = 'ue_live_e2e_nocreate';
/** CONNECT+CREATE, with role defaults that would break a run if the preset did not override them. */
const ROLE_HOSTILE_DEFAULTS = 'ue_live_e2e_defaults';
const ROLE_READ_ONLY = 'ue_live_e2e_readonly';
const ROLES = [ROLE_OK, ROLE_NO_CREATE, ROLE_HOSTILE_DEFAULTS, ROLE_READ_ONLY];

function asRole(dsn: string, role: string): string {
  const url = new URL(dsn);
  url.username = role;
  return url.toString();
}

function expectRefusedOnce(run: JestRun, text: string): void {
  expect(run.code).toBe(1);
  expect(run.json?.numTotalTests ?? 0).toBe(0);
  expect(run.stderr).toContain('globalSetup');
  // Once for the whole run, not once per test file.
  expect(run.stderr.split(text).length - 1).toBe(1);
  expect(run.allOutput).not.toContain(SENTINEL_PASSWORD);
}

describeWithDatabase('a provider run under least-privilege roles', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    assertBuilt();
    db = await createTestDatabase('roles', { prefix: 'ue_e2e_' });
    await db.plantCanaries();
    for (const role of ROLES) {
      await db.query(`DROP ROLE IF EXISTS ${role}`);
      await db.query(`CREATE ROLE ${role} LOGIN`);
      await db.query(`GRANT CONNECT ON DATABASE ${db.name} TO ${role}`);
      if (role !== ROLE_NO_CREATE) await db.query(`GRANT CREATE ON DATABASE ${db.name} TO ${role}`);
    }
    await db.query(
      `ALTER ROLE ${ROLE_HOSTILE_DEFAULTS} SET idle_session_timeout = '1s'; ` +
        `ALTER ROLE ${ROLE_HOSTILE_DEFAULTS} SET default_transaction_isolation = 'serializable'; ` +
        `ALTER ROLE ${ROLE_HOSTILE_DEFAULTS} SET idle_in_transaction_session_timeout = '1s'`,
    );
    await db.query(`ALTER ROLE ${ROLE_READ_ONLY} SET default_transaction_read_only = on`);
  });
  afterAll(async () => {
    removeProjects();
    await db?.drop();
    // The roles own nothing any more once the database is gone.
    const { withAdmin } = await import('../support/admin-db');
    await withAdmin(async (admin) => {
      for (const role of [ROLE_OK, ROLE_NO_CREATE])
        await admin.query(`DROP ROLE IF EXISTS ${role}`);
    });
  });

  test('a role without CREATE: exit 1 once, before any test, with the GRANT; nothing written', async () => {
    const catalog = await db.catalogSnapshot();
    const canaries = await db.canarySnapshot();
    const run = await runJest(prepareProject('provider'), {
      env: db.liveEnv({ USER_ENGINE_LIVE_DSN: asRole(db.dsn, ROLE_NO_CREATE) }),
      args: ['--maxWorkers=2'],
    });
    try {
      expectRefusedOnce(run, `GRANT CREATE ON DATABASE "${db.name}" TO "${ROLE_NO_CREATE}";`);
      expect(run.stderr).toContain(`role "${ROLE_NO_CREATE}" lacks the CREATE privilege`);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${describeRun(run)}`);
    }
    expect(await db.catalogSnapshot()).toBe(catalog);
    expect(await db.canarySnapshot()).toBe(canaries);
  });

  test('a foreign user_engine_live schema: exit 1 once, naming it; it is not touched', async () => {
    await db.query(`CREATE SCHEMA user_engine_live`);
    await db.query(`CREATE TABLE user_engine_live.runs (run_id text)`);
    await db.query(`INSERT INTO user_engine_live.runs VALUES ('provider row')`);
    const catalog = await db.catalogSnapshot();
    const canaries = await db.canarySnapshot();
    try {
      const run = await runJest(prepareProject('provider'), { env: db.liveEnv() });
      try {
        expectRefusedOnce(run, 'schema "user_engine_live" (owner "postgres") has no comment');
      } catch (error) {
        throw new Error(`${(error as Error).message}\n${describeRun(run)}`);
      }
      expect(await db.catalogSnapshot()).toBe(catalog);
      expect(await db.query(`SELECT run_id FROM user_engine_live.runs`)).toEqual([
        { run_id: 'provider row' },
      ]);
      expect(await db.canarySnapshot()).toBe(canaries);
    } finally {
      await db.query(`DROP SCHEMA user_engine_live CASCADE`);
    }
  });

  test('a CONNECT+CREATE role: the whole provider suite passes, nothing left, canaries intact', async () => {
    const canaries = await db.canarySnapshot();
    const run = await runJest(prepareProject('provider'), {
      env: db.liveEnv({ USER_ENGINE_LIVE_DSN: asRole(db.dsn, ROLE_OK) }),
      args: ['--maxWorkers=2'],
      timeoutMs: 200_000,
    });
    if (run.code !== 0) throw new Error(describeRun(run));
    expect(run.json?.numFailedTests).toBe(0);
    expect(run.json?.numPassedTests).toBeGreaterThan(60);
    expect(await db.leftovers()).toEqual({ runSchemas: [], ledgerRows: 0, backends: 0 });
    // The role created the ledger schema; nothing in public.
    expect(
      await db.query(
        `SELECT pg_get_userbyid(nspowner) AS owner FROM pg_namespace WHERE nspname = 'user_engine_live'`,
      ),
    ).toEqual([{ owner: ROLE_OK }]);
    expect(await db.canarySnapshot()).toBe(canaries);
  });

  test('a read-only role: exit 1 once, before any test, naming the setting; nothing written', async () => {
    const catalog = await db.catalogSnapshot();
    const run = await runJest(prepareProject('provider'), {
      env: db.liveEnv({ USER_ENGINE_LIVE_DSN: asRole(db.dsn, ROLE_READ_ONLY) }),
    });
    try {
      expectRefusedOnce(
        run,
        `ALTER ROLE "${ROLE_READ_ONLY}" IN DATABASE "${db.name}" SET default_transaction_read_only = off;`,
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${describeRun(run)}`);
    }
    expect(await db.catalogSnapshot()).toBe(catalog);
  });

  test('role defaults idle_session_timeout=1s, idle_in_transaction_session_timeout=1s, serializable: the suite still passes', async () => {
    const canaries = await db.canarySnapshot();
    const run = await runJest(prepareProject('provider'), {
      env: db.liveEnv({ USER_ENGINE_LIVE_DSN: asRole(db.dsn, ROLE_HOSTILE_DEFAULTS) }),
      args: ['--maxWorkers=2'],
      timeoutMs: 200_000,
    });
    if (run.code !== 0) throw new Error(describeRun(run));
    expect(run.json?.numFailedTests).toBe(0);
    expect(await db.leftovers()).toEqual({ runSchemas: [], ledgerRows: 0, backends: 0 });
    expect(await db.canarySnapshot()).toBe(canaries);
  });
});
