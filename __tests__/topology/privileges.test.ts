/**
 * Topology: least-privilege roles on PostgreSQL 15, in a database where PUBLIC has nothing (no
 * CONNECT/TEMP on the database, no USAGE on schema public). A role with only CONNECT and CREATE
 * on the database passes the shared suite; a role without CREATE is refused once, before any test
 * file, with the exact GRANT; and a crashed run of one role does not break the runs or the gc of
 * another: its schemas are skipped with a one-line notice naming them and their owner.
 */
import * as path from 'path';
import { createRole, lockDownDatabase, type TestRole } from '../support/roles';
import { describeTopology } from './gate';
import { EXPECTED } from './support/expected';
import { QUICK_TEST } from './support/provider-tests';
import {
  assertBuilt,
  describeRun,
  expectCleanAfterPass,
  expectPredictedRefusal,
  expectPassed,
  providerProject,
  removeProjects,
  runCli,
  runScenario,
  scenarioDb,
  shortLease,
  sleep,
  smallProject,
  startScenario,
  untilParked,
  type ScenarioDb,
} from './support/scenario';
import { RUN_SCHEMA_SQL } from '../support/run-schemas';

jest.setTimeout(300_000);

const FULL_SUITE = 60;
/** A crashed run's lease, and the grace gc and the next run give it. */
const LEASE_MS = 2000;

describeTopology('least-privilege roles', () => {
  const roles: TestRole[] = [];
  const role = async (db: ScenarioDb, label: string, create = true) => {
    const made = await createRole({ database: db.name, label, create });
    roles.push(made);
    return made;
  };
  const databases: ScenarioDb[] = [];
  const lockedDb = async (suffix: string) => {
    const db = await scenarioDb(suffix);
    databases.push(db);
    await lockDownDatabase(db.name);
    return db;
  };

  beforeAll(() => assertBuilt());
  afterAll(async () => {
    removeProjects();
    for (const made of roles) await made.drop();
    for (const db of databases) await db.drop();
  });

  test('CONNECT and CREATE only: doctor says live, the shared suite passes', async () => {
    const db = await lockedDb('least_privilege');
    const app = await role(db, 'lp');
    const project = providerProject();
    const doctor = await runCli(db, app.dsn(), project, ['doctor']);
    expect({ code: doctor.code, out: doctor.stdout }).toEqual({
      code: 0,
      out: expect.stringMatching(/^live/m),
    });
    const run = await runScenario(db, app.dsn(), project);
    expectPassed(run, FULL_SUITE);
    await expectCleanAfterPass(db);
  });

  test('without CREATE: refused once before any test, with the GRANT; doctor predicts it', async () => {
    const db = await lockedDb('no_create');
    const app = await role(db, 'nocreate', false);
    const project = smallProject({ 'a.test.js': QUICK_TEST, 'b.test.js': QUICK_TEST });
    const message = EXPECTED.missingCreate(app.name, db.name);

    await expectPredictedRefusal(db, app.dsn(), project, message);
  });

  test("two roles: one role's crashed run is skipped by the other's run and gc, with a notice", async () => {
    const db = await lockedDb('two_roles');
    const crashed = await role(db, 'crashed');
    const other = await role(db, 'other');

    const doomedProject = providerProject();
    const marker = path.join(doomedProject, 'hang-marker.txt');
    const doomed = startScenario(db, crashed.dsn(), doomedProject, {
      env: { E2E_HANG_MARKER: marker, ...shortLease(LEASE_MS) },
    });
    await untilParked(doomed, marker);
    doomed.kill('SIGKILL');
    expect((await doomed.done).signal).toBe('SIGKILL');
    const orphans = (
      await db.query<{ nspname: string }>(
        `SELECT nspname FROM pg_namespace
          WHERE nspname ~ '${RUN_SCHEMA_SQL}' AND pg_get_userbyid(nspowner) = $1
          ORDER BY 1`,
        [crashed.name],
      )
    ).map((row) => row.nspname);
    expect(orphans.length).toBeGreaterThan(0);

    // Its lease runs out, then the grace period: from now on it counts as crashed.
    await sleep(2 * LEASE_MS + 500);
    const project = smallProject({ 'quick.test.js': QUICK_TEST }, { leaseMs: LEASE_MS });
    const run = await runScenario(db, other.dsn(), project);
    expectPassed(run, 1);
    expect(`${run.stdout}\n${run.stderr}`).toMatch(EXPECTED.otherOwner(orphans[0], crashed.name));

    const gc = await runCli(db, other.dsn(), project, ['gc', '--grace-ms', String(LEASE_MS)]);
    if (gc.code !== 0) throw new Error(`gc failed: ${gc.stderr}\n${gc.stdout}`);
    expect(`${gc.stdout}\n${gc.stderr}`).toMatch(EXPECTED.otherOwner(orphans[0], crashed.name));

    // The other role's run and gc left the crashed role's schemas alone, and the canaries.
    const still = await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = ANY ($1)',
      [orphans],
    );
    expect(still).toEqual([{ n: orphans.length }]);
    expect(await db.canarySnapshot()).toBe(db.canaries);
    if (run.code !== 0) throw new Error(describeRun(run));
  });
});
