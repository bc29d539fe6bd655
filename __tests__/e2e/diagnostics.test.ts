/**
 * A failing live test: the preset prints its diagnostics once, to stderr, for that test only —
 * redacted DSN, server version, schema, record counts and the SQL the test issued. Also proves a
 * provider store factory given in testEnvironmentOptions is used.
 */
import {
  assertBuilt,
  describeRun,
  prepareProject,
  removeProjects,
  runJest,
  SENTINEL_PASSWORD,
  titles,
  type JestRun,
} from './support/harness';
import { createTestDatabase, describeWithDatabase, type TestDatabase } from '../support/database';

jest.setTimeout(120_000);

function occurrences(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

describeWithDatabase('diagnostics of a failing live test', () => {
  let db: TestDatabase;
  let run: JestRun;

  beforeAll(async () => {
    assertBuilt();
    db = await createTestDatabase('diag', { prefix: 'ue_e2e_' });
    run = await runJest(prepareProject('failing'), { env: db.liveEnv(), timeoutMs: 100_000 });
  });
  afterAll(async () => {
    removeProjects();
    await db?.drop();
  });

  test('the run fails because of that one test only', () => {
    if (run.code !== 1) throw new Error(describeRun(run));
    expect(titles(run, 'failed')).toEqual(['diagnostics (live) fails on purpose after writing']);
    expect(titles(run, 'passed')).toHaveLength(2);
  });

  test('diagnostics are printed once, naming the failing test and nothing else', () => {
    expect(occurrences(run.stderr, 'fails on purpose after writing')).toBeGreaterThanOrEqual(1);
    const blocks = run.stderr
      .split('\n')
      .filter((line) => /user-engine live diagnostics/i.test(line));
    expect(blocks).toHaveLength(1);
    expect(blocks[0]).toContain('fails on purpose after writing');
    expect(run.stderr).not.toMatch(/diagnostics[^\n]*passes (before|after) the failure/i);
  });

  test('they carry the redacted DSN, server version, schema, counts and the SQL', () => {
    const start = run.stderr.search(/user-engine live diagnostics/i);
    const text = run.stderr.slice(start);
    // The run's own DSN (whatever server the suite runs on), its password shown as ***.
    expect(text).toContain(db.dsn.replace(`:${SENTINEL_PASSWORD}@`, ':***@'));
    expect(text).not.toContain(SENTINEL_PASSWORD);
    expect(text).toMatch(/\b1[3-9]\.\d+/);
    expect(text).toMatch(/user_engine_live_[a-z0-9]+_1/);
    expect(text).toMatch(/user_engine_users\D+2\b/);
    // Exactly the two statements the failing test issued: its upsert (one statement per call,
    // long, so shown truncated with its length) and its lookup; none from other tests.
    const statements = text.slice(text.indexOf('statements:')).split('\n').slice(1);
    const numbered = statements.filter((line) => /^\s+\d+\. /.test(line));
    expect(numbered).toHaveLength(2);
    expect(numbered[0]).toMatch(/^\s+1\. (WITH|INSERT INTO) /i);
    expect(numbered[0]).toMatch(/… \(\d+ chars\) …|user_engine_(users|outbox)/);
    // The store names its tables in the run schema, never through search_path.
    expect(numbered[1]).toMatch(
      /^\s+2\. SELECT .* FROM "user_engine_live_[a-z0-9]+_1"\."user_engine_users" WHERE email_key = \$1/,
    );
  });

  test('the password never appears', () => {
    expect(run.allOutput).not.toContain(SENTINEL_PASSWORD);
  });

  test('nothing is left behind', async () => {
    expect(await db.leftovers()).toEqual({ runSchemas: [], ledgerRows: 0, backends: 0 });
  });
});
