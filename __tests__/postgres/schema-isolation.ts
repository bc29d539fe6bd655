/**
 * The store finds its tables by name in its own schema, never through search_path: the shared
 * conformance suite runs against stores whose `schema` option names a schema that needs quoting
 * (a quote, a space, upper case) while every session's search_path points at a decoy schema
 * holding tables of the same names with canary rows, as a provider's `public` would behind a
 * pooler that drops the search_path. The decoys must come out byte-identical.
 */
import { randomBytes } from 'node:crypto';
import { runStoreConformance } from '../../src/conformance';
import { createConnection, quoteIdentifier } from '../../src/driver';
import type { Connection, DriverName } from '../../src/driver';
import { PostgresUserEngineStore } from '../../src/store/postgres/postgres-store';
import { adminConnection, describeLive, liveDsn, randomSchemaName } from './support';

const TABLES = [
  'user_engine_schema_migrations',
  'user_engine_users',
  'user_engine_identities',
  'user_engine_outbox',
];

/** A `ue_test_` schema name that only works quoted. */
export function oddSchemaName(): string {
  return `ue_test_"Odd Name" Mixed${randomBytes(6).toString('hex')}`;
}

/** md5 of every row of each of our tables in `schema`, in a fixed order, plus its relations. */
export async function fingerprint(admin: Connection, schema: string): Promise<string[]> {
  const prints: string[] = [];
  for (const table of TABLES) {
    const { rows } = await admin.query<{ md5: string; n: string }>(
      `SELECT md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) AS md5,
         count(*) AS n
       FROM ${quoteIdentifier(schema)}.${quoteIdentifier(table)} t`,
    );
    prints.push(`${table} ${rows[0].n} ${rows[0].md5}`);
  }
  const { rows } = await admin.query<{ relations: string }>(
    `SELECT string_agg(c.relname, ',' ORDER BY c.relname) AS relations
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1`,
    [schema],
  );
  return [...prints, rows[0].relations];
}

/** A migrated decoy schema with canary rows in every table. */
export async function createDecoy(admin: Connection): Promise<string> {
  const decoy = randomSchemaName();
  await admin.query(`CREATE SCHEMA ${quoteIdentifier(decoy)}`);
  const store = new PostgresUserEngineStore(admin, { schema: decoy });
  await store.migrate();
  const { user } = await store.upsertUser({ email: 'canary@provider.io', displayName: 'Canary' });
  await store.linkIdentity({ userId: user.id, provider: 'canary', subject: 'c-1' });
  await store.upsertUser({ email: 'second@provider.io', displayName: 'Second' });
  return decoy;
}

export function registerSchemaIsolation(driver: DriverName): void {
  describeLive(
    `PostgresUserEngineStore in a quoted schema, search_path on a decoy (${driver}, live)`,
    () => {
      let admin: Connection | undefined;
      let decoy: string | undefined;
      let before: string[] = [];
      const schemas: string[] = [];
      const connections: Connection[] = [];

      async function setUp(): Promise<{ admin: Connection; decoy: string }> {
        if (!admin) {
          admin = await adminConnection(driver);
          decoy = await createDecoy(admin);
          before = await fingerprint(admin, decoy);
        }
        return { admin, decoy: decoy as string };
      }

      /** An empty odd-named schema and a pool whose search_path is the decoy. */
      async function storeOverDecoy(max: number) {
        const { admin: a, decoy: d } = await setUp();
        const schema = oddSchemaName();
        await a.query(`CREATE SCHEMA ${quoteIdentifier(schema)}`);
        schemas.push(schema);
        const connection = await createConnection(liveDsn(), { driver, schema: d, max });
        connections.push(connection);
        const store = new PostgresUserEngineStore(connection, { schema });
        return { schema, connection, store };
      }

      let shared: Awaited<ReturnType<typeof storeOverDecoy>> | undefined;

      afterAll(async () => {
        for (const connection of connections) await connection.close().catch(() => undefined);
        for (const schema of [...schemas, ...(decoy ? [decoy] : [])])
          await admin?.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`);
        await admin?.close();
      });

      runStoreConformance(`PostgresUserEngineStore (${driver}, quoted schema, decoy search_path)`, {
        async createStore() {
          shared = await storeOverDecoy(4);
          return shared.store;
        },
        async reset() {
          const { schema, connection } = shared as NonNullable<typeof shared>;
          const q = (table: string) => `${quoteIdentifier(schema)}.${quoteIdentifier(table)}`;
          await connection.query(
            `DELETE FROM ${q('user_engine_identities')}; DELETE FROM ${q('user_engine_users')}; DELETE FROM ${q('user_engine_outbox')}`,
          );
        },
        closeStore: (store) => store.close(),
        async createFreshStore() {
          const fresh = await storeOverDecoy(2);
          return {
            store: fresh.store,
            async dispose() {
              await fresh.connection.close();
              await admin?.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(fresh.schema)} CASCADE`);
            },
          };
        },
      });

      test('after the whole suite: the decoy on the search_path is byte-identical', async () => {
        const { admin: a, decoy: d } = await setUp();
        expect(before).toHaveLength(5);
        expect(before[1]).toMatch(/^user_engine_users 2 /);
        expect(await fingerprint(a, d)).toEqual(before);
        // And the suite really ran in the quoted schema: it is migrated there.
        const { schema } = shared as NonNullable<typeof shared>;
        const { rows } = await a.query<{ n: string }>(
          `SELECT count(*) AS n FROM ${quoteIdentifier(schema)}.user_engine_schema_migrations`,
        );
        expect(Number(rows[0].n)).toBe(3);
      });
    },
  );
}
