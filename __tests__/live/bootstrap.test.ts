/**
 * The run life cycle against real PostgreSQL: ledger, run lock, worker schemas, end, garbage
 * collection of crashed runs, the doctor's plan, bounded lock waits, and canaries that must stay
 * byte-identical throughout. Runs in its own database (USER_ENGINE_LIVE_DSN's server).
 */
import { hostname } from 'node:os';
import type { Connection, DriverName } from '../../src/driver/port';
import {
  beginRun,
  collectCrashedRuns,
  createFreshSchema,
  dropFreshSchema,
  endRun,
  ensureLedger,
  ensureWorkerSchema,
  planReset,
} from '../../src/live/bootstrap';
import {
  InvalidArgumentError,
  LockTimeoutError,
  RunLockLostError,
  RunLockUnavailableError,
} from '../../src/live/errors';
import { applicationName, newRunId, qualifiedName, quoteIdent } from '../../src/live/isolation';
import {
  LEDGER_TABLE,
  SCHEMA_NAME_CHECK,
  isAdvisoryLockHeld,
  ledgerCheckIsCurrent,
  runLockKey,
} from '../../src/live/ledger';
import {
  DRIVERS,
  canaryFingerprint,
  createCanaries,
  describeLive,
  gate,
  opener,
  privateDatabase,
  rowCount,
  schemaExists,
  until,
} from './support';

const LEDGER = qualifiedName('public', LEDGER_TABLE);
const HOST = hostname();

