/**
 * Migrating a schema with none of our tables takes one round trip for the migrations themselves
 * (after the readiness read and the server check), and stays correct when two processes race:
 * the one that finds the ledger written once it holds the lock rolls back and goes step by step.
 */
import { DRIVER_NAMES, type Connection } from '../../src/driver';
import { createPostgresStore } from '../../src/store';
import { MIGRATIONS } from '../../src/store/migrations';
import { adminConnection, createTestSchema, describeLive, type TestSchema } from './support';

describeLive.each(DRIVER_NAMES)('migrate a fresh schema (%s, live)', (driver) => {
  let admin: Connection;
  let fresh: TestSchema | undefined;

  beforeAll(async () => {
    admin = await adminConnection(driver);
  });
  afterEach(async () => {
    await fresh?.drop();
    fresh = undefined;
  });
  afterAll(async () => {
    await admin?.close();
  });

  test('readiness with the server check in one read, then every migration in one statement text', async () => {
    const sent: string[] = [];
    fresh = await createTestSchema(admin, { onQuery: (sql) => sent.push(sql) });
    const store = createPostgresStore(fresh.connection);
    sent.length = 0;
    const result = await store.migrate();
    expect(result.applied).toEqual(MIGRATIONS.map((m) => m.id));
    expect(sent).toHaveLength(2);
    expect(sent[0]).toMatch(/to_regclass[\s\S]*server_version_num[\s\S]*schema_exists/);
    expect(sent[1]).toMatch(/pg_advisory_xact_lock[\s\S]*CREATE TABLE[\s\S]*INSERT INTO/);
    expect((await store.readiness()).ready).toBe(true);
    expect(await store.migrate()).toEqual({ applied: [] });
  });

  test('two stores racing on one fresh schema: both succeed, each migration applied once', async () => {
    fresh = await createTestSchema(admin, { max: 4 });
    const stores = [createPostgresStore(fresh.connection), createPostgresStore(fresh.connection)];
    const results = await Promise.all(stores.map((store) => store.migrate()));
    const applied = results.flatMap((r) => r.applied).sort();
    expect(applied).toEqual(MIGRATIONS.map((m) => m.id).sort());
    const { rows } = await fresh.connection.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "${fresh.schema}".user_engine_schema_migrations`,
    );
    expect(rows[0].n).toBe(MIGRATIONS.length);
    expect((await stores[1].readiness()).ready).toBe(true);
  });
});
