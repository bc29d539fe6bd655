/**
 * How a PostgresUserEngineStore decides its schema, without a server: the store's `schema` option,
 * else connection.schema, else current_schema() asked once; a NULL current_schema() or a name the
 * store cannot use fails with a stable code. The fake connection records what it was asked.
 */
import type { Connection, QueryResult } from '../../src/driver';
import {
  InvalidStoreSchemaError,
  PostgresUserEngineStore,
  StoreSchemaUnresolvedError,
} from '../../src/store/postgres/postgres-store';

/** Answers current_schema() with `currentSchema` and readiness with "no tables"; records all. */
function fakeConnection(schema: string | undefined, currentSchema: string | null) {
  const seen: { sql: string; params: readonly unknown[] | undefined }[] = [];
  const connection: Connection = {
    driver: 'pg',
    schema,
    async query<Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>> {
      seen.push({ sql, params });
      if (sql.includes('current_schema()')) {
        const row = { schema: currentSchema, search_path: '"$user", ghost' };
        return { rows: [row as Row], rowCount: 1 };
      }
      if (sql.includes('to_regclass')) return { rows: [{} as Row], rowCount: 1 };
      throw new Error(`unexpected statement: ${sql}`);
    },
    transaction: () => Promise.reject(new Error('no transactions in this fake')),
    close: async () => undefined,
  };
  return { connection, seen };
}

/** The schema readiness() asked about (its catalog lookup binds it as $1). */
async function schemaAskedAbout(
  store: PostgresUserEngineStore,
  seen: { params?: readonly unknown[] }[],
) {
  await store.readiness();
  return seen[seen.length - 1].params?.[0];
}

test('the store option wins over connection.schema; neither asks the server', async () => {
  const { connection, seen } = fakeConnection('bound', 'current');
  const store = new PostgresUserEngineStore(connection, { schema: 'chosen' });
  expect(await schemaAskedAbout(store, seen)).toBe('chosen');
  expect(seen.some((q) => q.sql.includes('current_schema()'))).toBe(false);
});

test('connection.schema is used when no option is given', async () => {
  const { connection, seen } = fakeConnection('bound', 'current');
  const store = new PostgresUserEngineStore(connection);
  expect(await schemaAskedAbout(store, seen)).toBe('bound');
  expect(seen.some((q) => q.sql.includes('current_schema()'))).toBe(false);
});

test('otherwise current_schema() is asked once, at first use, and remembered', async () => {
  const { connection, seen } = fakeConnection(undefined, 'current');
  const store = new PostgresUserEngineStore(connection);
  expect(seen).toEqual([]); // nothing asked at construction
  expect(await schemaAskedAbout(store, seen)).toBe('current');
  expect(await schemaAskedAbout(store, seen)).toBe('current');
  expect(seen.filter((q) => q.sql.includes('current_schema()'))).toHaveLength(1);
});

test('a NULL current_schema() fails with store_schema_unresolved, naming the fix', async () => {
  const { connection, seen } = fakeConnection(undefined, null);
  const store = new PostgresUserEngineStore(connection);
  const error = await store.readiness().catch((e: unknown) => e);
  expect(error).toBeInstanceOf(StoreSchemaUnresolvedError);
  expect(error).toMatchObject({ code: 'store_schema_unresolved', searchPath: '"$user", ghost' });
  expect((error as Error).message).toMatch(/no `schema` option, no connection\.schema/);
  expect((error as Error).message).toMatch(/\{ schema: 'app' \}/);
  // Not remembered: the next call asks again (the schema may have been created meanwhile).
  await store.readiness().catch(() => undefined);
  expect(seen.filter((q) => q.sql.includes('current_schema()'))).toHaveLength(2);
});

test.each([
  ['', /must be a non-empty string/],
  ['a\u0000b', /must not contain a NUL character/],
  ['x'.repeat(64), /64 bytes long; PostgreSQL truncates names to 63 bytes/],
])('an unusable schema option %j is refused at construction', (schema, message) => {
  const { connection } = fakeConnection(undefined, 'current');
  const make = () => new PostgresUserEngineStore(connection, { schema });
  expect(make).toThrow(InvalidStoreSchemaError);
  expect(make).toThrow(message);
  expect(make).toThrow(/the schema from store option `schema`/);
});

test('a 63-byte name with a quote, a space and upper case is accepted as given', async () => {
  const name = `Odd "Name" ${'é'.repeat(26)}`; // 63 bytes in UTF-8
  expect(Buffer.byteLength(name)).toBe(63);
  const { connection, seen } = fakeConnection(undefined, 'current');
  expect(
    await schemaAskedAbout(new PostgresUserEngineStore(connection, { schema: name }), seen),
  ).toBe(name);
});
