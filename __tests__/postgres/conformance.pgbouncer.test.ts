/**
 * Issue 11, item 1 for the built-in store: the shared suite through a PgBouncer in transaction
 * mode that drops the `options` startup parameter, on both drivers. The pool asks for no
 * search_path (the bouncer would drop it anyway; a check below proves it does); the store gets
 * its schema from its `schema` option only. The database's `public` holds `user_engine_*` decoys
 * with canary rows, where an unqualified name would land; they must come out byte-identical.
 * Skipped without a live DSN or without /usr/sbin/pgbouncer.
 */
import { runStoreConformance } from '../../src/conformance';
import { createConnection, quoteIdentifier } from '../../src/driver';
import type { Connection, DriverName } from '../../src/driver';
import { PostgresUserEngineStore } from '../../src/store/postgres/postgres-store';
import { parseDsn } from '../../src/driver/dsn-target';
import { pgBouncerBinary, startPgBouncer, type PgBouncer } from '../support/pgbouncer';
import { fingerprint, oddSchemaName } from './schema-isolation';
import { adminConnection, ADMIN_DSN, liveDsn } from './support';

const describeBouncer = ADMIN_DSN && pgBouncerBinary() ? describe : describe.skip;

const DECOY_TABLES = [
  'user_engine_identities',
  'user_engine_outbox',
  'user_engine_users',
  'user_engine_schema_migrations',
];

describeBouncer('PostgresUserEngineStore through PgBouncer 1.18, transaction mode (live)', () => {
  let bouncer: PgBouncer | undefined;
  let admin: Connection;
  let before: string[] = [];
  const schemas: string[] = [];

  beforeAll(async () => {
    admin = await adminConnection('pg');
    // public is this database's own default schema: the decoys stand for a provider's tables.
    const decoys = new PostgresUserEngineStore(admin, { schema: 'public' });
    await decoys.migrate();
    const { user } = await decoys.upsertUser({ email: 'canary@provider.io', displayName: 'C' });
    await decoys.linkIdentity({ userId: user.id, provider: 'canary', subject: 'c-1' });
    before = await fingerprint(admin, 'public');
    bouncer = await startPgBouncer({
      mode: 'transaction',
      ignoreStartupParameters: 'extra_float_digits,options',
      upstreamPort: parseDsn(liveDsn()).port,
    });
  });

  afterAll(async () => {
    await bouncer?.stop();
    for (const schema of schemas)
      await admin?.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`);
    for (const table of DECOY_TABLES)
      await admin?.query(`DROP TABLE IF EXISTS public.${quoteIdentifier(table)}`);
    await admin?.close();
  });

  async function throughBouncer(driver: DriverName, max: number, schema?: string) {
    return createConnection((bouncer as PgBouncer).dsnFor(parseDsn(liveDsn()).database), {
      driver,
      max,
      ...(schema === undefined ? {} : { schema }),
    });
  }

  test('the bouncer really drops the search_path a connection asks for', async () => {
    const bound = await throughBouncer('pg', 1, 'ue_test_asked_for');
    try {
      // The driver measures it on the first session: the `options` packet never arrived (since
      // then it binds the schema per transaction with SET LOCAL instead; see docs/postgres-store.md).
      expect(bound.topology).toMatchObject({
        pooler: 'detected',
        startupOptions: 'dropped',
        binding: 'per-transaction',
      });
    } finally {
      await bound.close();
    }
  });

  for (const driver of ['pg', 'postgres'] as const) {
    describe(`on ${driver}`, () => {
      const connections: Connection[] = [];
      let shared: { schema: string; connection: Connection } | undefined;

      async function storeThroughBouncer(max: number) {
        const schema = oddSchemaName();
        await admin.query(`CREATE SCHEMA ${quoteIdentifier(schema)}`);
        schemas.push(schema);
        const connection = await throughBouncer(driver, max);
        connections.push(connection);
        return { schema, connection, store: new PostgresUserEngineStore(connection, { schema }) };
      }

      afterAll(async () => {
        for (const connection of connections) await connection.close().catch(() => undefined);
      });

      runStoreConformance(`PostgresUserEngineStore (${driver} via PgBouncer transaction mode)`, {
        async createStore() {
          const made = await storeThroughBouncer(4);
          shared = made;
          return made.store;
        },
        async reset() {
          const { schema, connection } = shared as NonNullable<typeof shared>;
          const q = (table: string) => `${quoteIdentifier(schema)}.${quoteIdentifier(table)}`;
          for (const table of ['user_engine_identities', 'user_engine_users', 'user_engine_outbox'])
            await connection.query(`DELETE FROM ${q(table)}`);
        },
        closeStore: (store) => store.close(),
        async createFreshStore() {
          const fresh = await storeThroughBouncer(2);
          return {
            store: fresh.store,
            async dispose() {
              await fresh.connection.close();
              await admin.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(fresh.schema)} CASCADE`);
            },
          };
        },
      });

      test('the decoys in public are byte-identical, the suite ran in its own schema', async () => {
        expect(before[1]).toMatch(/^user_engine_users 1 /);
        expect(await fingerprint(admin, 'public')).toEqual(before);
        const { schema } = shared as NonNullable<typeof shared>;
        const { rows } = await admin.query<{ n: string }>(
          `SELECT count(*) AS n FROM ${quoteIdentifier(schema)}.user_engine_schema_migrations`,
        );
        expect(Number(rows[0].n)).toBe(3);
      });
    });
  }
});