describeLive('live run bootstrap (real PostgreSQL)', () => {
  let dsn: string;
  let probe: Connection;
  let canariesBefore: Record<string, string>;
  let conns: ReturnType<typeof opener>;

  beforeAll(async () => {
    dsn = await privateDatabase('ue_live_bootstrap_test');
    conns = opener(dsn);
    probe = await opener(dsn).open({ max: 2, applicationName: 'ue-bootstrap-test-probe' });
    await createCanaries(probe);
    canariesBefore = await canaryFingerprint(probe);
  });

  afterEach(async () => {
    // Everything a test opened is closed (a dangling admin would be a crashed run).
    await conns.closeAll();
  });

  afterAll(async () => {
    await probe?.close();
  });

  async function admin(driver?: DriverName, schema?: string): Promise<Connection> {
    return conns.open({ max: 1, driver, schema });
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
      `SELECT schema_name, run_id, worker_id, host, pid FROM ${LEDGER} WHERE run_id = $1 ORDER BY schema_name`,
      [runId],
    );
    return rows;
  }

  /** Begins a run, creates `workers` schemas with a table each, then dies without endRun. */
  async function crashedRun(workers: number): Promise<{ runId: string; schemas: string[] }> {
    const runId = newRunId();
    const a = await admin();
    await beginRun(a, { runId });
    const schemas: string[] = [];
    for (let w = 1; w <= workers; w++) {
      const schema = await ensureWorkerSchema(probe, {
        runId,
        workerId: w,
        host: 'crashed-host',
        pid: 4242,
        ledgerSchema: 'public',
      });
      await probe.query(`CREATE TABLE ${qualifiedName(schema, 'user_engine_users')} (id int)`);
      await probe.query(`INSERT INTO ${qualifiedName(schema, 'user_engine_users')} VALUES (1)`);
      schemas.push(schema);
    }
    await a.close(); // the crash: the session (and with it the run lock) goes away
    await until(async () => !(await isAdvisoryLockHeld(probe, runLockKey(runId))));
    return { runId, schemas };
  }

  describe.each(DRIVERS)('life cycle over %s', (driver) => {
    it('begin → worker schemas → end leaves nothing of the run behind', async () => {
      const runId = newRunId();
      const a = await admin(driver);
      const begun = await beginRun(a, { runId });
      expect(begun).toMatchObject({ runId, ledgerSchema: 'public' });
      expect(Array.isArray(begun.collected)).toBe(true);

      // The run is visible: its lock is held by a session named after it.
      expect(await isAdvisoryLockHeld(probe, runLockKey(runId))).toBe(true);
      const { rows: sessions } = await probe.query<{ pid: number }>(
        'SELECT pid FROM pg_stat_activity WHERE application_name = $1',
        [applicationName(runId)],
      );
      expect(sessions.map((s) => Number(s.pid))).toContain(begun.adminPid);

      const w1 = await worker(runId, 1, driver);
      const w2 = await worker(runId, 2, driver);
      const opts = { runId, host: HOST, pid: process.pid, ledgerSchema: 'public' };
      expect(await ensureWorkerSchema(w1, { ...opts, workerId: 1 })).toBe(
        `user_engine_live_${runId}_1`,
      );
      expect(await ensureWorkerSchema(w2, { ...opts, workerId: '2' })).toBe(
        `user_engine_live_${runId}_2`,
      );
      // Idempotent, also when the ledger is found rather than named.
      const unnamed: Omit<typeof opts, 'ledgerSchema'> = { ...opts };
      delete (unnamed as Partial<typeof opts>).ledgerSchema;
      expect(await ensureWorkerSchema(w1, { ...unnamed, workerId: 1 })).toBe(
        `user_engine_live_${runId}_1`,
      );
      expect(await ledgerRows(runId)).toEqual([
        {
          schema_name: `user_engine_live_${runId}_1`,
          run_id: runId,
          worker_id: '1',
          host: HOST,
          pid: process.pid,
        },
        {
          schema_name: `user_engine_live_${runId}_2`,
          run_id: runId,
          worker_id: '2',
          host: HOST,
          pid: process.pid,
        },
      ]);
      // The worker's search_path now resolves to its schema.
      await w1.query('CREATE TABLE user_engine_users (id int)');
      await w1.query('INSERT INTO user_engine_users VALUES (1)');
      expect(await rowCount(probe, `user_engine_live_${runId}_1`, 'user_engine_users')).toBe(1);
      await w1.close();
      await w2.close();

      const ended = await endRun(a, { runId });
      expect(ended.dropped).toEqual([`user_engine_live_${runId}_1`, `user_engine_live_${runId}_2`]);
      expect(await schemaExists(probe, `user_engine_live_${runId}_1`)).toBe(false);
      expect(await schemaExists(probe, `user_engine_live_${runId}_2`)).toBe(false);
      expect(await ledgerRows(runId)).toEqual([]);
      expect(await isAdvisoryLockHeld(probe, runLockKey(runId))).toBe(false);
      expect(await canaryFingerprint(probe)).toEqual(canariesBefore);
    });
  });

  it('keepSchemas keeps schemas and rows but releases the lock; the next run collects them', async () => {
    const runId = newRunId();
    const a = await admin();
    await beginRun(a, { runId });
    const schema = await ensureWorkerSchema(probe, {
      runId,
      workerId: 3,
      host: HOST,
      pid: process.pid,
      ledgerSchema: 'public',
    });
    expect(await endRun(a, { runId, keepSchemas: true })).toEqual({ dropped: [] });
    expect(await schemaExists(probe, schema)).toBe(true);
    expect(await ledgerRows(runId)).toHaveLength(1);
    expect(await isAdvisoryLockHeld(probe, runLockKey(runId))).toBe(false);

    const next = newRunId();
    const b = await admin();
    const begun = await beginRun(b, { runId: next });
    expect(begun.collected).toContain(schema);
    expect(await schemaExists(probe, schema)).toBe(false);
    await endRun(b, { runId: next });
  });

  it("GC drops a crashed run's ledger-listed schemas, and nothing else", async () => {
    // A live run, which GC must leave alone.
    const liveId = newRunId();
    const live = await admin();
    await beginRun(live, { runId: liveId });
    const liveSchema = await ensureWorkerSchema(probe, {
      runId: liveId,
      workerId: 1,
      host: HOST,
      pid: process.pid,
      ledgerSchema: 'public',
    });
    const crashed = await crashedRun(2);
    // Named exactly like a schema of the crashed run, but not in the ledger: not ours to drop.
    const unlisted = `user_engine_live_${crashed.runId}_9`;
    await probe.query(`CREATE SCHEMA ${quoteIdent(unlisted)}`);
    await probe.query(`CREATE TABLE ${qualifiedName(unlisted, 't')} AS SELECT 1 AS x`);

    // Dry run: reported, nothing dropped.
    const dry = await collectCrashedRuns(probe, { dryRun: true });
    const reported = dry.runs.find((r) => r.runId === crashed.runId);
    expect(reported).toMatchObject({ schemas: crashed.schemas, host: 'crashed-host', pid: 4242 });
    expect(reported?.createdAt).toBeInstanceOf(Date);
    expect(dry.runs.map((r) => r.runId)).not.toContain(liveId);
    for (const s of crashed.schemas) expect(await schemaExists(probe, s)).toBe(true);
    expect(await ledgerRows(crashed.runId)).toHaveLength(2);

    const runId = newRunId();
    const a = await admin();
    const begun = await beginRun(a, { runId });
    expect(begun.collected).toEqual(expect.arrayContaining(crashed.schemas));
    expect(begun.collected).not.toContain(liveSchema);
    expect(begun.collected).not.toContain(unlisted);
    for (const s of crashed.schemas) expect(await schemaExists(probe, s)).toBe(false);
    expect(await ledgerRows(crashed.runId)).toEqual([]);
    expect(await schemaExists(probe, liveSchema)).toBe(true);
    expect(await ledgerRows(liveId)).toHaveLength(1);
    expect(await schemaExists(probe, unlisted)).toBe(true);
    expect(await rowCount(probe, unlisted, 't')).toBe(1);
    expect(await canaryFingerprint(probe)).toEqual(canariesBefore);

    await probe.query(`DROP SCHEMA ${quoteIdent(unlisted)} CASCADE`);
    await endRun(a, { runId });
    await endRun(live, { runId: liveId });
    expect(await schemaExists(probe, liveSchema)).toBe(false);
  });

  it('planReset describes drops, emptying and what is left alone, without acting', async () => {
    const liveId = newRunId();
    const live = await admin();
    await beginRun(live, { runId: liveId });
    const liveSchema = await ensureWorkerSchema(probe, {
      runId: liveId,
      workerId: 1,
      host: HOST,
      pid: process.pid,
      ledgerSchema: 'public',
    });
    await probe.query(`CREATE TABLE ${qualifiedName(liveSchema, 'user_engine_users')} (id int)`);
    await probe.query(
      `CREATE TABLE ${qualifiedName(liveSchema, 'user_engine_migrations')} (v int)`,
    );
    const crashed = await crashedRun(1);
    const before = await canaryFingerprint(probe);

    const plan = await probe.transaction(async (tx) => {
      await tx.query('SET TRANSACTION READ ONLY');
      return planReset(tx);
    });
    expect(plan.ledger).toBe(LEDGER);
    expect(plan.runs).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ runId: liveId, live: true, schemas: [liveSchema] }),
        expect.objectContaining({ runId: crashed.runId, live: false, schemas: crashed.schemas }),
      ]),
    );
    expect(plan.drop).toContainEqual({
      schema: crashed.schemas[0],
      runId: crashed.runId,
      exists: true,
      tables: ['user_engine_users'],
      reason: expect.stringContaining('crashed'),
    });
    expect(plan.empty).toContainEqual({
      schema: liveSchema,
      runId: liveId,
      exists: true,
      tables: ['user_engine_users'],
      reason: expect.stringContaining('live run'),
    });
    const alone = new Map(plan.leftAlone.map((e) => [e.name, e.reason]));
    expect(alone.get('"public"."user_engine_users"')).toMatch(
      /not inside a ledger-listed run schema/,
    );
    expect(alone.get('"public"."user_engine_audit"')).toMatch(/not inside/);
    expect(alone.get('"user_engineXlive_abc"."user_engine_users"')).toMatch(/not inside/);
    expect(alone.get('"user_engine_live_x"')).toMatch(/not a run schema name/);
    expect(alone.get('"user_engine_live_zzzzzzzzzz_1"')).toMatch(/not listed in the ledger/);
    expect(alone.get(LEDGER)).toMatch(/the ledger itself/);
    // Nothing in the plan names a listed schema as left alone, or a canary as dropped.
    expect(plan.leftAlone.map((e) => e.name)).not.toContain(quoteIdent(liveSchema));
    expect(plan.drop.map((d) => d.schema)).not.toContain('user_engine_live_zzzzzzzzzz_1');

    // Acted on nothing.
    expect(await schemaExists(probe, crashed.schemas[0])).toBe(true);
    expect(await ledgerRows(crashed.runId)).toHaveLength(1);
    expect(await isAdvisoryLockHeld(probe, runLockKey(crashed.runId))).toBe(false);
    expect(await canaryFingerprint(probe)).toEqual(before);

    await endRun(live, { runId: liveId });
    await collectCrashedRuns(probe);
    expect(await schemaExists(probe, crashed.schemas[0])).toBe(false);
  });

  it('two runs started at once create one ledger and each keeps its own schemas', async () => {
    // A ledger schema of its own, with a hostile name: every identifier must be quoted.
    const ledgerSchema = `ue race "${newRunId()}"; drop`;
    await probe.query(`CREATE SCHEMA ${quoteIdent(ledgerSchema)}`);
    try {
      const [a, b, c] = await Promise.all([1, 2, 3].map(() => admin(undefined, ledgerSchema)));
      const ids = [newRunId(), newRunId()];
      const begun = await Promise.all([
        beginRun(a, { runId: ids[0] }),
        beginRun(b, { runId: ids[1] }),
      ]);
      expect(begun.map((r) => r.ledgerSchema)).toEqual([ledgerSchema, ledgerSchema]);
      const { rows } = await probe.query(
        'SELECT count(*)::int AS n FROM pg_class WHERE relname = $1 AND relnamespace = to_regnamespace($2)',
        [LEDGER_TABLE, quoteIdent(ledgerSchema)],
      );
      expect(rows[0].n).toBe(1);

      // Every worker of both runs at once, some of them twice (same schema concurrently).
      const ensured = await Promise.all(
        [1, 2, 3, 1, 2, 3].flatMap((w) =>
          ids.map((runId) =>
            ensureWorkerSchema(probe, {
              runId,
              workerId: w,
              host: HOST,
              pid: process.pid,
              ledgerSchema,
            }),
          ),
        ),
      );
      expect(new Set(ensured).size).toBe(6);
      const ledger = qualifiedName(ledgerSchema, LEDGER_TABLE);
      const count = async (runId: string) =>
        Number(
          (
            await probe.query<{ n: string }>(
              `SELECT count(*) AS n FROM ${ledger} WHERE run_id = $1`,
              [runId],
            )
          ).rows[0].n,
        );
      expect(await count(ids[0])).toBe(3);
      expect(await count(ids[1])).toBe(3);

      // A third run starting now collects neither.
      const third = newRunId();
      const begunThird = await beginRun(c, { runId: third });
      expect(begunThird.collected).toEqual([]);

      const endedA = await endRun(a, { runId: ids[0] });
      expect(endedA.dropped).toEqual([1, 2, 3].map((w) => `user_engine_live_${ids[0]}_${w}`));
      for (const w of [1, 2, 3]) {
        expect(await schemaExists(probe, `user_engine_live_${ids[1]}_${w}`)).toBe(true);
        expect(await schemaExists(probe, `user_engine_live_${ids[0]}_${w}`)).toBe(false);
      }
      expect(await count(ids[1])).toBe(3);
      expect((await endRun(b, { runId: ids[1] })).dropped).toHaveLength(3);
      await endRun(c, { runId: third });
    } finally {
      await probe.query(`DROP SCHEMA ${quoteIdent(ledgerSchema)} CASCADE`);
    }
  });

  describe('fresh schemas', () => {
    const opts = (runId: string) => ({
      runId,
      workerId: 2,
      host: HOST,
      pid: process.pid,
      ledgerSchema: 'public',
    });

    it('are recorded then created empty, numbered past taken ones, dropped one by one', async () => {
      const runId = newRunId();
      const a = await admin();
      await beginRun(a, { runId });
      const first = await createFreshSchema(probe, opts(runId));
      expect(first).toEqual({ schema: `user_engine_live_${runId}_2_f1`, n: 1 });
      // A replaced worker process starts counting at 1 again: taken numbers are stepped over.
      const second = await createFreshSchema(probe, opts(runId));
      expect(second).toEqual({ schema: `user_engine_live_${runId}_2_f2`, n: 2 });
      const third = await createFreshSchema(probe, { ...opts(runId), from: 5 });
      expect(third.schema).toBe(`user_engine_live_${runId}_2_f5`);
      expect(await ledgerRows(runId)).toEqual(
        [first, second, third].map(({ n }) => ({
          schema_name: `user_engine_live_${runId}_2_f${n}`,
          run_id: runId,
          worker_id: `2_f${n}`,
          host: HOST,
          pid: process.pid,
        })),
      );
      const { rows } = await probe.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
         WHERE s.nspname = $1`,
        [first.schema],
      );
      expect(rows).toEqual([{ n: 0 }]);

      expect(await dropFreshSchema(probe, { runId, schema: first.schema })).toBe(true);
      expect(await dropFreshSchema(probe, { runId, schema: first.schema })).toBe(false);
      expect(await schemaExists(probe, first.schema)).toBe(false);
      expect(await schemaExists(probe, second.schema)).toBe(true);
      expect((await ledgerRows(runId)).map((r) => r.schema_name)).toEqual([
        second.schema,
        third.schema,
      ]);

      // The run's end drops what was not disposed of.
      await probe.query(
        `CREATE TABLE ${qualifiedName(second.schema, 'user_engine_users')} (id int)`,
      );
      expect((await endRun(a, { runId })).dropped).toEqual([second.schema, third.schema]);
      expect(await schemaExists(probe, second.schema)).toBe(false);
      expect(await schemaExists(probe, third.schema)).toBe(false);
      expect(await ledgerRows(runId)).toEqual([]);
    });

    it("GC drops a crashed run's fresh schemas with its worker schemas", async () => {
      const crashed = await crashedRun(1);
      const fresh = await createFreshSchema(probe, opts(crashed.runId));
      const runId = newRunId();
      const a = await admin();
      const begun = await beginRun(a, { runId });
      expect(begun.collected).toEqual(expect.arrayContaining([...crashed.schemas, fresh.schema]));
      expect(await schemaExists(probe, fresh.schema)).toBe(false);
      expect(await ledgerRows(crashed.runId)).toEqual([]);
      await endRun(a, { runId });
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

    it('a ledger of an earlier version gets its schema_name CHECK widened, once', async () => {
      const schema = 'ue_old_ledger';
      await probe.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
      await probe.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
      const ledger = qualifiedName(schema, LEDGER_TABLE);
      // The DDL earlier versions created (an inline CHECK without fresh schemas).
      await probe.query(`CREATE TABLE ${ledger} (
        schema_name text PRIMARY KEY CHECK (schema_name ~ '^user_engine_live_[a-z0-9]{10}_(0|[1-9][0-9]{0,5})$'),
        run_id text NOT NULL CHECK (run_id ~ '^[a-z0-9]{10}$'),
        worker_id text NOT NULL, host text NOT NULL, pid integer NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CHECK (schema_name = 'user_engine_live_' || run_id || '_' || worker_id))`);
      const runId = newRunId();
      await probe.query(
        `INSERT INTO ${ledger} (schema_name, run_id, worker_id, host, pid) VALUES ($1, $2, '1', 'h', 1)`,
        [`user_engine_live_${runId}_1`, runId],
      );
      expect(await ledgerCheckIsCurrent(probe, schema)).toBe(false);
      await ensureLedger(probe, schema, 5000);
      expect(await ledgerCheckIsCurrent(probe, schema)).toBe(true);
      await ensureLedger(probe, schema, 5000);
      const { rows } = await probe.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_constraint WHERE conrelid = to_regclass($1) AND conname = $2`,
        [ledger, SCHEMA_NAME_CHECK],
      );
      expect(rows).toEqual([{ n: 1 }]);
      // Fresh names now fit; the old row survived; anything looser is still refused.
      await probe.query(
        `INSERT INTO ${ledger} (schema_name, run_id, worker_id, host, pid) VALUES ($1, $2, '1_f1', 'h', 1)`,
        [`user_engine_live_${runId}_1_f1`, runId],
      );
      await expect(
        probe.query(
          `INSERT INTO ${ledger} (schema_name, run_id, worker_id, host, pid) VALUES ($1, $2, '1_g1', 'h', 1)`,
          [`user_engine_live_${runId}_1_g1`, runId],
        ),
      ).rejects.toMatchObject({ sqlState: '23514' });
      const { rows: kept } = await probe.query(`SELECT schema_name FROM ${ledger} ORDER BY 1`);
      expect(kept).toEqual([
        { schema_name: `user_engine_live_${runId}_1` },
        { schema_name: `user_engine_live_${runId}_1_f1` },
      ]);
      await probe.query(`DROP SCHEMA ${quoteIdent(schema)} CASCADE`);
    });
  });

  it('refuses a run id that is already in use', async () => {
    const runId = newRunId();
    const a = await admin();
    const b = await admin();
    await beginRun(a, { runId });
    await expect(beginRun(b, { runId })).rejects.toThrow(RunLockUnavailableError);
    await expect(beginRun(b, { runId })).rejects.toThrow(
      `the advisory lock of run ${runId} is held`,
    );
    expect(await isAdvisoryLockHeld(probe, runLockKey(runId))).toBe(true);
    await endRun(a, { runId });
  });

  it('endRun on a session that does not hold the lock says so', async () => {
    const runId = newRunId();
    const a = await admin();
    const b = await admin();
    await beginRun(a, { runId });
    await expect(endRun(b, { runId })).rejects.toThrow(RunLockLostError);
    await expect(endRun(b, { runId })).rejects.toThrow(/was not held by the admin session/);
    expect(await isAdvisoryLockHeld(probe, runLockKey(runId))).toBe(true);
    await endRun(a, { runId });
    expect(await isAdvisoryLockHeld(probe, runLockKey(runId))).toBe(false);
  });

  it('rejects bad arguments naming the field', async () => {
    const a = await admin();
    await expect(beginRun(a, { runId: 'NOPE' })).rejects.toThrow(/invalid runId/);
    await expect(beginRun(a, { runId: newRunId(), lockTimeoutMs: 0 })).rejects.toThrow(
      /invalid lockTimeoutMs/,
    );
    const base = {
      runId: newRunId(),
      workerId: 1,
      host: HOST,
      pid: process.pid,
      ledgerSchema: 'public',
    };
    await expect(ensureWorkerSchema(probe, { ...base, workerId: 'x' })).rejects.toThrow(
      /invalid workerId/,
    );
    await expect(ensureWorkerSchema(probe, { ...base, pid: -1 })).rejects.toThrow(/invalid pid/);
    await expect(
      ensureWorkerSchema(probe, { ...base, ledgerSchema: 'no_such_schema' }),
    ).rejects.toThrow(/no_such_schema/);
    await expect(endRun(a, { runId: 'x' })).rejects.toThrow(InvalidArgumentError);
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
      const holderRun = newRunId();
      const holder = await conns.open({ max: 1, applicationName: applicationName(holderRun) });
      const hold = await holdInTransaction(holder, `LOCK TABLE ${LEDGER} IN ACCESS EXCLUSIVE MODE`);
      try {
        const started = Date.now();
        const error = await ensureWorkerSchema(probe, {
          runId: newRunId(),
          workerId: 1,
          host: HOST,
          pid: process.pid,
          ledgerSchema: 'public',
          lockTimeoutMs: 300,
        }).catch((e: unknown) => e);
        expect(Date.now() - started).toBeLessThan(4000);
        expect(error).toBeInstanceOf(LockTimeoutError);
        const message = (error as Error).message;
        expect(message).toContain(
          'timed out after 300 ms waiting for a lock on the ledger table "public"."user_engine_live_ledger"',
        );
        expect(message).toContain(`live run ${holderRun}`);
        expect(message).toContain(`backend pid ${hold.pid}`);
        expect(message).toContain('AccessExclusiveLock');
        expect((error as LockTimeoutError).holders).toEqual([
          expect.objectContaining({
            pid: hold.pid,
            runId: holderRun,
            state: 'idle in transaction',
          }),
        ]);
      } finally {
        await hold.release();
      }
    });

    it('beginRun while the ledger is locked fails in time and releases its run lock', async () => {
      const holder = await conns.open({ max: 1, applicationName: 'someone-else' });
      const hold = await holdInTransaction(holder, `LOCK TABLE ${LEDGER} IN ACCESS EXCLUSIVE MODE`);
      const runId = newRunId();
      try {
        const a = await admin();
        const error = await beginRun(a, { runId, lockTimeoutMs: 300 }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(LockTimeoutError);
        expect((error as Error).message).toMatch(
          new RegExp(
            `ledger table .*held by backend pid ${hold.pid} \\(application_name "someone-else"`,
          ),
        );
        expect(await isAdvisoryLockHeld(probe, runLockKey(runId))).toBe(false);
      } finally {
        await hold.release();
      }
    });

    it('endRun while a worker transaction still reads its schema: names schema and run, still unlocks', async () => {
      const runId = newRunId();
      const a = await admin();
      await beginRun(a, { runId });
      const schema = await ensureWorkerSchema(probe, {
        runId,
        workerId: 1,
        host: 'worker-host',
        pid: 777,
        ledgerSchema: 'public',
      });
      await probe.query(`CREATE TABLE ${qualifiedName(schema, 'user_engine_users')} (id int)`);
      // A worker of the same run that left a transaction open on its table.
      const straggler = await worker(runId, 1);
      const hold = await holdInTransaction(straggler, 'SELECT count(*) FROM user_engine_users');
      try {
        const error = await endRun(a, { runId, lockTimeoutMs: 300 }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(LockTimeoutError);
        const message = (error as Error).message;
        expect(message).toContain(`schema "${schema}"`);
        expect(message).toContain(`live run ${runId} on host worker-host, process 777`);
        expect(message).toContain(`backend pid ${hold.pid}`);
        expect(message).toContain('AccessShareLock');
        // Nothing half-done: the schema and its row are still there, and the run lock is gone.
        expect(await schemaExists(probe, schema)).toBe(true);
        expect(await ledgerRows(runId)).toHaveLength(1);
        expect(await isAdvisoryLockHeld(probe, runLockKey(runId))).toBe(false);
      } finally {
        await hold.release();
      }
      // Now it is a crashed run like any other.
      const { runs } = await collectCrashedRuns(probe);
      expect(runs.find((r) => r.runId === runId)?.schemas).toEqual([schema]);
      expect(await schemaExists(probe, schema)).toBe(false);
    });
  });

  it('canaries are byte-identical after everything above', async () => {
    expect(await canaryFingerprint(probe)).toEqual(canariesBefore);
  });
});
