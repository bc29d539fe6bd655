/**
 * Topology: the machine's PostgreSQL, directly. The shared suite passes with both drivers; then
 * with every libpq `PG*` variable set to a wrong value the same DSN reaches the same target, the
 * runs pass, and `doctor` shows the DSN's target, not the variables'.
 */
import { freePort } from '../support/processes';
import { SENTINEL_PASSWORD } from '../support/sentinel';
import { describeTopology } from './gate';
import {
  DRIVERS,
  assertBuilt,
  expectCleanAfterPass,
  expectPassed,
  providerProject,
  removeProjects,
  runCli,
  runScenario,
  scenarioDb,
  type ScenarioDb,
} from './support/scenario';

jest.setTimeout(200_000);

/** Passed tests of the e2e provider fixture: the shared suite, the provider specs, a plain one. */
const FULL_SUITE = 60;

describeTopology('direct connection', () => {
  let db: ScenarioDb;
  let project: string;

  beforeAll(async () => {
    assertBuilt();
    db = await scenarioDb('direct');
    project = providerProject();
  });
  afterAll(async () => {
    removeProjects();
    await db?.drop();
  });

  // Both drivers also run the shared suite directly in __tests__/e2e/live-run.test.ts.
  test('the shared suite passes; nothing of the run is left', async () => {
    const run = await runScenario(db, db.dsn, project);
    expectPassed(run, FULL_SUITE);
    await expectCleanAfterPass(db);
  });

  describe('PG* variables set to wrong values', () => {
    let wrong: Record<string, string>;
    let dsn: string;

    beforeAll(async () => {
      const closed = await freePort();
      wrong = {
        PGHOST: '/ue_topo_no_such_socket_dir',
        PGHOSTADDR: '192.0.2.1',
        PGPORT: String(closed),
        PGDATABASE: 'ue_topo_no_such_database',
        PGUSER: 'ue_topo_no_such_role',
        PGPASSWORD: 'ue-topo-wrong-password',
        PGPASSFILE: '/ue_topo_no_such_pgpass',
        PGSERVICE: 'ue_topo_no_such_service',
        PGSERVICEFILE: '/ue_topo_no_such_service_file',
        PGOPTIONS: '-c search_path=ue_topo_decoy -c default_transaction_read_only=on',
        PGAPPNAME: 'ue-topo-decoy',
        PGSSLMODE: 'require',
        PGCONNECT_TIMEOUT: '1',
        PGCLIENTENCODING: 'LATIN1',
        PGTZ: 'Pacific/Kiritimati',
        PGTARGETSESSIONATTRS: 'standby',
      };
      // A DSN without a port: 5432 by definition, whatever PGPORT says.
      const url = new URL(db.dsn);
      if (url.port === '5432') url.port = '';
      dsn = url.toString();
    });

    test.each(DRIVERS)('%s: the run reaches the DSN target and passes', async (driver) => {
      // The provider specs (they check current_schema() and the store's writes) suffice here.
      const run = await runScenario(db, dsn, project, {
        driver,
        env: wrong,
        args: ['--maxWorkers=2', 'accounts'],
      });
      expectPassed(run, 5);
      await expectCleanAfterPass(db);
    });

    test('doctor shows the DSN target and the server it reached', async () => {
      const doctor = await runCli(db, dsn, project, ['doctor', '--json'], { env: wrong });
      const report = JSON.parse(doctor.stdout) as {
        verdict: string;
        target: { host: string; port: number; database: string; user: string };
        server: { database: string; currentUser: string };
      };
      expect({ verdict: report.verdict, code: doctor.code }).toEqual({ verdict: 'live', code: 0 });
      const url = new URL(db.dsn);
      expect(report.target).toEqual(
        expect.objectContaining({
          host: url.hostname,
          port: 5432,
          database: db.name,
          user: 'postgres',
        }),
      );
      expect(report.server).toEqual(
        expect.objectContaining({ database: db.name, currentUser: 'postgres' }),
      );
      expect(doctor.stdout).not.toContain(SENTINEL_PASSWORD);
      expect(await db.canarySnapshot()).toBe(db.canaries);
    });
  });
});
