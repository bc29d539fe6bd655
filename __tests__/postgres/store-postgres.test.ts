/**
 * What only the Postgres store has to prove: migrations under concurrency, readiness that touches
 * nothing, checksum and ledger problems, not_ready instead of "relation does not exist", error
 * mapping, the round trips of a batch, and code-point order in a database whose own collation is
 * not C. Runs when USER_ENGINE_LIVE_DSN is set.
 */
import { execFileSync } from 'node:child_process';
import { createConnection, DatabaseError, quoteIdentifier } from '../../src/driver';
import type { Connection } from '../../src/driver';
import { MIGRATIONS } from '../../src/store/migrations';
import { compareCodePoints } from '../../src/store/validation';
import {
  MigrationStateError,
  PostgresStoreClosedError,
  PostgresUserEngineStore,
} from '../../src/store/postgres/postgres-store';
import {
  adminConnection,
  createTestSchema,
  describeLive,
  ADMIN_DSN,
  liveDsn,
  randomSchemaName,
  type TestSchema,
} from './support';

const ALL_IDS = MIGRATIONS.map((m) => m.id);

describeLive('PostgresUserEngineStore specifics (live, pg)', () => {
  let admin: Connection;
  const schemas: TestSchema[] = [];

  async function freshSchema(onQuery?: (sql: string) => void): Promise<TestSchema> {
    const schema = await createTestSchema(admin, { max: 4, onQuery });
    schemas.push(schema);
    return schema;
  }

  async function objectsIn(schema: string): Promise<string[]> {
    const { rows } = await admin.query<{ relname: string }>(
      `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 ORDER BY c.relname`,
      [schema],
    );
    return rows.map((r) => r.relname);
  }

  beforeAll(async () => {
    admin = await adminConnection('pg');
  });

  afterAll(async () => {
    for (const schema of schemas) await schema.drop();
    await admin?.close();
  });

  describe('migrations and readiness', () => {
    test('readiness before any migration creates nothing', async () => {
      const { schema, connection } = await freshSchema();
      const store = new PostgresUserEngineStore(connection);
      expect(await store.readiness()).toEqual({
        ready: false,
        currentVersion: 0,
        targetVersion: 3,
        pending: ALL_IDS,
        problems: [],
      });
      await expect(store.getUser('00000000-0000-4000-8000-000000000000')).rejects.toMatchObject({
        code: 'not_ready',
      });
      expect(await objectsIn(schema)).toEqual([]);
    });

    test('migrate creates only user_engine_* objects, in the bound schema', async () => {
      const { schema, connection } = await freshSchema();
      await new PostgresUserEngineStore(connection).migrate();
      const objects = await objectsIn(schema);
      expect(objects.length).toBeGreaterThan(4);
      for (const name of objects) expect(name).toMatch(/^user_engine_/);
      const { rows } = await admin.query<{ count: string }>(
        `SELECT count(*) FROM pg_class WHERE relname = 'user_engine_users'
         AND relnamespace = 'public'::regnamespace`,
      );
      expect(Number(rows[0].count)).toBe(0);
    });

    test('two processes migrating one schema at once: each migration applied exactly once', async () => {
      const { schema, connection } = await freshSchema();
      const other = await createConnection(liveDsn(), { driver: 'postgres', schema, max: 2 });
      try {
        const results = await Promise.all([
          new PostgresUserEngineStore(connection).migrate(),
          new PostgresUserEngineStore(other).migrate(),
          new PostgresUserEngineStore(connection).migrate(),
        ]);
        const applied = results.flatMap((r) => r.applied);
        expect([...applied].sort()).toEqual(ALL_IDS);
        const { rows } = await connection.query<{ version: number }>(
          'SELECT version FROM user_engine_schema_migrations ORDER BY version',
        );
        expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
        expect((await new PostgresUserEngineStore(other).readiness()).ready).toBe(true);
      } finally {
        await other.close();
      }
    });

    test('a changed checksum is a problem: not ready, and migrate refuses', async () => {
      const { connection } = await freshSchema();
      const store = new PostgresUserEngineStore(connection);
      await store.migrate();
      await connection.query(
        `UPDATE user_engine_schema_migrations SET checksum = 'tampered' WHERE version = 2`,
      );
      const readiness = await store.readiness();
      expect(readiness).toMatchObject({ ready: false, currentVersion: 3, pending: [] });
      expect(readiness.problems).toEqual([
        expect.stringMatching(/0002_create_identities was applied with checksum tampered/),
      ]);
      const error = await store.migrate().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MigrationStateError);
      expect(error).toMatchObject({ code: 'migration_state', problems: readiness.problems });
    });

    test('an unknown applied version and a missing table are reported', async () => {
      const { connection } = await freshSchema();
      const store = new PostgresUserEngineStore(connection);
      await store.migrate();
      await connection.query(
        `INSERT INTO user_engine_schema_migrations (version, name, checksum) VALUES (99, 'future', 'x')`,
      );
      await connection.query('DROP TABLE user_engine_outbox');
      const readiness = await store.readiness();
      expect(readiness.ready).toBe(false);
      expect(readiness.currentVersion).toBe(99);
      expect(readiness.problems).toEqual([
        expect.stringMatching(
          /version 99 \(future\) is recorded as applied but this code does not know it/,
        ),
        expect.stringMatching(
          /table user_engine_outbox is missing although migration 0003_create_outbox/,
        ),
      ]);
    });

    test('a store schema that does not exist: migrate names it, with SQLSTATE 3F000', async () => {
      const missing = randomSchemaName();
      const ghost = await createConnection(liveDsn(), { driver: 'pg', schema: missing, max: 1 });
      try {
        const error = await new PostgresUserEngineStore(ghost).migrate().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(DatabaseError);
        expect(error).toMatchObject({ sqlState: '3F000' });
        expect((error as Error).message).toContain(
          `no schema to migrate into: schema "${missing}" does not exist; create it`,
        );
      } finally {
        await ghost.close();
      }
    });
  });

  describe('not_ready', () => {
    test('a table dropped after migration: not_ready, never "relation does not exist"', async () => {
      const { connection } = await freshSchema();
      const store = new PostgresUserEngineStore(connection);
      await store.migrate();
      await connection.query('DROP TABLE user_engine_outbox');
      const error = await store.upsertUser({ email: 'a@x.io', displayName: 'A' }).catch((e) => e);
      expect(error).toMatchObject({ code: 'not_ready', name: 'NotReadyError' });
      expect((error as Error).message).not.toMatch(/does not exist/);
      expect(await store.recordCounts().catch((e) => e)).toMatchObject({ code: 'not_ready' });
    });

    test('inside a transaction too', async () => {
      const { connection } = await freshSchema();
      const store = new PostgresUserEngineStore(connection);
      await expect(store.transaction((tx) => tx.findUserByEmail('a@x.io'))).rejects.toMatchObject({
        code: 'not_ready',
        pending: ALL_IDS,
      });
    });
  });

  describe('on a migrated schema', () => {
    let schema: TestSchema;
    let store: PostgresUserEngineStore;
    const statements: string[] = [];

    beforeAll(async () => {
      schema = await freshSchema((sql) => statements.push(sql));
      store = new PostgresUserEngineStore(schema.connection);
      await store.migrate();
    });

    beforeEach(async () => {
      await schema.connection.query(
        'DELETE FROM user_engine_identities; DELETE FROM user_engine_users; DELETE FROM user_engine_outbox',
      );
      statements.length = 0;
    });

    test('a batch of 500 is one statement in one transaction, not a loop', async () => {
      const inputs = Array.from({ length: 500 }, (_, i) => ({
        email: `batch${i}@x.io`,
        displayName: `B${i}`,
      }));
      const first = await store.upsertUsers(inputs);
      expect(first.every((r) => r.created)).toBe(true);
      expect(statements).toHaveLength(3);
      expect(statements[0]).toBe('BEGIN');
      expect(statements[2]).toBe('COMMIT');
      statements.length = 0;
      const again = await store.upsertUsers(
        inputs.map((input, i) => (i % 2 ? { ...input, displayName: 'changed' } : input)),
      );
      expect(again.filter((r) => r.changed)).toHaveLength(250);
      expect(statements).toHaveLength(3);
      expect((await store.recordCounts()).user_engine_outbox).toBe(750);
    });

    test('a single upsert is one statement, with no transaction of its own', async () => {
      await store.upsertUser({ email: 'one@x.io', displayName: 'One' });
      expect(statements).toHaveLength(1);
      expect(statements).not.toContain('BEGIN');
    });

    test('a database error the contract does not name keeps its SQLSTATE and constraint', async () => {
      await schema.connection.query(
        `ALTER TABLE user_engine_users ADD CONSTRAINT no_forbidden CHECK (display_name <> 'Forbidden')`,
      );
      try {
        const error = await store
          .upsertUser({ email: 'f@x.io', displayName: 'Forbidden' })
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(DatabaseError);
        expect(error).toMatchObject({ sqlState: '23514', constraint: 'no_forbidden' });
        expect(await store.recordCounts()).toMatchObject({
          user_engine_users: 0,
          user_engine_outbox: 0,
        });
      } finally {
        await schema.connection.query('ALTER TABLE user_engine_users DROP CONSTRAINT no_forbidden');
      }
    });

    test('an email taken between the check and the write is duplicate_email (unique violation)', async () => {
      const a = (await store.upsertUser({ email: 'a@x.io', displayName: 'A' })).user;
      const b = (await store.upsertUser({ email: 'b@x.io', displayName: 'B' })).user;
      // Another session takes the key and holds it uncommitted while the update runs.
      const result = await schema.connection.transaction(async (other) => {
        await other.query(`UPDATE user_engine_users SET email_key = 'prize@x.io' WHERE id = $1`, [
          a.id,
        ]);
        const update = store
          .updateUser(b.id, { email: 'Prize@x.io' }, { expectedRevision: 1 })
          .catch((e: unknown) => e);
        await waitUntilBlocked(admin);
        // Wrapped: returning the promise itself would make the commit wait for the update.
        return { update };
      });
      expect(await result.update).toMatchObject({
        code: 'duplicate_email',
        emailKey: 'prize@x.io',
      });
      expect(await store.getUser(b.id)).toEqual(b);
    });

    test('a user created after a transaction began is never updated before it was created', async () => {
      await store.transaction(async (tx) => {
        await tx.recordCounts(); // the transaction has started
        await new Promise((resolve) => setTimeout(resolve, 20));
        const outside = (await store.upsertUser({ email: 'late@x.io', displayName: 'Late' })).user;
        const { user } = await tx.updateUser(
          outside.id,
          { displayName: 'Later' },
          { expectedRevision: 1 },
        );
        expect(user.updatedAt.getTime()).toBeGreaterThanOrEqual(user.createdAt.getTime());
      });
    });

    test('revisions and sequences are numbers, timestamps Dates', async () => {
      const { user } = await store.upsertUser({ email: 'types@x.io', displayName: 'T' });
      const [event] = await store.outboxEvents();
      expect(typeof user.revision).toBe('number');
      expect(typeof event.sequence).toBe('number');
      expect(user.createdAt).toBeInstanceOf(Date);
      expect(event.createdAt).toBeInstanceOf(Date);
    });
  });

  describe('closing', () => {
    test('a store that does not own its connection leaves it open; one that does closes it', async () => {
      const { connection, schema } = await freshSchema();
      const borrowed = new PostgresUserEngineStore(connection);
      await borrowed.close();
      await expect(borrowed.readiness()).rejects.toBeInstanceOf(PostgresStoreClosedError);
      expect((await connection.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);

      const own = await createConnection(liveDsn(), { driver: 'pg', schema, max: 1 });
      const owner = new PostgresUserEngineStore(own, { ownsConnection: true });
      await owner.close();
      await owner.close();
      await expect(own.query('SELECT 1')).rejects.toMatchObject({ code: 'connection_closed' });
    });
  });
});

