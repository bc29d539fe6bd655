/**
 * Topology: PgBouncer 1.18 in front of the machine's PostgreSQL. Session mode (as Debian ships
 * it: no startup parameter ignored; and with `options` ignored) and transaction mode with `options` ignored (the usual
 * setting, which silently drops a `search_path` sent at startup) must both pass the shared suite
 * with both drivers, with every unqualified name resolving to the run schema, never to the
 * provider's `public.user_engine_*` canaries. Two concurrent runs through the transaction pooler
 * keep to their own schemas: neither one's GC drops the other's.
 */
import { startPgBouncer, type PgBouncer } from '../support/pgbouncer';
import { describeTopology } from './gate';
import {
  DRIVERS,
  assertBuilt,
  describeRun,
  expectCleanAfterPass,
  expectPassed,
  providerProject,
  removeProjects,
  runCli,
  runScenario,
  scenarioDb,
  startScenario,
  type ScenarioDb,
} from './support/scenario';
import { WORKER_SCHEMA_SQL } from '../support/run-schemas';

jest.setTimeout(300_000);

const FULL_SUITE = 60;

const OPTIONS_IGNORED = 'extra_float_digits,options';

describeTopology.each([
  // As Debian ships it: an `options` startup parameter is refused, not dropped.
  { label: 'session', mode: 'session' as const, ignore: undefined, drivers: DRIVERS },
  // What pooled endpoints usually run: `options` silently dropped.
  {
    label: 'session_options_ignored',
    mode: 'session' as const,
    ignore: OPTIONS_IGNORED,
    drivers: ['pg' as const],
  },
  { label: 'transaction', mode: 'transaction' as const, ignore: OPTIONS_IGNORED, drivers: DRIVERS },
])('PgBouncer $label', ({ label, mode, ignore, drivers }) => {
  let db: ScenarioDb;
  let bouncer: PgBouncer;
  let project: string;

  beforeAll(async () => {
    assertBuilt();
    db = await scenarioDb(`pgbouncer_${label}`);
    bouncer = await startPgBouncer({ mode, ignoreStartupParameters: ignore });
    project = providerProject();
  });
  afterAll(async () => {
    removeProjects();
    await bouncer?.stop();
    await db?.drop();
  });

  test.each([...drivers])(
    'the shared suite passes with %s; nothing of the run is left',
    async (driver) => {
      const run = await runScenario(db, bouncer.dsnFor(db.name), project, { driver });
      expectPassed(run, FULL_SUITE);
      await expectCleanAfterPass(db, bouncer.pid);
    },
  );

  test(`doctor says live and measures a pooler in ${mode} mode`, async () => {
    const doctor = await runCli(db, bouncer.dsnFor(db.name), project, ['doctor']);
    expect({ code: doctor.code, out: doctor.stdout }).toEqual({
      code: 0,
      out: expect.stringMatching(new RegExp(`pooler: a pooler in ${mode} mode`)),
    });
    expect(await db.canarySnapshot()).toBe(db.canaries);
  });

  if (mode === 'transaction') {
    test('two concurrent runs both pass and neither drops the other', async () => {
      const dsn = bouncer.dsnFor(db.name);
      const started = [providerProject(), providerProject()].map((p) => startScenario(db, dsn, p));
      // Both runs had worker schemas at the same time (two run ids seen), and both passed: a GC
      // that took the other run's schemas would have failed its tests.
      const seen = new Set<string>();
      const watch = setInterval(() => {
        db.query<{ nspname: string }>(
          `SELECT nspname FROM pg_namespace WHERE nspname ~ '${WORKER_SCHEMA_SQL}'`,
        ).then(
          (rows) => rows.forEach((row) => seen.add(row.nspname)),
          () => undefined,
        );
      }, 200);
      const runs = await Promise.all(started.map((s) => s.done));
      clearInterval(watch);
      for (const run of runs) {
        if (run.code !== 0) throw new Error(describeRun(run));
        expectPassed(run, FULL_SUITE);
      }
      const runIds = new Set([...seen].map((schema) => schema.split('_')[3]));
      expect(runIds.size).toBe(2);
      await expectCleanAfterPass(db, bouncer.pid);
    });
  }
});
