/**
 * Provider databases as they are: least-privilege roles (CONNECT + CREATE on the database only,
 * PostgreSQL 15 so no CREATE on public), two roles sharing one ledger, a foreign object in the
 * ledger's place, provider objects depending on a run schema, a read-only role, a LATIN1
 * database. Every refusal is asserted by error code, message and "nothing written"; provider
 * canaries are compared by md5 before and after.
 */
import type { Connection } from '../../src/driver/port';
import {
  joinRun,
  openRun,
  collectCrashedRuns,
  createFreshSchema,
  dropFreshSchema,
  ensureWorkerSchema,
  planReset,
} from '../../src/live/bootstrap';
import { liveDeps } from '../../src/cli/live-deps';
import { PreflightError } from '../../src/live/errors';
import { newRunId, qualifiedName, quoteIdent } from '../../src/live/isolation';
import { RUNS, SCHEMAS } from '../../src/live/ledger';
import { runPreflight } from '../../src/live/preflight';
import { resetWorkerSchema } from '../../src/live/reset';
import { ADMIN_DSN, describeLive, opener, schemaExists } from './support';
import { fingerprint, plantCanaries, rowsOf } from '../support/canaries';

const DB = 'ue_live_provider_test';
const ROLES = {
  a: 'ue_live_role_a',
  b: 'ue_live_role_b',
  noCreate: 'ue_live_role_nocreate',
  readOnly: 'ue_live_role_ro',
};
const LONG_LEASE = 600_000;

jest.setTimeout(60_000);

function dsnFor(database: string, user = 'postgres'): string {
  const url = new URL(ADMIN_DSN ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  url.username = user;
  url.password = '';
  url.pathname = `/${database}`;
  return url.toString();
}

/** What a refused run must not have left: no ledger row, no run schema, nothing new in public. */
async function nothingWritten(q: Connection, runId: string): Promise<void> {
  const { rows } = await q.query(
    `SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)`,
    [`user_engine_live_${runId}`],
  );
  expect(rows).toEqual([]);
  const ledger = await q.query(
    `SELECT to_regclass('user_engine_live.runs') IS NOT NULL AS present`,
  );
  if (ledger.rows[0].present) {
    expect((await q.query(`SELECT 1 FROM ${RUNS} WHERE run_id = $1`, [runId])).rows).toEqual([]);
  }
}

async function expectRefusal(attempt: Promise<unknown>, code: string, text: string): Promise<void> {
  const error = await attempt.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PreflightError);
  expect((error as PreflightError).code).toBe(code);
  expect((error as Error).message).toContain(text);
}