/** Waits until some session of the database waits on a lock (the update behind the held key). */
async function waitUntilBlocked(admin: Connection): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const { rows } = await admin.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_stat_activity
       WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
    if (Number(rows[0].n) > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('the update never blocked on the held key');
}

/**
 * Whether this server can host a database whose default collation is not C (ICU, PostgreSQL 15+)
 * and we may create one. Asked synchronously, before tests are registered, so that the test can
 * be skipped with its reason instead of passing vacuously.
 */
function icuDatabaseSupport(): { ok: true } | { ok: false; reason: string } {
  if (!ADMIN_DSN) return { ok: false, reason: 'USER_ENGINE_LIVE_DSN is not set' };
  const probe = `
    const { Client } = require('pg');
    (async () => {
      const c = new Client({ connectionString: process.env.USER_ENGINE_LIVE_DSN });
      await c.connect();
      const { rows } = await c.query(\`SELECT current_setting('server_version_num')::int >= 150000 AS v15,
        (SELECT count(*) FROM pg_collation WHERE collprovider = 'i') > 0 AS icu,
        (SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user) AS createdb\`);
      await c.end();
      process.stdout.write(JSON.stringify(rows[0]));
    })().catch((e) => { process.stdout.write(JSON.stringify({ error: e.message })); });
  `;
  try {
    const answer = JSON.parse(execFileSync(process.execPath, ['-e', probe], { encoding: 'utf8' }));
    if (answer.error) return { ok: false, reason: `probe failed: ${answer.error}` };
    if (!answer.v15)
      return { ok: false, reason: 'CREATE DATABASE ... LOCALE_PROVIDER needs PostgreSQL 15' };
    if (!answer.icu) return { ok: false, reason: 'the server has no ICU collations' };
    if (!answer.createdb) return { ok: false, reason: 'the DSN role may not create databases' };
    return { ok: true };
  } catch (error) {
    return { ok: false, reason: `probe failed: ${String(error)}` };
  }
}

