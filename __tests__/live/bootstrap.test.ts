/**
 * The run life cycle against real PostgreSQL: ledger in its own schema, leases, worker and fresh
 * schemas, end, garbage collection of crashed runs, the doctor's plan, bounded lock waits, and
 * canaries that must stay byte-identical throughout. Runs in its own database.
 */
import { hostname } from 'node:os';
import type { Connection, DriverName } from '../../src/driver/port';
import {
  joinRun,
  openRun,
  collectCrashedRuns,
  createFreshSchema,
  dropFreshSchema,
  ensureWorkerSchema,
  planReset,
} from '../../src/live/bootstrap';
import {
  InvalidArgumentError,
  LockTimeoutError,
  RunIdInUseError,
  RunLeaseLostError,
} from '../../src/live/errors';
import { applicationName, newRunId, qualifiedName, quoteIdent } from '../../src/live/isolation';
import { LEDGER_SCHEMA, RUNS, SCHEMAS } from '../../src/live/ledger';
import { leaseStatus } from '../../src/live/lease';
import { resetWorkerSchema } from '../../src/live/reset';
import {
  DRIVERS,
  describeLive,
  gate,
  opener,
  privateDatabase,
  rowCount,
  schemaExists,
  until,
} from './support';
import { baitFingerprint, plantBaitTables, rowsOf } from '../support/canaries';

const HOST = hostname();
/** Long enough that no test here outlives it without a heartbeat. */
const LONG_LEASE = 600_000;

jest.setTimeout(20_000);

