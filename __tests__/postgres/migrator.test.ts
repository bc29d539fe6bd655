/**
 * Migration rules that need no server: the catalogue's SQL is frozen once released, and a server
 * older than PostgreSQL 13 is refused by name. The fake answers only what migrate() asks first.
 */
import type { Queryable, QueryResult } from '../../src/driver';
import { MIGRATIONS } from '../../src/store/migrations';
import { UnsupportedServerVersionError } from '../../src/store/postgres/errors';
import { migrate, readiness } from '../../src/store/postgres/migrator';
import { checksumOf, POSTGRES_MIGRATIONS } from '../../src/store/postgres/schema';

test('every catalogue entry has SQL, in catalogue order', () => {
  expect(POSTGRES_MIGRATIONS.map((m) => m.id)).toEqual(MIGRATIONS.map((m) => m.id));
  for (const m of POSTGRES_MIGRATIONS) {
    expect(m.checksum).toBe(checksumOf(m.statements));
    for (const statement of m.statements) expect(statement).toMatch(/\buser_engine_\w+/);
  }
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
function oldServer(versionNum: number, version: string): Queryable & { seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    async query<Row>(sql: string): Promise<QueryResult<Row>> {
      seen.push(sql);
      if (sql.includes('to_regclass')) {
        const row = {
          user_engine_schema_migrations: false,
          user_engine_users: false,
          user_engine_identities: false,
          user_engine_outbox: false,
        };
        return { rows: [row as Row], rowCount: 1 };
      }
      if (sql.includes('server_version_num')) {
        const row = { version_num: versionNum, version, schema: 'app', search_path: 'app' };
        return { rows: [row as Row], rowCount: 1 };
      }
      throw new Error(`unexpected statement: ${sql}`);
    },
  };
}

test('PostgreSQL 12 is refused by name before anything is created', async () => {
  const server = oldServer(120017, '12.17');
  const run = jest.fn();
  const error = await migrate(server, run).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(UnsupportedServerVersionError);
  expect(error).toMatchObject({ code: 'unsupported_server_version', serverVersion: '12.17' });
  expect((error as Error).message).toMatch(/PostgreSQL 12\.17 is not supported.*13 or later/);
  expect(run).not.toHaveBeenCalled();
  expect(server.seen.some((sql) => /CREATE|INSERT/i.test(sql))).toBe(false);
});

test('readiness of a schema without our tables: all pending, no problems', async () => {
  expect(await readiness(oldServer(150000, '15.0'))).toEqual({
    ready: false,
    currentVersion: 0,
    targetVersion: 3,
    pending: MIGRATIONS.map((m) => m.id),
    problems: [],
  });
});
