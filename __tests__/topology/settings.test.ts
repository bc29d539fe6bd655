/**
 * Topology: server settings a provider's role or database often has. The preset's sessions set
 * what a run needs (idle_session_timeout, isolation level), so `idle_session_timeout = 1s` and a
 * serializable default pass; a read-only role and a LATIN1 database are refused once, before any
 * test and any write, naming the setting and the fix, and `doctor` predicts both.
 */
import { createRole, type TestRole } from '../support/roles';
import { describeTopology } from './gate';
import { EXPECTED } from './support/expected';
import { IDLE_TEST, QUICK_TEST } from './support/provider-tests';
import {
  assertBuilt,
  expectCleanAfterPass,
  expectPredictedRefusal,
  expectPassed,
  providerProject,
  removeProjects,
  runScenario,
  scenarioDb,
  smallProject,
  type ScenarioDb,
} from './support/scenario';

jest.setTimeout(300_000);

const FULL_SUITE = 60;

describeTopology('provider session settings', () => {
  const roles: TestRole[] = [];
  const databases: ScenarioDb[] = [];
  const database = async (suffix: string, encoding?: 'LATIN1') => {
    const db = await scenarioDb(suffix, encoding);
    databases.push(db);
    return db;
  };
  const role = async (db: ScenarioDb, label: string, settings: Record<string, string>) => {
    const made = await createRole({ database: db.name, label, settings });
    roles.push(made);
    return made;
  };

  beforeAll(() => assertBuilt());
  afterAll(async () => {
    removeProjects();
    for (const made of roles) await made.drop();
    for (const db of databases) await db.drop();
  });

  test('default_transaction_read_only = on: refused once with the ALTER ROLE; doctor predicts it', async () => {
    const db = await database('read_only');
    const app = await role(db, 'readonly', { default_transaction_read_only: 'on' });
    const project = smallProject({ 'a.test.js': QUICK_TEST, 'b.test.js': QUICK_TEST });
    const message = EXPECTED.readOnly(app.name, db.name);

    await expectPredictedRefusal(db, app.dsn(), project, message);
  });

  test('idle_session_timeout = 1s on the role: idle pauses in tests do not break the run', async () => {
    const db = await database('idle_timeout');
    const app = await role(db, 'idle', { idle_session_timeout: '1s' });
    const project = smallProject({ 'idle.test.js': IDLE_TEST, 'quick.test.js': QUICK_TEST });
    const run = await runScenario(db, app.dsn(), project);
    expectPassed(run, 3);
    await expectCleanAfterPass(db);
  });

  test('default_transaction_isolation = serializable on the role: the shared suite passes', async () => {
    const db = await database('serializable');
    const app = await role(db, 'serial', { default_transaction_isolation: 'serializable' });
    const run = await runScenario(db, app.dsn(), providerProject());
    expectPassed(run, FULL_SUITE);
    await expectCleanAfterPass(db);
  });

  test('a LATIN1 database: refused once naming the encoding and UTF8; doctor predicts it', async () => {
    const db = await database('latin1', 'LATIN1');
    const project = smallProject({ 'a.test.js': QUICK_TEST, 'b.test.js': QUICK_TEST });
    const message = EXPECTED.encoding(db.name);

    await expectPredictedRefusal(db, db.dsn, project, message);
  });
});