describeLive('live run bootstrap (real PostgreSQL)', () => {
  let dsn: string;
  let probe: Connection;
  let canariesBefore: Record<string, string>;
  let conns: ReturnType<typeof opener>;

  beforeAll(async () => {
    dsn = await privateDatabase('ue_live_bootstrap_test');
    conns = opener(dsn);
    probe = await opener(dsn).open({ max: 2, applicationName: 'ue-bootstrap-test-probe' });
    await plantBaitTables(rowsOf(probe));
    canariesBefore = await baitFingerprint(rowsOf(probe));
  });

  afterEach(async () => {
    await conns.closeAll();
  });

  afterAll(async () => {
    await probe?.close();
  });

  async function admin(driver?: DriverName): Promise<Connection> {
    return conns.open({ max: 2, driver });
  }

  async function worker(runId: string, workerId: number, driver?: DriverName): Promise<Connection> {
    return conns.open({
      max: 2,
      driver,
      schema: `user_engine_live_${runId}_${workerId}`,
      applicationName: applicationName(runId),
    });
  }

  async function ledgerRows(runId: string): Promise<Record<string, unknown>[]> {
    const { rows } = await probe.query(
      `SELECT schema_name, run_id, worker_id, host, pid FROM ${SCHEMAS} WHERE run_id = $1 ORDER BY schema_name`,
      [runId],
    );
    return rows;
  }

  async function runRow(runId: string): Promise<Record<string, unknown> | undefined> {
    const { rows } = await probe.query(
      `SELECT run_id, owner, host, pid, lease_expires_at > now() AS valid FROM ${RUNS} WHERE run_id = $1`,
      [runId],
    );
    return rows[0];
  }

  /** Begins a run with a 1 s lease and no heartbeat, creates schemas, and lets the lease lapse. */
  async function crashedRun(workers: number): Promise<{ runId: string; schemas: string[] }> {
    const runId = newRunId();
    await openRun(probe, { runId, leaseMs: 1000, host: 'crashed-host', pid: 4242 });
    const schemas: string[] = [];
    for (let w = 1; w <= workers; w++) {
      const schema = await ensureWorkerSchema(probe, {
        runId,
        workerId: w,
        host: 'crashed-host',
        pid: 4242,
      });
      await probe.query(`CREATE TABLE ${qualifiedName(schema, 'user_engine_users')} (id int)`);
      await probe.query(`INSERT INTO ${qualifiedName(schema, 'user_engine_users')} VALUES (1)`);
      schemas.push(schema);
    }
    await until(async () => (await leaseStatus(probe, runId)) === 'expired', 5000);
    return { runId, schemas };
  }

  describe.each(DRIVERS)('life cycle over %s', (driver) => {
    it('begin → worker schemas → end leaves nothing of the run behind, nothing in public', async () => {
      const runId = newRunId();
      const a = await admin(driver);
      const begun = await openRun(a, { runId, leaseMs: LONG_LEASE });
      expect(begun).toMatchObject({ runId, ledgerSchema: LEDGER_SCHEMA, kept: [], skipped: [] });
      expect(await runRow(runId)).toEqual({
        run_id: runId,
        owner: 'postgres',
        host: HOST,
        pid: process.pid,
        valid: true,
      });
      // The ledger is its own schema, marked; public has no ledger and no run schema.
      const { rows: inPublic } = await probe.query(
        `SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relname LIKE 'user_engine_live%'`,
      );
      expect(inPublic).toEqual([]);
      const { rows: marker } = await probe.query(
        `SELECT obj_description('user_engine_live'::regnamespace, 'pg_namespace') AS c`,
      );
      expect(marker[0].c).toMatch(/^@user-engine\/jest-live run ledger, layout \d+$/);

      const w1 = await worker(runId, 1, driver);
      const w2 = await worker(runId, 2, driver);
      const opts = { runId, host: HOST, pid: process.pid };
      expect(await ensureWorkerSchema(w1, { ...opts, workerId: 1 })).toBe(
        `user_engine_live_${runId}_1`,
      );
      expect(await ensureWorkerSchema(w2, { ...opts, workerId: '2' })).toBe(
        `user_engine_live_${runId}_2`,
      );
      expect(await ensureWorkerSchema(w1, { ...opts, workerId: 1 })).toBe(
        `user_engine_live_${runId}_1`,
      );
      expect(await ledgerRows(runId)).toEqual(
        [1, 2].map((w) => ({
          schema_name: `user_engine_live_${runId}_${w}`,
          run_id: runId,
          worker_id: String(w),
          host: HOST,
          pid: process.pid,
        })),
      );
      await w1.query('CREATE TABLE user_engine_users (id int)');
      await w1.query('INSERT INTO user_engine_users VALUES (1)');
      expect(await rowCount(probe, `user_engine_live_${runId}_1`, 'user_engine_users')).toBe(1);
      await w1.close();
      await w2.close();

      const ended = await joinRun(a, { runId }).close();
      expect(ended).toEqual({
        dropped: [`user_engine_live_${runId}_1`, `user_engine_live_${runId}_2`],
        kept: [],
      });
      expect(await schemaExists(probe, `user_engine_live_${runId}_1`)).toBe(false);
      expect(await schemaExists(probe, `user_engine_live_${runId}_2`)).toBe(false);
      expect(await ledgerRows(runId)).toEqual([]);
      expect(await runRow(runId)).toBeUndefined();
      expect(await baitFingerprint(rowsOf(probe))).toEqual(canariesBefore);
    });
  });

  it('keepSchemas keeps schemas and rows but ends the lease; the next run collects them at once', async () => {
    const runId = newRunId();
    await openRun(probe, { runId, leaseMs: LONG_LEASE });
    const schema = await ensureWorkerSchema(probe, {
      runId,
      workerId: 3,
      host: HOST,
      pid: process.pid,
    });
    expect(await joinRun(probe, { runId }).close({ keepSchemas: true })).toEqual({
      dropped: [],
      kept: [],
    });
    expect(await schemaExists(probe, schema)).toBe(true);
    expect(await ledgerRows(runId)).toHaveLength(1);
    expect(await runRow(runId)).toMatchObject({ valid: false });

    const next = newRunId();
    const begun = await openRun(probe, { runId: next, leaseMs: LONG_LEASE });
    expect(begun.collected).toContain(schema);
    expect(await schemaExists(probe, schema)).toBe(false);
    await joinRun(probe, { runId: next }).close();
  });

  it("GC drops a crashed run's ledger-listed schemas once the lease is past the grace, nothing else", async () => {
    const liveId = newRunId();
    await openRun(probe, { runId: liveId, leaseMs: LONG_LEASE });
    const liveSchema = await ensureWorkerSchema(probe, {
      runId: liveId,
      workerId: 1,
      host: HOST,
      pid: process.pid,
    });
    const crashed = await crashedRun(2);
    const unlisted = `user_engine_live_${crashed.runId}_9`;
    await probe.query(`CREATE SCHEMA ${quoteIdent(unlisted)}`);
    await probe.query(`CREATE TABLE ${qualifiedName(unlisted, 't')} AS SELECT 1 AS x`);

    // Within the grace: expired, but not collected.
    expect(
      (await collectCrashedRuns(probe, { graceMs: LONG_LEASE })).runs.map((r) => r.runId),
    ).not.toContain(crashed.runId);
    for (const s of crashed.schemas) expect(await schemaExists(probe, s)).toBe(true);

    const dry = await collectCrashedRuns(probe, { dryRun: true, graceMs: 0 });
    const reported = dry.runs.find((r) => r.runId === crashed.runId);
    expect(reported).toMatchObject({
      schemas: crashed.schemas,
      host: 'crashed-host',
      pid: 4242,
      kept: [],
    });
    expect(reported?.createdAt).toBeInstanceOf(Date);
    expect(dry.runs.map((r) => r.runId)).not.toContain(liveId);
    for (const s of crashed.schemas) expect(await schemaExists(probe, s)).toBe(true);
    expect(await ledgerRows(crashed.runId)).toHaveLength(2);

    const { runs } = await collectCrashedRuns(probe, { graceMs: 0 });
    expect(runs.find((r) => r.runId === crashed.runId)?.schemas).toEqual(crashed.schemas);
    for (const s of crashed.schemas) expect(await schemaExists(probe, s)).toBe(false);
    expect(await ledgerRows(crashed.runId)).toEqual([]);
    expect(await runRow(crashed.runId)).toBeUndefined();
    expect(await schemaExists(probe, liveSchema)).toBe(true);
    expect(await ledgerRows(liveId)).toHaveLength(1);
    expect(await rowCount(probe, unlisted, 't')).toBe(1);
    expect(await baitFingerprint(rowsOf(probe))).toEqual(canariesBefore);

    await probe.query(`DROP SCHEMA ${quoteIdent(unlisted)} CASCADE`);
    await joinRun(probe, { runId: liveId }).close();
  });

  it('a live run whose sessions are all terminated keeps its schemas: the lease, not a session, decides', async () => {
    const runId = newRunId();
    const a = await conns.open({ max: 2, applicationName: applicationName(runId) });
    const run = await openRun(a, { runId, leaseMs: 3000, heartbeatMs: 500 });
    const beat = run.startHeartbeat({ onLost: () => undefined });
    try {
      const schema = await ensureWorkerSchema(a, {
        runId,
        workerId: 1,
        host: HOST,
        pid: process.pid,
      });
      await probe.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
        [applicationName(runId)],
      );
      // Well past the lease: only the heartbeat (reconnecting through its pool) keeps it alive.
      await new Promise((r) => setTimeout(r, 4500));
      const other = await collectCrashedRuns(probe, { graceMs: 0 });
      expect(other.runs.map((r) => r.runId)).not.toContain(runId);
      expect(await schemaExists(probe, schema)).toBe(true);
      expect(beat.lost).toBeUndefined();
      expect(await leaseStatus(probe, runId)).toBe('valid');
    } finally {
      await beat.stop();
    }
    expect((await joinRun(a, { runId }).close()).dropped).toHaveLength(1);
  }, 30_000);

  it('a run whose lease was lost notices at its next reset or schema creation, with a clear error', async () => {
    const runId = newRunId();
    await openRun(probe, { runId, leaseMs: 1000 });
    const schema = await ensureWorkerSchema(probe, {
      runId,
      workerId: 1,
      host: HOST,
      pid: process.pid,
    });
    await resetWorkerSchema(probe, schema);
    await until(async () => (await leaseStatus(probe, runId)) === 'expired', 5000);
    // Expired: the heartbeat may not revive it, resets and new schemas refuse.
    expect(await joinRun(probe, { runId, leaseMs: 1000 }).renewLease()).toBe(false);
    await expect(resetWorkerSchema(probe, schema)).rejects.toThrow(RunLeaseLostError);
    await expect(resetWorkerSchema(probe, schema)).rejects.toThrow(/its lease expired/);
    await expect(
      ensureWorkerSchema(probe, { runId, workerId: 2, host: HOST, pid: process.pid }),
    ).rejects.toThrow(RunLeaseLostError);
    // Collected by someone else: the schema is gone, and the reset says why.
    await collectCrashedRuns(probe, { graceMs: 0 });
    const error = await resetWorkerSchema(probe, schema).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunLeaseLostError);
    expect((error as Error).message).toMatch(
      /row is gone \(another process garbage-collected the run\)/,
    );
    await expect(joinRun(probe, { runId }).close()).rejects.toThrow(RunLeaseLostError);
  });

  it('planReset describes drops, emptying and what is left alone, without acting', async () => {
    const liveId = newRunId();
    await openRun(probe, { runId: liveId, leaseMs: LONG_LEASE });
    const liveSchema = await ensureWorkerSchema(probe, {
      runId: liveId,
      workerId: 1,
      host: HOST,
      pid: process.pid,
    });
    await probe.query(`CREATE TABLE ${qualifiedName(liveSchema, 'user_engine_users')} (id int)`);
    await probe.query(
      `CREATE TABLE ${qualifiedName(liveSchema, 'user_engine_migrations')} (v int)`,
    );
    const crashed = await crashedRun(1);
    const before = await baitFingerprint(rowsOf(probe));

    const plan = await probe.transaction(async (tx) => {
      await tx.query('SET TRANSACTION READ ONLY');
      return planReset(tx, { graceMs: 0 });
    });
    expect(plan.ledger).toMatchObject({ kind: 'ours', missing: [] });
    expect(plan.runs).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ runId: liveId, state: 'live', schemas: [liveSchema] }),
        expect.objectContaining({
          runId: crashed.runId,
          state: 'crashed',
          schemas: crashed.schemas,
        }),
      ]),
    );
    expect(plan.drop).toContainEqual(
      expect.objectContaining({
        schema: crashed.schemas[0],
        runId: crashed.runId,
        exists: true,
        tables: ['user_engine_users'],
        reason: expect.stringContaining('crashed'),
      }),
    );
    expect(plan.empty).toContainEqual(
      expect.objectContaining({
        schema: liveSchema,
        tables: ['user_engine_users'],
        reason: expect.stringContaining('live run'),
      }),
    );
    const alone = new Map(plan.leftAlone.map((e) => [e.name, e.reason]));
    expect(alone.get('"public"."user_engine_users"')).toMatch(
      /not inside a ledger-listed run schema/,
    );
    expect(alone.get('"user_engineXlive_abc"."user_engine_users"')).toMatch(/not inside/);
    expect(alone.get('"user_engine_live_x"')).toMatch(/not a run schema name/);
    expect(alone.get('"user_engine_live_zzzzzzzzzz_1"')).toMatch(/not listed in the ledger/);
    expect(alone.get('"user_engine_live"')).toMatch(/the run ledger itself/);
    expect(plan.leftAlone.map((e) => e.name)).not.toContain(quoteIdent(liveSchema));

    // With the default grace the crashed run is still "expiring": left alone.
    const patient = await probe.transaction((tx) => planReset(tx));
    expect(patient.drop.map((d) => d.schema)).not.toContain(crashed.schemas[0]);
    expect(
      new Map(patient.leftAlone.map((e) => [e.name, e.reason])).get(quoteIdent(crashed.schemas[0])),
    ).toMatch(/lease expired less than/);

    expect(await schemaExists(probe, crashed.schemas[0])).toBe(true);
    expect(await ledgerRows(crashed.runId)).toHaveLength(1);
    expect(await baitFingerprint(rowsOf(probe))).toEqual(before);
    await joinRun(probe, { runId: liveId }).close();
    await collectCrashedRuns(probe, { graceMs: 0 });
    expect(await schemaExists(probe, crashed.schemas[0])).toBe(false);
  });

  it('runs started at once create one ledger and each keeps its own schemas', async () => {
    await probe.query(`DROP SCHEMA IF EXISTS ${quoteIdent(LEDGER_SCHEMA)} CASCADE`);
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => admin()));
    const ids = [newRunId(), newRunId(), newRunId()];
    await Promise.all(ids.map((runId, i) => openRun([a, b, c][i], { runId, leaseMs: LONG_LEASE })));
    const { rows } = await probe.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = $1`,
      [LEDGER_SCHEMA],
    );
    expect(rows[0].n).toBe(1);
    const ensured = await Promise.all(
      [1, 2, 3, 1, 2, 3].flatMap((w) =>
        ids
          .slice(0, 2)
          .map((runId) =>
            ensureWorkerSchema(probe, { runId, workerId: w, host: HOST, pid: process.pid }),
          ),
      ),
    );
    expect(new Set(ensured).size).toBe(6);
    expect(await ledgerRows(ids[0])).toHaveLength(3);
    expect((await joinRun(a, { runId: ids[0] }).close()).dropped).toEqual(
      [1, 2, 3].map((w) => `user_engine_live_${ids[0]}_${w}`),
    );
    for (const w of [1, 2, 3])
      expect(await schemaExists(probe, `user_engine_live_${ids[1]}_${w}`)).toBe(true);
    expect((await joinRun(b, { runId: ids[1] }).close()).dropped).toHaveLength(3);
    await joinRun(c, { runId: ids[2] }).close();
  });

  describe('fresh schemas', () => {
    const opts = (runId: string) => ({ runId, workerId: 2, host: HOST, pid: process.pid });

    it('are recorded then created empty, numbered past taken ones, dropped one by one', async () => {
      const runId = newRunId();
      await openRun(probe, { runId, leaseMs: LONG_LEASE });
      const first = await createFreshSchema(probe, opts(runId));
      expect(first).toEqual({ schema: `user_engine_live_${runId}_2_f1`, n: 1 });
      const second = await createFreshSchema(probe, opts(runId));
      expect(second).toEqual({ schema: `user_engine_live_${runId}_2_f2`, n: 2 });
      const third = await createFreshSchema(probe, { ...opts(runId), from: 5 });
      expect(third.schema).toBe(`user_engine_live_${runId}_2_f5`);
      expect((await ledgerRows(runId)).map((r) => r.worker_id)).toEqual(['2_f1', '2_f2', '2_f5']);

      expect(await dropFreshSchema(probe, { runId, schema: first.schema })).toEqual({
        dropped: true,
        dependents: [],
      });
      expect(await dropFreshSchema(probe, { runId, schema: first.schema })).toEqual({
        dropped: false,
        dependents: [],
      });
      expect(await schemaExists(probe, first.schema)).toBe(false);
      expect(await schemaExists(probe, second.schema)).toBe(true);

      await probe.query(
        `CREATE TABLE ${qualifiedName(second.schema, 'user_engine_users')} (id int)`,
      );
      expect((await joinRun(probe, { runId }).close()).dropped).toEqual([
        second.schema,
        third.schema,
      ]);
      expect(await ledgerRows(runId)).toEqual([]);
    });

    it("GC drops a crashed run's fresh schemas with its worker schemas", async () => {
      const runId = newRunId();
      await openRun(probe, { runId, leaseMs: 1000 });
      const worker1 = await ensureWorkerSchema(probe, { ...opts(runId), workerId: 1 });
      const fresh = await createFreshSchema(probe, opts(runId));
      await until(async () => (await leaseStatus(probe, runId)) === 'expired', 5000);
      const { runs } = await collectCrashedRuns(probe, { graceMs: 0 });
      expect(runs.find((r) => r.runId === runId)?.schemas).toEqual([worker1, fresh.schema].sort());
      expect(await schemaExists(probe, fresh.schema)).toBe(false);
    });

    it('dropFreshSchema refuses worker schemas, other runs and other names', async () => {
      const runId = newRunId();
      const other = newRunId();
      for (const schema of [
        `user_engine_live_${runId}_2`,
        `user_engine_live_${other}_2_f1`,
        'public',
        `user_engine_live_${runId}_2_f01`,
      ]) {
        await expect(dropFreshSchema(probe, { runId, schema })).rejects.toThrow(/invalid schema/);
      }
      await expect(createFreshSchema(probe, { ...opts(runId), from: 0 })).rejects.toThrow(
        /invalid n/,
      );
      expect(await schemaExists(probe, 'public')).toBe(true);
    });
  });

  it('refuses a run id that is already in the ledger', async () => {
    const runId = newRunId();
    await openRun(probe, { runId, leaseMs: LONG_LEASE });
    await expect(openRun(probe, { runId })).rejects.toThrow(RunIdInUseError);
    expect(await runRow(runId)).toMatchObject({ valid: true });
    await joinRun(probe, { runId }).close();
  });

  it('rejects bad arguments naming the field', async () => {
    await expect(openRun(probe, { runId: 'NOPE' })).rejects.toThrow(/invalid runId/);
    await expect(openRun(probe, { runId: newRunId(), lockTimeoutMs: 0 })).rejects.toThrow(
      /invalid lockTimeoutMs/,
    );
    await expect(openRun(probe, { runId: newRunId(), leaseMs: 10 })).rejects.toThrow(
      /invalid leaseMs/,
    );
    const base = { runId: newRunId(), workerId: 1, host: HOST, pid: process.pid };
    await expect(ensureWorkerSchema(probe, { ...base, workerId: 'x' })).rejects.toThrow(
      /invalid workerId/,
    );
    await expect(ensureWorkerSchema(probe, { ...base, pid: -1 })).rejects.toThrow(/invalid pid/);
    // A run id that never began: no lease, no schema.
    await expect(ensureWorkerSchema(probe, base)).rejects.toThrow(RunLeaseLostError);
    expect(await schemaExists(probe, `user_engine_live_${base.runId}_1`)).toBe(false);
    expect(() => joinRun(probe, { runId: 'x' })).toThrow(InvalidArgumentError);
  });

  describe('bounded lock waits name the lock and its holder', () => {
    async function holdInTransaction(
      holder: Connection,
      statement: string,
    ): Promise<{ pid: number; release(): Promise<void> }> {
      const { rows } = await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      const held = gate();
      const locked = gate();
      const done = holder.transaction(async (tx) => {
        await tx.query(statement);
        locked.open();
        await held.wait;
      });
      await locked.wait;
      return {
        pid: Number(rows[0].pid),
        release: async () => {
          held.open();
          await done;
        },
      };
    }

    it('ensureWorkerSchema while another run holds the ledger exclusively', async () => {
      const runId = newRunId();
      await openRun(probe, { runId, leaseMs: LONG_LEASE });
      const holderRun = newRunId();
      const holder = await conns.open({ max: 1, applicationName: applicationName(holderRun) });
      const hold = await holdInTransaction(
        holder,
        `LOCK TABLE ${SCHEMAS} IN ACCESS EXCLUSIVE MODE`,
      );
      try {
        const started = Date.now();
        const error = await ensureWorkerSchema(probe, {
          runId,
          workerId: 1,
          host: HOST,
          pid: process.pid,
          lockTimeoutMs: 300,
        }).catch((e: unknown) => e);
        expect(Date.now() - started).toBeLessThan(4000);
        expect(error).toBeInstanceOf(LockTimeoutError);
        const message = (error as Error).message;
        expect(message).toContain(
          'timed out after 300 ms waiting for a lock on the ledger table "user_engine_live"."schemas"',
        );
        expect(message).toContain(`live run ${holderRun}`);
        expect(message).toContain(`backend pid ${hold.pid}`);
        expect(message).toContain('AccessExclusiveLock');
      } finally {
        await hold.release();
      }
      await joinRun(probe, { runId }).close();
    });

    it('openRun while the ledger is locked fails in time and leaves no run behind', async () => {
      const holder = await conns.open({ max: 1, applicationName: 'someone-else' });
      const hold = await holdInTransaction(holder, `LOCK TABLE ${RUNS} IN ACCESS EXCLUSIVE MODE`);
      const runId = newRunId();
      try {
        const error = await openRun(probe, { runId, lockTimeoutMs: 300 }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(LockTimeoutError);
        expect((error as Error).message).toMatch(
          new RegExp(
            `ledger table .*held by backend pid ${hold.pid} \\(application_name "someone-else"`,
          ),
        );
      } finally {
        await hold.release();
      }
      expect(await runRow(runId)).toBeUndefined();
    });

    it('close while a worker transaction still reads its schema: names schema and run; GC finishes later', async () => {
      const runId = newRunId();
      await openRun(probe, { runId, leaseMs: LONG_LEASE, host: 'run-host', pid: 777 });
      const schema = await ensureWorkerSchema(probe, {
        runId,
        workerId: 1,
        host: 'worker-host',
        pid: 778,
      });
      await probe.query(`CREATE TABLE ${qualifiedName(schema, 'user_engine_users')} (id int)`);
      const straggler = await worker(runId, 1);
      const hold = await holdInTransaction(straggler, 'SELECT count(*) FROM user_engine_users');
      try {
        const error = await joinRun(probe, { runId, lockTimeoutMs: 300 })
          .close()
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(LockTimeoutError);
        const message = (error as Error).message;
        expect(message).toContain(`schema "${schema}"`);
        expect(message).toContain(`live run ${runId} on host run-host, process 777`);
        expect(message).toContain(`backend pid ${hold.pid}`);
        expect(message).toContain('AccessShareLock');
        expect(await schemaExists(probe, schema)).toBe(true);
        expect(await ledgerRows(runId)).toHaveLength(1);
        expect(await runRow(runId)).toMatchObject({ valid: false });
      } finally {
        await hold.release();
      }
      // Its lease ended with close: any collector takes it at once, whatever its grace.
      const { runs } = await collectCrashedRuns(probe, { graceMs: LONG_LEASE });
      expect(runs.find((r) => r.runId === runId)?.schemas).toEqual([schema]);
      expect(await schemaExists(probe, schema)).toBe(false);
    });
  });

  it('canaries are byte-identical after everything above', async () => {
    expect(await baitFingerprint(rowsOf(probe))).toEqual(canariesBefore);
  });
});
