/**
 * Migration rules that need no server: the catalogue's SQL is frozen once released, every table
 * is named in the store's schema (never through search_path), and a server older than
 * PostgreSQL 13 is refused by name. The fake answers only what migrate() asks first.
 */
import type { Queryable, QueryResult } from '../../src/driver';
import { MIGRATIONS } from '../../src/store/migrations';
import { UnsupportedServerVersionError } from '../../src/store/postgres/errors';
import { migrate, readiness } from '../../src/store/postgres/migrator';
import {
  checksumOf,
  MIGRATION_LOCK,
  POSTGRES_MIGRATIONS,
  TABLE_OF_MIGRATION,
} from '../../src/store/postgres/schema';
import { buildStatements } from '../../src/store/postgres/statements';

/** Needs quoting three ways: a quote, a space, upper case. */
const ODD = 'ue_store_"Odd Name"';
const ODD_QUOTED = '"ue_store_""Odd Name"""';
const TABLES = [...Object.values(TABLE_OF_MIGRATION), 'user_engine_schema_migrations'];

/**
 * Tables of ours that `sql` mentions other than as `"<schema>"."<table>"`. Constraint and index
 * names start with a table's name followed by `_`, so they are not mentions.
 */
function unqualifiedTables(sql: string, quotedSchema: string): string[] {
  return TABLES.filter((table) => {
    const mentions = sql.split(table).length - sql.split(`${table}_`).length;
    const qualified = sql.split(`${quotedSchema}."${table}"`).length - 1;
    return mentions !== qualified;
  });
}

test('every catalogue entry has SQL, in catalogue order', () => {
  expect(POSTGRES_MIGRATIONS.map((m) => m.id)).toEqual(MIGRATIONS.map((m) => m.id));
  for (const m of POSTGRES_MIGRATIONS) {
    expect(m.checksum).toBe(checksumOf(m.statements));
    for (const statement of m.statements) expect(statement).toMatch(/\buser_engine_\w+/);
  }
});

test('executed migrations name every table "schema"."table"; the checksum covers bare names', () => {
  for (const m of POSTGRES_MIGRATIONS) {
    const executed = m.statementsIn(ODD);
    expect(executed).toHaveLength(m.statements.length);
    for (const statement of executed) {
      expect(statement).toContain(ODD_QUOTED);
      expect(unqualifiedTables(statement, ODD_QUOTED)).toEqual([]);
    }
    // Strip the qualification: what is left is exactly the text the checksum was computed on,
    // so a ledger written by a release that relied on search_path keeps matching.
    const stripped = executed.map((s) => s.replace(/"ue_store_""Odd Name"""\."(\w+)"/g, '$1'));
    expect(stripped).toEqual(m.statements);
    expect(checksumOf(stripped)).toBe(m.checksum);
  }
});

test('every data and ledger statement names its tables in the store schema, quoted', () => {
  const statements = buildStatements(ODD);
  expect(statements.schema).toBe(ODD);
  for (const [name, sql] of Object.entries(statements)) {
    if (name === 'schema') continue;
    expect({ name, qualified: sql.includes(ODD_QUOTED) }).toEqual({ name, qualified: true });
    expect({ name, unqualified: unqualifiedTables(sql, ODD_QUOTED) }).toEqual({
      name,
      unqualified: [],
    });
    expect(sql).not.toMatch(/current_schema|search_path/);
  }
});

test('the migration lock is transaction-level and keyed on the schema name, not the session', () => {
  expect(MIGRATION_LOCK).toBe(`SELECT pg_advisory_xact_lock(hashtext('user_engine:' || $1::text))`);
});

test('released migrations never change: their checksums are pinned', () => {
  // A schema migrated by an earlier release records these; changing the SQL makes it not ready.
  // Add a new migration instead of editing one of these.
  expect(Object.fromEntries(POSTGRES_MIGRATIONS.map((m) => [m.id, m.checksum]))).toEqual({
    '0001_create_users': '6aac09b583882d7f3f7987ed3954e209520b27fa6d87a3365afe7e4b71e03875',
    '0002_create_identities': '835b4f04927edb096edef508876230e0f7a925d56418f0b6755e8755b212e8ab',
    '0003_create_outbox': '44a604752f31ffe684fac3fd1dbf156c0c4ddaae4a0cd622d9be1fa9f4f50697',
  });
});

/** A server with no tables of ours, reporting `version`; records every statement it gets. */
function oldServer(
  versionNum: number,
  version: string,
): Queryable & { seen: string[]; params: unknown[] } {
  const seen: string[] = [];
  const params: unknown[] = [];
  return {
    seen,
    params,
    async query<Row>(sql: string, values?: readonly unknown[]): Promise<QueryResult<Row>> {
      seen.push(sql);
      params.push(values);
      // The one read before migrating: which tables exist, the server version, the schema.
      if (sql.includes('to_regclass') && sql.includes('server_version_num')) {
        const row = {
          user_engine_schema_migrations: false,
          user_engine_users: false,
          user_engine_identities: false,
          user_engine_outbox: false,
          version_num: versionNum,
          version,
          schema_exists: true,
        };
        return { rows: [row as Row], rowCount: 1 };
      }
      throw new Error(`unexpected statement: ${sql}`);
    },
  };
}

test('PostgreSQL 12 is refused by name before anything is created', async () => {
  const server = oldServer(120017, '12.17');
  const run = jest.fn();
  const error = await migrate(server, buildStatements('app'), run).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(UnsupportedServerVersionError);
  expect(error).toMatchObject({ code: 'unsupported_server_version', serverVersion: '12.17' });
  expect((error as Error).message).toMatch(/PostgreSQL 12\.17 is not supported.*13 or later/);
  expect(run).not.toHaveBeenCalled();
  expect(server.seen.some((sql) => /CREATE|INSERT/i.test(sql))).toBe(false);
  // Catalog lookups take the store's schema as a parameter, never the session's current_schema().
  expect(server.seen.some((sql) => /current_schema|search_path/.test(sql))).toBe(false);
  expect(server.params).toEqual([['app']]);
});

test('readiness of a schema without our tables: all pending, no problems', async () => {
  expect(await readiness(oldServer(150000, '15.0'), buildStatements('app'))).toEqual({
    ready: false,
    currentVersion: 0,
    targetVersion: 3,
    pending: MIGRATIONS.map((m) => m.id),
    problems: [],
  });
});
