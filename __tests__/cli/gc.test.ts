/**
 * `gc` against a real server (database `ue_cli_test_gc`): drops the schemas of a killed run and
 * nothing else; `--dry-run` drops nothing. Skipped without USER_ENGINE_LIVE_DSN.
 */
import type { GcReport } from '../../src/cli/gc';
import {
  SENTINEL_PASSWORD,
  catalogSnapshot,
  crashedRun,
  createTestDatabase,
  liveCliEnv,
  describeWithDatabase,
  runBuilt,
  runInProcess,
  schemaExists,
  startRun,
  type StartedRun,
  type TestDatabase,
} from './support';
import { fingerprint, plantCanaries } from '../support/canaries';

const LIVE_TIMEOUT_MS = 30_000;

describeWithDatabase('gc against a live server', () => {
  let db: TestDatabase;
  let running: StartedRun | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('test_gc', { prefix: 'ue_cli_' });
    await plantCanaries(db.query);
    // `_` is a LIKE wildcard: a pattern match instead of the ledger would catch this schema.
    await db.query(
      'CREATE SCHEMA "user_engineXlive_abcdefghij_1"; CREATE TABLE "user_engineXlive_abcdefghij_1".t (x int)',
    );
  }, LIVE_TIMEOUT_MS);

  afterAll(async () => {
    await running?.admin.close();
    await db?.drop();
  }, LIVE_TIMEOUT_MS);

  async function gc(...args: string[]): Promise<{ code: number; report: GcReport }> {
    const run = await runInProcess(['gc', '--json', ...args], liveCliEnv(db));
    expect(run.stderr).toBe('');
    expect(run.stdout).not.toContain(SENTINEL_PASSWORD);
    return { code: run.code, report: JSON.parse(run.stdout) as GcReport };
  }

  test(
    'a killed run: --dry-run lists its schemas and drops nothing; gc drops them and nothing else',
    async () => {
      // In this order: a run's begin collects crashed runs, so the crash must come last.
      running = await startRun(db.dsn, 1);
      const killed = await crashedRun(db.dsn, 2);
      const canaries = await fingerprint(db.query);
      const catalog = await catalogSnapshot(db);

      const dry = await gc('--dry-run');
      expect(dry.code).toBe(0);
      expect(dry.report).toMatchObject({
        command: 'gc',
        dryRun: true,
        database: 'ue_cli_test_gc',
        dropped: [],
      });
      expect(dry.report.runs).toEqual([
        expect.objectContaining({
          runId: killed.runId,
          owner: 'postgres',
          schemas: killed.schemas,
          pid: process.pid,
          kept: [],
        }),
      ]);
      expect(Object.keys(dry.report).sort()).toEqual([
        'command',
        'database',
        'dropped',
        'dryRun',
        'redactedDsn',
        'runs',
        'skipped',
      ]);
      expect(await catalogSnapshot(db)).toEqual(catalog);
      for (const schema of killed.schemas) expect(await schemaExists(db, schema)).toBe(true);

      const wet = await gc();
      expect(wet.code).toBe(0);
      expect(wet.report.dryRun).toBe(false);
      expect(wet.report.dropped).toEqual(killed.schemas);
      for (const schema of killed.schemas) expect(await schemaExists(db, schema)).toBe(false);
      expect(
        await db.query(
          'SELECT run_id FROM user_engine_live.runs WHERE run_id = $1 UNION ALL SELECT run_id FROM user_engine_live.schemas WHERE run_id = $1',
          [killed.runId],
        ),
      ).toEqual([]);
      // The running run, the provider's tables and the look-alike schemas are untouched.
      expect(await schemaExists(db, running.schemas[0])).toBe(true);
      expect(await schemaExists(db, 'user_engine_live_x')).toBe(true);
      expect(await schemaExists(db, 'user_engineXlive_abcdefghij_1')).toBe(true);
      expect(await fingerprint(db.query)).toBe(canaries);

      const again = await gc();
      expect(again.report).toMatchObject({ runs: [], dropped: [] });
    },
    LIVE_TIMEOUT_MS,
  );

  test(
    'the built CLI: text output names the run and its schemas; a second gc has nothing to do',
    async () => {
      const killed = await crashedRun(db.dsn, 1);
      const dry = await runBuilt(['gc', '--dry-run'], liveCliEnv(db));
      expect(dry.code).toBe(0);
      expect(dry.stdout).toContain('DRY RUN: nothing was dropped');
      expect(dry.stdout).toContain(`run ${killed.runId}`);
      expect(dry.stdout).toContain(`would drop ${killed.schemas[0]}`);
      expect(await schemaExists(db, killed.schemas[0])).toBe(true);

      const wet = await runBuilt(['gc'], liveCliEnv(db));
      expect(wet.code).toBe(0);
      expect(wet.stdout).toContain(`dropped ${killed.schemas[0]}`);
      expect(await schemaExists(db, killed.schemas[0])).toBe(false);

      const none = await runBuilt(['gc'], liveCliEnv(db));
      expect(none.stdout.trim()).toBe(
        `gc: no crashed runs of this role in database "ue_cli_test_gc" (${db.dsn.replace(SENTINEL_PASSWORD, '***')}); nothing to drop`,
      );
      for (const run of [dry, wet, none])
        expect(run.stdout + run.stderr).not.toContain(SENTINEL_PASSWORD);
    },
    LIVE_TIMEOUT_MS,
  );

  test(
    'gc refuses a database that differs from the acknowledgement, before touching anything',
    async () => {
      const run = await runInProcess(
        ['gc'],
        liveCliEnv(db, { USER_ENGINE_LIVE_RESET: 'postgres' }),
      );
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(
        /^user-engine-live gc: USER_ENGINE_LIVE_RESET="postgres" does not match/,
      );
      expect(run.stderr).not.toContain(SENTINEL_PASSWORD);
    },
    LIVE_TIMEOUT_MS,
  );
});
