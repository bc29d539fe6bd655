/**
 * `doctor` against a real server (database `ue_cli_test`): a live verdict with everything a run
 * needs, the reset plan as a dry run, and proof that the doctor writes nothing. Skipped without
 * USER_ENGINE_LIVE_DSN (the admin DSN the database is created through).
 */
import type { DoctorReport } from '../../src/cli/doctor-report';
import { pgBouncerBinary, startPgBouncer } from '../support/pgbouncer';
import {
  SENTINEL_PASSWORD,
  catalogSnapshot,
  crashedRun,
  createTestDatabase,
  liveCliEnv,
  describeWithDatabase,
  runBuilt,
  runInProcess,
  startRun,
  type StartedRun,
  type TestDatabase,
} from './support';
import { fingerprint, plantCanaries } from '../support/canaries';

const LIVE_TIMEOUT_MS = 30_000;

describeWithDatabase('doctor against a live server', () => {
  let db: TestDatabase;
  const runs: StartedRun[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('test', { prefix: 'ue_cli_' });
    await plantCanaries(db.query);
  }, LIVE_TIMEOUT_MS);

  afterAll(async () => {
    for (const run of runs) await run.admin.close();
    await db?.drop();
  }, LIVE_TIMEOUT_MS);

  async function doctorJson(): Promise<{ code: number; report: DoctorReport; text: string }> {
    const json = await runInProcess(['doctor', '--json'], liveCliEnv(db));
    const text = await runInProcess(['doctor'], liveCliEnv(db));
    expect(json.stderr).toBe('');
    for (const output of [json.stdout, text.stdout])
      expect(output).not.toContain(SENTINEL_PASSWORD);
    expect(text.code).toBe(json.code);
    return { code: json.code, report: JSON.parse(json.stdout) as DoctorReport, text: text.stdout };
  }

  test(
    'fresh database: verdict live, exit 0, every check passes, ledger absent and NOT created',
    async () => {
      const before = await catalogSnapshot(db);
      const { code, report, text } = await doctorJson();
      expect(code).toBe(0);
      expect(report).toMatchObject({ verdict: 'live', exitCode: 0, mode: 'dsn' });
      expect(report.checks.filter((check) => check.status === 'fail')).toEqual([]);
      const names = report.checks.map((check) => check.name);
      expect(names).toEqual(
        expect.arrayContaining([
          'driver',
          'connect',
          'server-version',
          'database',
          'create-privilege',
          'advisory-locks',
          'read-only',
          'encoding',
          'ledger',
          'session-settings',
          'reset-plan',
        ]),
      );
      expect(report.server).toMatchObject({ database: 'ue_cli_test', currentSchema: 'public' });
      expect(report.server?.versionNum).toBeGreaterThanOrEqual(130000);
      expect(report.drivers).toMatchObject({ pg: true, postgres: true, selected: 'pg' });
      expect(report.ledger).toEqual({ schema: 'user_engine_live', state: 'absent', owner: null });
      expect(report.checks.find((check) => check.name === 'ledger')?.detail).toMatch(/absent/);
      expect(report.target?.redactedDsn).toContain(':***@');
      expect(text).toContain('reset plan (DRY RUN: nothing was changed)');
      expect(text.split('\n').at(-1)).toMatch(/^verdict: live/);
      // The provider's objects are reported as left alone, with the reason.
      expect(report.resetPlan).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            action: 'leave-alone',
            object: '"public"."user_engine_users"',
          }),
          expect.objectContaining({
            action: 'leave-alone',
            object: '"public"."user_engine_outbox"',
          }),
          expect.objectContaining({ action: 'leave-alone', object: '"user_engine_live_x"' }),
        ]),
      );
      expect(report.resetPlan?.some((entry) => entry.action !== 'leave-alone')).toBe(false);
      expect(await catalogSnapshot(db)).toEqual(before);
    },
    LIVE_TIMEOUT_MS,
  );

  test(
    'with a crashed and a running run: plans to drop the crashed one, empty the live one, and writes nothing',
    async () => {
      // In this order: a run's begin collects crashed runs, so the crash must come last.
      const running = await startRun(db.dsn, 1);
      runs.push(running);
      const crashed = await crashedRun(db.dsn, 2);
      const catalog = await catalogSnapshot(db);
      const canaries = await fingerprint(db.query);
      const ledger = await db.query('SELECT * FROM user_engine_live.schemas ORDER BY schema_name');

      const { code, report } = await doctorJson();

      expect(code).toBe(0);
      expect(report.ledger).toEqual({
        schema: 'user_engine_live',
        state: 'ours',
        owner: 'postgres',
      });
      const plan = report.resetPlan ?? [];
      expect(
        plan.filter((entry) => entry.action === 'drop-schema').map((entry) => entry.object),
      ).toEqual(crashed.schemas);
      expect(plan.filter((entry) => entry.action === 'empty-tables')).toEqual([
        expect.objectContaining({ object: running.schemas[0], tables: ['user_engine_users'] }),
      ]);
      for (const entry of plan.filter((e) => e.action === 'drop-schema')) {
        expect(entry.reason).toContain(crashed.runId);
      }
      expect(await catalogSnapshot(db)).toEqual(catalog);
      expect(await fingerprint(db.query)).toBe(canaries);
      expect(await db.query('SELECT * FROM user_engine_live.schemas ORDER BY schema_name')).toEqual(
        ledger,
      );
    },
    LIVE_TIMEOUT_MS,
  );

  test(
    'the built CLI (bin shim → dist) gives the same verdict and exit code',
    async () => {
      const live = await runBuilt(['doctor', '--json'], liveCliEnv(db));
      expect(live.code).toBe(0);
      expect((JSON.parse(live.stdout) as DoctorReport).verdict).toBe('live');
      expect(live.stdout + live.stderr).not.toContain(SENTINEL_PASSWORD);

      const wrongAck = await runBuilt(
        ['doctor'],
        liveCliEnv(db, { USER_ENGINE_LIVE_RESET: 'ue_cli_test ' }),
      );
      expect(wrongAck.code).toBe(1);
      expect(wrongAck.stdout).toContain('differs only in surrounding whitespace');
      expect(wrongAck.stdout + wrongAck.stderr).not.toContain(SENTINEL_PASSWORD);

      const usage = await runBuilt(['doctor', '--verbose'], liveCliEnv(db));
      expect(usage.code).toBe(2);
      expect(usage.stderr.trim().split('\n')).toHaveLength(1);
    },
    LIVE_TIMEOUT_MS,
  );

  const withPgBouncer = pgBouncerBinary() ? test : test.skip;
  withPgBouncer(
    'through PgBouncer in transaction mode (options ignored): the pooler line says so, the verdict is live',
    async () => {
      const bouncer = await startPgBouncer({
        mode: 'transaction',
        ignoreStartupParameters: 'extra_float_digits,options',
      });
      try {
        const env = liveCliEnv(db, { USER_ENGINE_LIVE_DSN: bouncer.dsnFor('ue_cli_test') });
        const run = await runInProcess(['doctor', '--json'], env);
        const report = JSON.parse(run.stdout) as DoctorReport;
        expect(report.checks.find((check) => check.name === 'pooler')).toEqual({
          name: 'pooler',
          status: 'info',
          detail: expect.stringContaining('a pooler in transaction mode'),
        });
        expect(report.verdict).toBe('live');
        expect(run.stdout).not.toContain(SENTINEL_PASSWORD);
      } finally {
        await bouncer.stop();
      }
    },
    LIVE_TIMEOUT_MS,
  );
});