describeLive('provider databases (real PostgreSQL, real roles)', () => {
  let su: Connection;
  const conns = opener(dsnFor('postgres'));
  let as: (role: string, database?: string) => Promise<Connection>;
  const openers: ReturnType<typeof opener>[] = [];

  beforeAll(async () => {
    su = await conns.open({ max: 2 });
    for (const db of [DB, 'ue_live_provider_foreign', 'ue_live_provider_latin1']) {
      await su.query(`DROP DATABASE IF EXISTS ${quoteIdent(db)} WITH (FORCE)`);
    }
    for (const role of Object.values(ROLES))
      await su.query(`DROP ROLE IF EXISTS ${quoteIdent(role)}`);
    await su.query(`CREATE DATABASE ${quoteIdent(DB)}`);
    for (const role of Object.values(ROLES)) {
      await su.query(`CREATE ROLE ${quoteIdent(role)} LOGIN`);
      await su.query(`GRANT CONNECT ON DATABASE ${quoteIdent(DB)} TO ${quoteIdent(role)}`);
      if (role !== ROLES.noCreate) {
        await su.query(`GRANT CREATE ON DATABASE ${quoteIdent(DB)} TO ${quoteIdent(role)}`);
      }
    }
    await su.query(
      `ALTER ROLE ${quoteIdent(ROLES.readOnly)} IN DATABASE ${quoteIdent(DB)} SET default_transaction_read_only = on`,
    );
    as = async (role, database = DB) => {
      const o = opener(dsnFor(database, role));
      openers.push(o);
      return o.open({ max: 2 });
    };
    const admin = await as('postgres');
    await plantCanaries(rowsOf(admin));
  });

  afterAll(async () => {
    await Promise.all(openers.map((o) => o.closeAll()));
    for (const db of [DB, 'ue_live_provider_foreign', 'ue_live_provider_latin1']) {
      await su.query(`DROP DATABASE IF EXISTS ${quoteIdent(db)} WITH (FORCE)`);
    }
    for (const role of Object.values(ROLES))
      await su.query(`DROP ROLE IF EXISTS ${quoteIdent(role)}`);
    await conns.closeAll();
  });

  it('a role without CREATE on the database is refused once, before any write, with the GRANT', async () => {
    const admin = await as('postgres');
    const before = await fingerprint(rowsOf(admin));
    const conn = await as(ROLES.noCreate);
    const runId = newRunId();
    await expectRefusal(
      openRun(conn, { runId }),
      'missing_privilege',
      `role "${ROLES.noCreate}" lacks the CREATE privilege on database "${DB}"`,
    );
    await expectRefusal(
      openRun(conn, { runId }),
      'missing_privilege',
      `GRANT CREATE ON DATABASE "${DB}" TO "${ROLES.noCreate}";`,
    );
    await nothingWritten(admin, runId);
    expect(
      (await admin.query(`SELECT 1 FROM pg_namespace WHERE nspname = 'user_engine_live'`)).rows,
    ).toEqual([]);
    expect(await fingerprint(rowsOf(admin))).toBe(before);
  });

  it('a read-only role is refused before any write, naming the setting and the fix', async () => {
    const admin = await as('postgres');
    const runId = newRunId();
    await expectRefusal(
      openRun(await as(ROLES.readOnly), { runId }),
      'read_only_session',
      `ALTER ROLE "${ROLES.readOnly}" IN DATABASE "${DB}" SET default_transaction_read_only = off;`,
    );
    await nothingWritten(admin, runId);
  });

  it('a CONNECT+CREATE role runs the whole life cycle; its ledger lives in user_engine_live, nothing in public', async () => {
    const admin = await as('postgres');
    const before = await fingerprint(rowsOf(admin));
    const conn = await as(ROLES.a);
    const runId = newRunId();
    const begun = await openRun(conn, { runId, leaseMs: LONG_LEASE });
    expect(begun.ledgerSchema).toBe('user_engine_live');
    const schema = await ensureWorkerSchema(conn, { runId, workerId: 1, host: 'h', pid: 1 });
    await conn.query(`CREATE TABLE ${qualifiedName(schema, 'user_engine_users')} (id int)`);
    await conn.query(`INSERT INTO ${qualifiedName(schema, 'user_engine_users')} VALUES (1)`);
    await resetWorkerSchema(conn, schema);
    const { rows: owners } = await admin.query<{ nspname: string; owner: string }>(
      `SELECT nspname, pg_get_userbyid(nspowner) AS owner FROM pg_namespace WHERE nspname IN ('user_engine_live', $1) ORDER BY 1`,
      [schema],
    );
    expect(owners).toEqual([
      { nspname: 'user_engine_live', owner: ROLES.a },
      { nspname: schema, owner: ROLES.a },
    ]);
    expect((await joinRun(conn, { runId }).close()).dropped).toEqual([schema]);
    expect(await fingerprint(rowsOf(admin))).toBe(before);
    const { rows: publicTables } = await admin.query(
      `SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' ORDER BY 1`,
    );
    // Only the provider's canary tables (../support/canaries): the run put nothing in public.
    expect(publicTables.map((r) => r.relname)).toEqual(['user_engine_outbox', 'user_engine_users']);
  });

  it('two roles share the ledger: a crashed run of the other role is skipped with a notice, its rows are out of reach', async () => {
    const admin = await as('postgres');
    const a = await as(ROLES.a);
    const b = await as(ROLES.b);
    const crashed = newRunId();
    await openRun(a, { runId: crashed, leaseMs: LONG_LEASE });
    const crashedSchema = await ensureWorkerSchema(a, {
      runId: crashed,
      workerId: 1,
      host: 'h',
      pid: 1,
    });
    // Killed an hour ago: nothing renews its lease any more.
    await admin.query(
      `UPDATE ${RUNS} SET lease_expires_at = now() - interval '1 hour' WHERE run_id = $1`,
      [crashed],
    );

    const runId = newRunId();
    const begun = await openRun(b, { runId, leaseMs: LONG_LEASE });
    expect(begun.collected).toEqual([]);
    expect(begun.skipped).toEqual([
      { runId: crashed, owner: ROLES.a, schemas: [{ schema: crashedSchema, owner: ROLES.a }] },
    ]);
    const mine = await ensureWorkerSchema(b, { runId, workerId: 1, host: 'h', pid: 2 });
    // Row-level security: b reads every row but cannot change a's.
    expect(
      (await b.query(`SELECT run_id FROM ${RUNS} WHERE run_id = $1`, [crashed])).rows,
    ).toHaveLength(1);
    expect((await b.query(`DELETE FROM ${SCHEMAS} WHERE run_id = $1`, [crashed])).rowCount).toBe(0);
    expect(
      (await b.query(`UPDATE ${RUNS} SET lease_expires_at = now() WHERE run_id = $1`, [crashed]))
        .rowCount,
    ).toBe(0);
    await expect(
      b.query(
        `INSERT INTO ${RUNS} (run_id, owner, host, pid, lease_expires_at) VALUES ('zzzzzzzzzz', $1, 'h', 1, now())`,
        [ROLES.a],
      ),
    ).rejects.toMatchObject({ sqlState: '42501' });

    // gc as b: skipped, never a failure; the doctor's plan says the same.
    const gcB = await liveDeps.collector.collect(b, { dryRun: false, graceMs: 0 });
    expect(gcB.skipped.map((s) => s.runId)).toEqual([crashed]);
    const plan = await b.transaction((tx) => planReset(tx, { graceMs: 0 }));
    expect(plan.skipped).toEqual([
      expect.objectContaining({
        schema: crashedSchema,
        owner: ROLES.a,
        reason: expect.stringContaining('gc skips it'),
      }),
    ]);
    expect(await schemaExists(admin, crashedSchema)).toBe(true);
    expect((await joinRun(b, { runId }).close()).dropped).toEqual([mine]);

    // As its own role, gc takes it.
    const gcA = await collectCrashedRuns(a, { graceMs: 0 });
    expect(gcA.runs.map((r) => r.schemas)).toEqual([[crashedSchema]]);
    expect(await schemaExists(admin, crashedSchema)).toBe(false);
  });

  it('provider objects depending on a run schema: the schema is kept, nothing of theirs dropped, all named', async () => {
    const admin = await as('postgres');
    const conn = await as(ROLES.a);
    const runId = newRunId();
    await openRun(conn, { runId, leaseMs: LONG_LEASE });
    const schema = await ensureWorkerSchema(conn, { runId, workerId: 1, host: 'h', pid: 1 });
    const users = qualifiedName(schema, 'user_engine_users');
    await conn.query(`CREATE TABLE ${users} (id int PRIMARY KEY, email text)`);
    await conn.query(`INSERT INTO ${users} VALUES (1, 'a@x')`);
    const fresh = await createFreshSchema(conn, { runId, workerId: 1, host: 'h', pid: 1 });
    await conn.query(`CREATE TABLE ${qualifiedName(fresh.schema, 'row_type')} (k int)`);
    // The provider (superuser here) builds on them.
    await admin.query(`CREATE SCHEMA provider_app`);
    await admin.query(`CREATE VIEW provider_app.v_users AS SELECT id, email FROM ${users}`);
    await admin.query(
      `CREATE TABLE provider_app.orders (id int, user_id int REFERENCES ${users}(id))`,
    );
    await admin.query(
      `CREATE TABLE provider_app.snapshots (id int, row ${qualifiedName(fresh.schema, 'row_type')})`,
    );
    await admin.query(`INSERT INTO provider_app.orders VALUES (1, 1)`);
    const providerBefore = (
      await admin.query(
        `SELECT string_agg(c.relname || ':' || c.relkind::text, ',' ORDER BY c.relname) AS objs FROM pg_class c WHERE relnamespace = 'provider_app'::regnamespace`,
      )
    ).rows[0].objs;

    const disposal = await dropFreshSchema(conn, { runId, schema: fresh.schema });
    expect(disposal.dropped).toBe(false);
    expect(disposal.dependents.join('\n')).toContain('column row of table provider_app.snapshots');
    const ended = await joinRun(conn, { runId }).close();
    expect(ended.dropped).toEqual([]);
    const kept = new Map(ended.kept.map((k) => [k.schema, k.dependents.join('\n')]));
    expect(kept.get(schema)).toContain('view provider_app.v_users');
    expect(kept.get(schema)).toContain(
      'constraint orders_user_id_fkey on table provider_app.orders',
    );
    expect(kept.get(fresh.schema)).toContain('column row of table provider_app.snapshots');
    for (const s of [schema, fresh.schema]) expect(await schemaExists(admin, s)).toBe(true);
    expect((await admin.query(`SELECT count(*)::int AS n FROM provider_app.v_users`)).rows).toEqual(
      [{ n: 1 }],
    );
    expect((await admin.query(`SELECT count(*)::int AS n FROM provider_app.orders`)).rows).toEqual([
      { n: 1 },
    ]);
    expect(
      (
        await admin.query(
          `SELECT string_agg(c.relname || ':' || c.relkind::text, ',' ORDER BY c.relname) AS objs FROM pg_class c WHERE relnamespace = 'provider_app'::regnamespace`,
        )
      ).rows[0].objs,
    ).toBe(providerBefore);
    // The ledger rows stay, so gc and doctor name them too.
    const plan = await conn.transaction((tx) => planReset(tx, { graceMs: 0 }));
    expect(plan.kept.map((k) => k.schema).sort()).toEqual([schema, fresh.schema].sort());
    const gc = await liveDeps.collector.collect(conn, { dryRun: false, graceMs: 0 });
    expect(gc.runs[0].kept.map((k) => k.schema).sort()).toEqual([schema, fresh.schema].sort());
    expect(await schemaExists(admin, schema)).toBe(true);

    // Once the provider removed them, gc drops the schemas.
    await admin.query(`DROP SCHEMA provider_app CASCADE`);
    const after = await collectCrashedRuns(conn, { graceMs: 0 });
    expect(after.runs[0].schemas.sort()).toEqual([schema, fresh.schema].sort());
    expect(
      (
        await admin.query(
          `SELECT 1 FROM ${SCHEMAS} WHERE run_id = $1 UNION ALL SELECT 1 FROM ${RUNS} WHERE run_id = $1`,
          [runId],
        )
      ).rows,
    ).toEqual([]);
  });

  describe("a foreign object in the ledger's place", () => {
    const FOREIGN = 'ue_live_provider_foreign';
    let admin: Connection;
    beforeAll(async () => {
      await su.query(`CREATE DATABASE ${FOREIGN}`);
      admin = await as('postgres', FOREIGN);
      await plantCanaries(rowsOf(admin));
    });

    it('a schema named user_engine_live without the marker: refused before any write, gc deletes nothing', async () => {
      await admin.query(`CREATE SCHEMA user_engine_live`);
      await admin.query(`CREATE TABLE user_engine_live.runs (run_id text, note text)`);
      await admin.query(`INSERT INTO user_engine_live.runs VALUES ('abcdefghij', 'provider data')`);
      const before = await fingerprint(rowsOf(admin));
      const runId = newRunId();
      await expectRefusal(
        openRun(admin, { runId }),
        'foreign_ledger',
        'schema "user_engine_live" (owner "postgres") has no comment',
      );
      await expectRefusal(
        openRun(admin, { runId }),
        'foreign_ledger',
        'rename or drop that schema',
      );
      await expectRefusal(
        liveDeps.collector.collect(admin, { dryRun: false, graceMs: 0 }),
        'foreign_ledger',
        'is not a ledger of @user-engine/jest-live',
      );
      expect((await admin.query(`SELECT * FROM user_engine_live.runs`)).rows).toEqual([
        { run_id: 'abcdefghij', note: 'provider data' },
      ]);
      expect(
        (
          await admin.query(
            `SELECT relname FROM pg_class WHERE relnamespace = 'user_engine_live'::regnamespace`,
          )
        ).rows,
      ).toEqual([{ relname: 'runs' }]);
      await nothingWritten(admin, runId);
      expect(await fingerprint(rowsOf(admin))).toBe(before);
      const report = await admin.transaction((tx) => runPreflight(tx));
      expect(report.checks.find((c) => c.name === 'ledger')).toMatchObject({
        status: 'fail',
        code: 'foreign_ledger',
      });
      await admin.query(`DROP SCHEMA user_engine_live CASCADE`);
    });

    it('the marker but another table layout: refused naming the table, which is not ALTERed', async () => {
      await admin.query(`CREATE SCHEMA user_engine_live`);
      await admin.query(
        `COMMENT ON SCHEMA user_engine_live IS '@user-engine/jest-live run ledger, layout 1'`,
      );
      await admin.query(`CREATE TABLE user_engine_live.runs (run_id text PRIMARY KEY)`);
      await admin.query(`CREATE TABLE user_engine_live.schemas (schema_name text PRIMARY KEY)`);
      const columns = async () =>
        (
          await admin.query(
            `SELECT string_agg(attrelid::regclass || '.' || attname, ',' ORDER BY attrelid, attnum) AS c FROM pg_attribute
           WHERE attrelid IN ('user_engine_live.runs'::regclass, 'user_engine_live.schemas'::regclass) AND attnum > 0`,
          )
        ).rows[0].c;
      const before = await columns();
      const runId = newRunId();
      await expectRefusal(
        openRun(admin, { runId }),
        'foreign_ledger',
        'table "user_engine_live"."runs"',
      );
      expect(await columns()).toBe(before);
      await admin.query(`DROP SCHEMA user_engine_live CASCADE`);
    });
  });

  it('a LATIN1 database is refused before any write, naming the encoding', async () => {
    await su.query(
      `CREATE DATABASE ue_live_provider_latin1 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`,
    );
    const conn = await as('postgres', 'ue_live_provider_latin1');
    const runId = newRunId();
    await expectRefusal(
      openRun(conn, { runId }),
      'unsupported_encoding',
      'has encoding LATIN1; the store needs UTF8',
    );
    expect(
      (await conn.query(`SELECT 1 FROM pg_namespace WHERE nspname = 'user_engine_live'`)).rows,
    ).toEqual([]);
    await nothingWritten(conn, runId);
  });
});
