/**
 * resetWorkerSchema against real PostgreSQL: empties exactly the managed tables of one run schema,
 * by DELETE when nearly empty and TRUNCATE when large, and refuses anything else.
 */
import { DatabaseError } from '../../src/driver/errors';
import type { Connection, Queryable } from '../../src/driver/port';
import { MANAGED_TABLES } from '../../src/store/contract';
import { ensureWorkerSchema, joinRun, openRun } from '../../src/live/bootstrap';
import { InvalidArgumentError, LockTimeoutError } from '../../src/live/errors';
import { applicationName, newRunId, qualifiedName } from '../../src/live/isolation';
import {
  RESET_FUNCTION,
  TRUNCATE_THRESHOLD_BYTES,
  TRUNCATE_THRESHOLD_ROWS,
  callResetStatement,
  createAndCallStatement,
  resetStatement,
  resetWorkerSchema,
} from '../../src/live/reset';
import { DRIVERS, describeLive, gate, opener, privateDatabase, rowCount } from './support';
import { baitFingerprint, plantBaitTables, rowsOf } from '../support/canaries';

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
    ['create-and-call', createAndCallStatement, false],
    ['DO block', resetStatement, true],
  ])('the %s statement names only the managed tables of that schema', (_label, build, dynamic) => {
    const sql = build('user_engine_live_abcdefghij_1', 5000);
    const named = [...sql.matchAll(/"([^"]+)"\."([^"]+)"/g)].map((m) => `${m[1]}.${m[2]}`);
    const fn = `user_engine_live_abcdefghij_1.${RESET_FUNCTION}`;
    const lease = 'user_engine_live.runs';
    expect(new Set(named.filter((n) => n !== fn && n !== lease))).toEqual(
      new Set(MANAGED_TABLES.map((t) => `user_engine_live_abcdefghij_1.${t}`)),
    );
    // The ledger is only read, for this run's lease.
    expect(sql.match(/[^\n]*"user_engine_live"\."runs"[^\n]*/g)).toEqual([
      expect.stringMatching(
        /IF NOT EXISTS \(SELECT 1 FROM "user_engine_live"\."runs" WHERE run_id = 'abcdefghij' AND lease_expires_at > now\(\)\) THEN/,
      ),
    ]);
    // The schema appears only quoted; the function has no dynamic SQL (the DO block must).
    expect(sql.replace(/"[^"]*"/g, '')).not.toMatch(/user_engine_live_/);
    expect(/\bEXECUTE\b/.test(sql)).toBe(dynamic);
    expect(() => build('public', 5000)).toThrow(InvalidArgumentError);
    expect(() => build('user_engine_live_abcdefghij_1', 0)).toThrow(InvalidArgumentError);
  });

  it('the usual statement only calls the reset function of that schema', () => {
    expect(callResetStatement('user_engine_live_abcdefghij_1', 250)).toBe(
      `SELECT "user_engine_live_abcdefghij_1"."${RESET_FUNCTION}"(250) AS emptied_by`,
    );
    expect(() => callResetStatement('public', 250)).toThrow(InvalidArgumentError);
    expect(() => callResetStatement('user_engine_live_abcdefghij_1', 1.5)).toThrow(
      InvalidArgumentError,
    );
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
    // A lease far longer than this file runs: no heartbeat needed.
    admin = await conns.current.open({ max: 1, driver: 'postgres' });
    await openRun(admin, { runId, leaseMs: 600_000 });
    for (const [workerId, target] of [
      [1, schema],
      [2, neighbour],
    ] as const) {
      await ensureWorkerSchema(probe, {
        runId,
        workerId,
        host: 'h',
        pid: 1,
      });
      await createManagedTables(target);
    }
    // Not managed, although in the run schema and named like ours.
    await probe.query(
      `CREATE TABLE ${qualifiedName(schema, 'user_engine_audit')} AS SELECT g AS id FROM generate_series(1, 5) g`,
    );
    await plantBaitTables(rowsOf(probe));
  });

  afterAll(async () => {
    if (admin) await joinRun(admin, { runId }).close();
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
      const canaries = await baitFingerprint(rowsOf(probe));
      const files = await filenodes(schema);
      await resetWorkerSchema(conn, schema);
      expect(sent).toHaveLength(1); // one round trip
      expect(await counts(schema)).toEqual([0, 0, 0]);
      expect(await filenodes(schema)).toEqual(files);
      expect(await counts(neighbour)).toEqual([10, 10, 10]);
      expect(await rowCount(probe, schema, 'user_engine_audit')).toBe(5);
      expect(await baitFingerprint(rowsOf(probe))).toEqual(canaries);
      // Idempotent on empty tables.
      await resetWorkerSchema(conn, schema);
      expect(await counts(schema)).toEqual([0, 0, 0]);
      await resetWorkerSchema(conn, neighbour);
    });

    it('many rows: emptied by TRUNCATE; nothing else touched', async () => {
      await fill(schema, 3000);
      await fill(neighbour, 7);
      const canaries = await baitFingerprint(rowsOf(probe));
      const files = await filenodes(schema);
      await resetWorkerSchema(conn, schema);
      expect(sent).toHaveLength(1); // the reset function counts, then TRUNCATEs
      expect(await counts(schema)).toEqual([0, 0, 0]);
      const after = await filenodes(schema);
      after.forEach((f, i) => expect(f).not.toBe(files[i]));
      expect(await counts(neighbour)).toEqual([7, 7, 7]);
      expect(await rowCount(probe, schema, 'user_engine_audit')).toBe(5);
      expect(await baitFingerprint(rowsOf(probe))).toEqual(canaries);
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
    await openRun(a, { runId: other, leaseMs: 600_000 });
    const bare = await ensureWorkerSchema(probe, {
      runId: other,
      workerId: 1,
      host: 'h',
      pid: 1,
    });
    await resetWorkerSchema(probe, bare);
    await probe.query(`CREATE TABLE ${qualifiedName(bare, 'user_engine_users')} (id int)`);
    await probe.query(`INSERT INTO ${qualifiedName(bare, 'user_engine_users')} VALUES (1), (2)`);
    await resetWorkerSchema(probe, bare);
    expect(await rowCount(probe, bare, 'user_engine_users')).toBe(0);
    await joinRun(a, { runId: other }).close();
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

  async function resetFunctions(): Promise<string[]> {
    const { rows } = await probe.query<{ name: string }>(
      `SELECT n.nspname || '.' || p.proname AS name FROM pg_proc p
       JOIN pg_namespace n ON n.oid = p.pronamespace WHERE p.proname = $1 ORDER BY 1`,
      [RESET_FUNCTION],
    );
    return rows.map((r) => r.name).filter((n) => n.startsWith(`user_engine_live_${runId}_`));
  }

  it('creates the reset function inside the run schema once, then calls it (one trip each)', async () => {
    await probe.query(`DROP FUNCTION IF EXISTS ${qualifiedName(schema, RESET_FUNCTION)}(integer)`);
    const sent: string[] = [];
    const conn = await conns.current!.open({ max: 1, onQuery: (sql) => sent.push(sql) });
    sent.length = 0; // the driver's own connect probe
    await fill(schema, 2);
    await resetWorkerSchema(conn, schema);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toContain('CREATE OR REPLACE FUNCTION');
    expect(await resetFunctions()).toContain(`${schema}.${RESET_FUNCTION}`);
    expect(await counts(schema)).toEqual([0, 0, 0]);
    await fill(schema, 2);
    await resetWorkerSchema(conn, schema, { lockTimeoutMs: 700 });
    expect(sent.slice(1)).toEqual([callResetStatement(schema, 700)]);
    expect(await counts(schema)).toEqual([0, 0, 0]);
  });

  it('recreates the function when it disappeared behind its back', async () => {
    const sent: string[] = [];
    const conn = await conns.current!.open({ max: 1, onQuery: (sql) => sent.push(sql) });
    sent.length = 0; // the driver's own connect probe
    await resetWorkerSchema(conn, schema);
    await probe.query(`DROP FUNCTION ${qualifiedName(schema, RESET_FUNCTION)}(integer)`);
    await fill(schema, 3);
    await resetWorkerSchema(conn, schema);
    expect(sent).toHaveLength(3); // create+call; the failed call; create+call again
    expect(sent[2]).toContain('CREATE OR REPLACE FUNCTION');
    expect(await counts(schema)).toEqual([0, 0, 0]);
    expect(await resetFunctions()).toContain(`${schema}.${RESET_FUNCTION}`);
  });

  it('concurrent first resets of one schema all succeed (creation is serialised)', async () => {
    for (let round = 0; round < 3; round++) {
      await probe.query(
        `DROP FUNCTION IF EXISTS ${qualifiedName(schema, RESET_FUNCTION)}(integer)`,
      );
      await fill(schema, 2);
      const pools = await Promise.all([1, 2, 3].map(() => conns.current!.open({ max: 1 })));
      await Promise.all(pools.map((p) => resetWorkerSchema(p, schema)));
      expect(await counts(schema)).toEqual([0, 0, 0]);
    }
    expect(await resetFunctions()).toContain(`${schema}.${RESET_FUNCTION}`);
  });

  it('TRUNCATEs a nearly empty schema whose tables DELETEs left bloated', async () => {
    // Rows deleted behind the reset's back stay as dead tuples until a VACUUM.
    await fill(schema, 3000);
    for (const table of [...MANAGED_TABLES].reverse())
      await probe.query(`DELETE FROM ${qualifiedName(schema, table)}`);
    const { rows } = await probe.query<{ bytes: string }>(
      `SELECT sum(pg_relation_size(to_regclass(n)))::text AS bytes FROM unnest($1::text[]) n`,
      [MANAGED_TABLES.map((t) => qualifiedName(schema, t))],
    );
    expect(Number(rows[0].bytes)).toBeGreaterThanOrEqual(TRUNCATE_THRESHOLD_BYTES);
    await fill(schema, 2);
    const files = await filenodes(schema);
    await resetWorkerSchema(probe, schema);
    expect(await counts(schema)).toEqual([0, 0, 0]);
    (await filenodes(schema)).forEach((f, i) => expect(f).not.toBe(files[i]));
    // Small again: the next few-row reset DELETEs.
    await fill(schema, 2);
    const fresh = await filenodes(schema);
    await resetWorkerSchema(probe, schema);
    expect(await filenodes(schema)).toEqual(fresh);
  });

  it('the function only ever touches its own schema', async () => {
    await resetWorkerSchema(probe, neighbour);
    await fill(schema, 4);
    await fill(neighbour, 4);
    const canaries = await baitFingerprint(rowsOf(probe));
    await resetWorkerSchema(probe, neighbour);
    expect(await counts(neighbour)).toEqual([0, 0, 0]);
    expect(await counts(schema)).toEqual([4, 4, 4]);
    expect(await rowCount(probe, schema, 'user_engine_audit')).toBe(5);
    expect(await baitFingerprint(rowsOf(probe))).toEqual(canaries);
    await resetWorkerSchema(probe, schema);
  });

  it.each([
    ['the first reset on a connection', false],
    ['a reset calling the existing function', true],
  ])('a lock wait is bounded and names the schema and the holder: %s', async (_label, warm) => {
    const resetter = await conns.current!.open({ max: 1 });
    if (warm) await resetWorkerSchema(resetter, schema);
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
      const error = await resetWorkerSchema(resetter, schema, { lockTimeoutMs: 200 }).catch(
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
    await resetWorkerSchema(resetter, schema);
    expect(await counts(schema)).toEqual([0, 0, 0]);
  });
});
