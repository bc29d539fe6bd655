/**
 * Topology: a database where the provider already has things the preset must never touch.
 * A table the bootstrap did not create, in the ledger's place, is refused before any write (run,
 * gc and doctor name it) and comes out byte-identical. Provider objects that depend on a kept run
 * schema (a view, a foreign key, a column of its row type) make gc leave that schema and name
 * them, instead of cascading into them.
 */
import * as path from 'path';
import { describeTopology } from './gate';
import { EXPECTED, LEDGER } from './support/expected';
import { QUICK_TEST } from './support/provider-tests';
import {
  assertBuilt,
  expectPassed,
  expectRefused,
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
import { RUN_SCHEMA_SQL, WORKER_SCHEMA_SQL } from '../support/run-schemas';

jest.setTimeout(300_000);

const LEDGER_RUNS = `${LEDGER.schema}.${LEDGER.runs}`;
/** A crashed run's lease, and the grace gc and the next run give it. */
const LEASE_MS = 2000;

/** Rows and definition of one relation, to prove it was neither written nor altered. */
async function relationPrint(db: ScenarioDb, relation: string): Promise<string> {
  const [row] = await db.query<{ print: string }>(
    `SELECT (SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum)
               FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped)
            || ' | ' || (SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), ''))
                           FROM ${relation} t) AS print`,
    [relation],
  );
  return row.print;
}

describeTopology('provider objects around the preset', () => {
  const databases: ScenarioDb[] = [];
  beforeAll(() => assertBuilt());
  afterAll(async () => {
    removeProjects();
    for (const db of databases) await db.drop();
  });

  test('a foreign table in the ledger’s place: run, gc and doctor refuse it and name it', async () => {
    const db = await scenarioDb('foreign_ledger');
    databases.push(db);
    await db.query(
      `CREATE SCHEMA ${LEDGER.schema};
       CREATE TABLE ${LEDGER_RUNS} (run_id text PRIMARY KEY, note text);
       INSERT INTO ${LEDGER_RUNS} VALUES ('provider-row', 'not the preset''s ledger')`,
    );
    const before = await relationPrint(db, LEDGER_RUNS);
    const project = smallProject({ 'quick.test.js': QUICK_TEST });
    const message = EXPECTED.foreignLedger(LEDGER.schema);

    const doctor = await runCli(db, db.dsn, project, ['doctor']);
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toMatch(message);

    const run = await runScenario(db, db.dsn, project);
    expectRefused(run, project, message);

    const gc = await runCli(db, db.dsn, project, ['gc']);
    expect(gc.code).toBe(1);
    expect(gc.stderr).toMatch(message);

    expect(await relationPrint(db, LEDGER_RUNS)).toBe(before);
    expect(await db.written()).toEqual([`schema ${LEDGER.schema}`]);
    expect(await db.canarySnapshot()).toBe(db.canaries);
  });

  test('a view, a foreign key and a row-type column over a kept run schema: gc leaves it, names them', async () => {
    const db = await scenarioDb('dependents');
    databases.push(db);
    // A crashed run keeps its schemas.
    const doomedProject = providerProject();
    const marker = path.join(doomedProject, 'hang-marker.txt');
    const doomed = startScenario(db, db.dsn, doomedProject, {
      env: { E2E_HANG_MARKER: marker, ...shortLease(LEASE_MS) },
    });
    await untilParked(doomed, marker);
    doomed.kill('SIGKILL');
    await doomed.done;
    const kept = (
      await db.query<{ nspname: string }>(
        `SELECT nspname FROM pg_namespace WHERE nspname ~ '${WORKER_SCHEMA_SQL}'
          AND to_regclass(quote_ident(nspname) || '.user_engine_users') IS NOT NULL ORDER BY 1`,
      )
    ).map((row) => row.nspname);
    expect(kept.length).toBeGreaterThan(0);
    const target = kept[0];
    // The provider builds on it (as one might on a schema left around for a post-mortem).
    await db.query(
      `CREATE VIEW provider_billing.run_user_emails AS SELECT email FROM "${target}".user_engine_users;
       CREATE TABLE provider_billing.account_links (
         user_id uuid CONSTRAINT account_links_user_fk REFERENCES "${target}".user_engine_users (id));
       CREATE TABLE provider_billing.user_snapshots (snapshot "${target}".user_engine_users);`,
    );
    const canaries = await db.canarySnapshot();
    const project = smallProject({ 'quick.test.js': QUICK_TEST }, { leaseMs: LEASE_MS });
    // Its lease runs out, then the grace period.
    await sleep(2 * LEASE_MS + 500);

    const gc = await runCli(db, db.dsn, project, ['gc', '--grace-ms', String(LEASE_MS)]);
    if (gc.code !== 0) throw new Error(`gc failed: ${gc.stderr}\n${gc.stdout}`);
    const gcOutput = `${gc.stdout}\n${gc.stderr}`;
    for (const dependent of [
      'provider_billing.run_user_emails',
      'account_links_user_fk',
      'provider_billing.user_snapshots',
    ]) {
      expect(gcOutput).toMatch(EXPECTED.dependents(target, dependent));
    }

    // The next run leaves it too, names it, and passes.
    const run = await runScenario(db, db.dsn, project);
    expectPassed(run, 1);
    expect(`${run.stdout}\n${run.stderr}`).toMatch(
      EXPECTED.dependents(target, 'provider_billing.run_user_emails'),
    );

    const left = (
      await db.query<{ nspname: string }>(
        `SELECT nspname FROM pg_namespace WHERE nspname ~ '${RUN_SCHEMA_SQL}' ORDER BY 1`,
      )
    ).map((row) => row.nspname);
    // Only the schema with dependents is left; the crashed run's other schemas were collected.
    expect(left).toEqual([target]);
    // doctor predicts it too, with the lease this project's runs use (leaseMs in its config).
    const doctor = await runCli(db, db.dsn, project, ['doctor']);
    expect(doctor.stdout).toMatch(EXPECTED.dependents(target, 'provider_billing.run_user_emails'));

    expect(await db.canarySnapshot()).toBe(canaries);
  });
});
