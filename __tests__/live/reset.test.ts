/**
 * resetWorkerSchema against real PostgreSQL: empties exactly the managed tables of one run schema,
 * by DELETE when nearly empty and TRUNCATE when large, and refuses anything else.
 */
import { DatabaseError } from '../../src/driver/errors';
import type { Connection, Queryable } from '../../src/driver/port';
import { MANAGED_TABLES } from '../../src/store/contract';
import { beginRun, endRun, ensureWorkerSchema } from '../../src/live/bootstrap';
import { InvalidArgumentError, LockTimeoutError } from '../../src/live/errors';
import { applicationName, newRunId, qualifiedName } from '../../src/live/isolation';
import {
  TRUNCATE_THRESHOLD_ROWS,
  gatedDeleteStatement,
  resetStatement,
  resetWorkerSchema,
  truncateStatement,
} from '../../src/live/reset';
import {
  DRIVERS,
  canaryFingerprint,
  createCanaries,
  describeLive,
  gate,
  opener,
  privateDatabase,
  rowCount,
} from './support';

describe('resetWorkerSchema refuses what is not a run schema (no database needed)', () => {
  const noDatabase = {
    query: () => Promise.reject(new Error('must not reach the database')),
  };
  it.each([
    'public',
    'user_engine_live_x',
    'user_engineXlive_abcdefghij_1',
    'user_engine_live_abcdefghij_1"; DROP SCHEMA public CASCADE; --',
    'user_engine_live_ABCDEFGHIJ_1',
    '',
  ])('%j', async (schema) => {
    await expect(resetWorkerSchema(noDatabase, schema)).rejects.toThrow(InvalidArgumentError);
    await expect(resetWorkerSchema(noDatabase, schema)).rejects.toThrow(
      /invalid schema: .*refusing/,
    );
  });

  it.each([
    ['gated DELETE', gatedDeleteStatement],
    ['TRUNCATE', truncateStatement],
    ['DO block', resetStatement],
  ])('the %s statement names only the managed tables of that schema', (_label, build) => {
    const sql = build('user_engine_live_abcdefghij_1', 5000);
    const named = [...sql.matchAll(/"([^"]+)"\."([^"]+)"/g)].map((m) => `${m[1]}.${m[2]}`);
    expect(new Set(named)).toEqual(
      new Set(MANAGED_TABLES.map((t) => `user_engine_live_abcdefghij_1.${t}`)),
    );
    expect(() => build('public', 5000)).toThrow(InvalidArgumentError);
  });
});