const icu = icuDatabaseSupport();
const icuTest = icu.ok ? test : test.skip;

describeLive('code-point order in a database whose default collation is ICU en-US', () => {
  const database = `ue_test_icu_${randomSchemaName().slice('ue_test_'.length)}`;
  let admin: Connection;
  let db: Connection | undefined;

  function dsnFor(name: string): string {
    const url = new URL(liveDsn());
    url.pathname = `/${name}`;
    return url.toString();
  }

  beforeAll(async () => {
    if (!icu.ok) return;
    admin = await adminConnection('pg');
    await admin.query(
      `CREATE DATABASE ${quoteIdentifier(database)} TEMPLATE template0 ENCODING 'UTF8'
       LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'`,
    );
    db = await createConnection(dsnFor(database), { driver: 'pg', max: 2 });
  });

  afterAll(async () => {
    await db?.close();
    if (admin) {
      await admin.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(database)}`);
      await admin.close();
    }
  });

  const emails = [
    'b@x.io',
    'a-b@x.io',
    'ab@x.io',
    '_@x.io',
    'é@x.io',
    'f@x.io',
    'z@x.io',
    '\uFFFD@x.io',
    '😀@x.io',
    '0@x.io',
  ];

  icuTest(
    `listUsers pages in code-point order${icu.ok ? '' : ` [skipped: ${icu.reason}]`}`,
    async () => {
      const connection = db as Connection;
      // The database itself sorts differently: otherwise this test would prove nothing.
      const { rows } = await connection.query<{ k: string }>(
        `SELECT k FROM unnest($1::text[]) AS t(k) ORDER BY k`,
        [emails],
      );
      const expected = [...emails].sort(compareCodePoints);
      expect(rows.map((r) => r.k)).not.toEqual(expected);

      const store = new PostgresUserEngineStore(connection);
      await store.migrate();
      await store.upsertUsers(emails.map((email) => ({ email, displayName: 'Order' })));
      const seen: string[] = [];
      let after: string | null = null;
      do {
        const page = await store.listUsers({ limit: 3, after });
        seen.push(...page.items.map((u) => u.emailKey));
        after = page.next;
      } while (after !== null);
      expect(seen).toEqual(expected);
    },
  );
});