describeLive('resetWorkerSchema (real PostgreSQL)', () => {
  let dsn: string;
  let probe: Connection;
  let admin: Connection;
  const runId = newRunId();
  const schema = `user_engine_live_${runId}_1`;
  const neighbour = `user_engine_live_${runId}_2`;
  const conns = { current: undefined as ReturnType<typeof opener> | undefined };

  async function createManagedTables(target: string): Promise<void> {
    const t = (name: string) => qualifiedName(target, name);
    await probe.query(`CREATE TABLE IF NOT EXISTS ${t('user_engine_users')} (
      id uuid PRIMARY KEY, email_key text UNIQUE NOT NULL)`);
    await probe.query(`CREATE TABLE IF NOT EXISTS ${t('user_engine_identities')} (
      provider text, subject text, user_id uuid NOT NULL REFERENCES ${t('user_engine_users')} (id),
      PRIMARY KEY (provider, subject))`);
    await probe.query(
      `CREATE INDEX IF NOT EXISTS identities_user_id ON ${t('user_engine_identities')} (user_id)`,
    );
    await probe.query(`CREATE TABLE IF NOT EXISTS ${t('user_engine_outbox')} (
      sequence bigserial PRIMARY KEY, aggregate_id uuid NOT NULL, payload jsonb NOT NULL)`);
  }

  async function fill(target: string, users: number): Promise<void> {
    const t = (name: string) => qualifiedName(target, name);
    await probe.query(
      `INSERT INTO ${t('user_engine_users')} SELECT gen_random_uuid(), 'u' || g || '-' || gen_random_uuid() || '@x' FROM generate_series(1, $1::int) g`,
      [users],
    );
    await probe.query(
      `INSERT INTO ${t('user_engine_identities')} SELECT 'p', 's' || id, id FROM ${t('user_engine_users')}`,
    );
    await probe.query(
      `INSERT INTO ${t('user_engine_outbox')} (aggregate_id, payload) SELECT id, '{}' FROM ${t('user_engine_users')}`,
    );
  }

  async function counts(target: string): Promise<number[]> {
    return Promise.all(MANAGED_TABLES.map((table) => rowCount(probe, target, table)));
  }

  /** relfilenode per managed table: TRUNCATE gives a table a new one, DELETE does not. */
  async function filenodes(target: string): Promise<string[]> {
    const { rows } = await probe.query<{ f: string }>(
      `SELECT relfilenode::text AS f FROM unnest($1::text[]) WITH ORDINALITY AS n(name, i)
       JOIN pg_class c ON c.oid = to_regclass(n.name) ORDER BY n.i`,
      [MANAGED_TABLES.map((t) => qualifiedName(target, t))],
    );
    return rows.map((r) => r.f);
  }

  beforeAll(async () => {
    dsn = await privateDatabase('ue_live_reset_test');
    conns.current = opener(dsn);
    probe = await conns.current.open({ max: 2 });
    // postgres.js for this file-long admin session: pg's pool closes a session idle for 10 s
    // (idleTimeoutMillis), which would drop the run lock mid-file (see bootstrap.test.ts).
    admin = await conns.current.open({ max: 1, driver: 'postgres' });
    await beginRun(admin, { runId });
    for (const [workerId, target] of [
      [1, schema],
      [2, neighbour],
    ] as const) {
      await ensureWorkerSchema(probe, {
        runId,
        workerId,
        host: 'h',
        pid: 1,
        ledgerSchema: 'public',
      });
      await createManagedTables(target);
    }
    // Not managed, although in the run schema and named like ours.
    await probe.query(
      `CREATE TABLE ${qualifiedName(schema, 'user_engine_audit')} AS SELECT g AS id FROM generate_series(1, 5) g`,
    );
    await createCanaries(probe);
  });

  afterAll(async () => {
    if (admin) await endRun(admin, { runId });
    await conns.current?.closeAll();
  });

  describe.each(DRIVERS)('over %s', (driver) => {
    let conn: Connection;
    let sent: string[] = [];
    beforeAll(async () => {
      conn = await conns.current!.open({
        max: 2,
        driver,
        schema,
        applicationName: applicationName(runId),
        onQuery: (sql) => sent.push(sql),
      });
    });
    beforeEach(() => {
      sent = [];
    });

    it('a few rows: emptied by DELETE (tables keep their files); nothing else touched', async () => {
      await fill(schema, 10);
      await fill(neighbour, 10);
      const canaries = await canaryFingerprint(probe);
      const files = await filenodes(schema);
      await resetWorkerSchema(conn, schema);
      expect(sent).toHaveLength(1); // one round trip
      expect(await counts(schema)).toEqual([0, 0, 0]);
      expect(await filenodes(schema)).toEqual(files);
      expect(await counts(neighbour)).toEqual([10, 10, 10]);
      expect(await rowCount(probe, schema, 'user_engine_audit')).toBe(5);
      expect(await canaryFingerprint(probe)).toEqual(canaries);
      // Idempotent on empty tables.
      await resetWorkerSchema(conn, schema);
      expect(await counts(schema)).toEqual([0, 0, 0]);
      await resetWorkerSchema(conn, neighbour);
    });

    it('many rows: emptied by TRUNCATE; nothing else touched', async () => {
      await fill(schema, 3000);
      await fill(neighbour, 7);
      const canaries = await canaryFingerprint(probe);
      const files = await filenodes(schema);
      await resetWorkerSchema(conn, schema);
      expect(sent).toHaveLength(2); // count (deleting nothing), then TRUNCATE
      expect(await counts(schema)).toEqual([0, 0, 0]);
      const after = await filenodes(schema);
      after.forEach((f, i) => expect(f).not.toBe(files[i]));
      expect(await counts(neighbour)).toEqual([7, 7, 7]);
      expect(await rowCount(probe, schema, 'user_engine_audit')).toBe(5);
      expect(await canaryFingerprint(probe)).toEqual(canaries);
      await resetWorkerSchema(conn, neighbour);
    });
  });

  it('switches to TRUNCATE exactly at the threshold (rows counted over all managed tables)', async () => {
    const conn = await conns.current!.open({ max: 1 });
    const below = Math.floor((TRUNCATE_THRESHOLD_ROWS - 1) / 3); // 333 × 3 = 999 rows
    await fill(schema, below);
    let files = await filenodes(schema);
    await resetWorkerSchema(conn, schema);
    expect(await filenodes(schema)).toEqual(files);
    await fill(schema, below);
    await probe.query(
      `INSERT INTO ${qualifiedName(schema, 'user_engine_outbox')} (aggregate_id, payload) VALUES (gen_random_uuid(), '{}')`,
    );
    files = await filenodes(schema);
    await resetWorkerSchema(conn, schema);
    expect(await counts(schema)).toEqual([0, 0, 0]);
    expect(await filenodes(schema)).not.toEqual(files);
  });

  it('a schema not migrated yet (some or no managed tables) is fine', async () => {
    const other = newRunId();
    const a = await conns.current!.open({ max: 1 });
    await beginRun(a, { runId: other });
    const bare = await ensureWorkerSchema(probe, {
      runId: other,
      workerId: 1,
      host: 'h',
      pid: 1,
      ledgerSchema: 'public',
    });
    await resetWorkerSchema(probe, bare);
    await probe.query(`CREATE TABLE ${qualifiedName(bare, 'user_engine_users')} (id int)`);
    await probe.query(`INSERT INTO ${qualifiedName(bare, 'user_engine_users')} VALUES (1), (2)`);
    await resetWorkerSchema(probe, bare);
    expect(await rowCount(probe, bare, 'user_engine_users')).toBe(0);
    await endRun(a, { runId: other });
  });

  it('falls back to the DO block when the driver refuses multi-statement text', async () => {
    await fill(schema, 4);
    const sent: string[] = [];
    const strict: Queryable = {
      query: (sql, params) => {
        sent.push(sql);
        if (!sql.startsWith('DO ') && sql.includes(';\n')) {
          return Promise.reject(
            new DatabaseError('42601', 'cannot insert multiple commands into a prepared statement'),
          );
        }
        return probe.query(sql, params);
      },
    };
    await resetWorkerSchema(strict, schema);
    expect(sent).toHaveLength(2);
    expect(sent[1]).toMatch(/^DO /);
    expect(await counts(schema)).toEqual([0, 0, 0]);
  });

  it('a lock wait is bounded and names the schema and the holder', async () => {
    await fill(schema, 3);
    const holder = await conns.current!.open({ max: 1, applicationName: applicationName(runId) });
    const { rows } = await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const locked = gate();
    const release = gate();
    const done = holder.transaction(async (tx) => {
      await tx.query(`LOCK TABLE ${qualifiedName(schema, 'user_engine_users')} IN SHARE MODE`);
      locked.open();
      await release.wait;
    });
    await locked.wait;
    try {
      const error = await resetWorkerSchema(probe, schema, { lockTimeoutMs: 200 }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(LockTimeoutError);
      expect((error as Error).message).toContain(
        `timed out after 200 ms waiting for a lock on schema "${schema}"`,
      );
      expect((error as Error).message).toContain(`backend pid ${Number(rows[0].pid)}`);
      expect((error as Error).message).toContain(`live run ${runId}`);
      // Rolled back as a whole: nothing half-emptied.
      expect(await counts(schema)).toEqual([3, 3, 3]);
    } finally {
      release.open();
      await done;
    }
    await resetWorkerSchema(probe, schema);
    expect(await counts(schema)).toEqual([0, 0, 0]);
  });
});
