/**
 * Another session holds a lock the bootstrap needs (the ledger, a run schema, a managed table, the
 * ledger-creation advisory lock): every wait is bounded by `lockTimeoutMs`, the error names the
 * lock and who holds it (the run, when the holder is one), and nothing is half-done afterwards.
 */
import { Client } from 'pg';
import { createConnection, quoteIdentifier, type Connection } from '../../src/driver';
import { collectCrashedRuns, ensureWorkerSchema, joinRun, openRun } from '../../src/live/bootstrap';
import { LockTimeoutError } from '../../src/live/errors';
import { applicationName, newRunId, workerSchemaName } from '../../src/live/isolation';
import { LEDGER_SCHEMA } from '../../src/live/ledger';
import { leaseStatus } from '../../src/live/lease';
import { ledgerLockKey } from '../../src/live/lock-keys';
import { resetWorkerSchema } from '../../src/live/reset';
import { PostgresUserEngineStore } from '../../src/store/postgres/postgres-store';
import {
  describeOutcome,
  printMeasurements,
  record,
  rejectionOf,
  settleWithin,
} from './support/bounds';
import { createTestDatabase, describeWithDatabase, type TestDatabase } from '../support/database';

jest.setTimeout(30_000);

const LOCK_TIMEOUT_MS = 500;
const BOUND_MS = LOCK_TIMEOUT_MS + 1000;
const RUNS = '"user_engine_live"."runs"';
const SCHEMAS = '"user_engine_live"."schemas"';

describeWithDatabase('lock contention during bootstrap, teardown and reset', () => {
  let db: TestDatabase;
  const connections: Connection[] = [];
  const holders: Client[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('locks', { prefix: 'ue_faults_' });
  });
  afterEach(async () => {
    await Promise.all(holders.splice(0).map((h) => h.end().catch(() => undefined)));
    await Promise.all(connections.splice(0).map((c) => c.close().catch(() => undefined)));
  });
  afterAll(async () => {
    printMeasurements('lock contention');
    await db?.drop();
  });

  /** An admin pool, as the preset opens for a run. */
  async function admin(runId: string): Promise<Connection> {
    const connection = await createConnection(db.dsn, {
      max: 2,
      applicationName: applicationName(runId),
    });
    connections.push(connection);
    return connection;
  }

  /** Another session (psql, a stuck worker, another run) that takes a lock and keeps it. */
  async function holder(name: string, ...statements: string[]): Promise<number> {
    const client = new Client({ connectionString: db.dsn, application_name: name });
    await client.connect();
    holders.push(client);
    for (const sql of statements) await client.query(sql);
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    return rows[0].pid;
  }

  /** Starts a run with one worker schema; `crash`: no heartbeat, its 1 s lease runs out. */
  async function runWithSchema(crash: boolean): Promise<{ runId: string; schema: string }> {
    const runId = newRunId();
    const connection = await admin(runId);
    await openRun(connection, {
      runId,
      lockTimeoutMs: LOCK_TIMEOUT_MS,
      leaseMs: crash ? 1000 : 600_000,
    });
    const schema = await ensureWorkerSchema(connection, {
      runId,
      workerId: 1,
      host: 'ci-box-7',
      pid: 4242,
    });
    await connection.query(`CREATE TABLE ${quoteIdentifier(schema)}.t (k int)`);
    if (crash) {
      await connection.close();
      // Expired, and past the 1 s grace the next run (leaseMs 1000) gives it.
      await new Promise((resolve) => setTimeout(resolve, 2100));
    }
    return { runId, schema };
  }

  async function expectLockTimeout(
    what: string,
    attempt: Promise<unknown>,
  ): Promise<LockTimeoutError> {
    const outcome = await settleWithin(attempt, BOUND_MS);
    record(`${what}: ${describeOutcome(outcome)}`);
    const error = rejectionOf(outcome, BOUND_MS);
    expect(error).toBeInstanceOf(LockTimeoutError);
    expect(error.code).toBe('lock_timeout');
    expect((error as LockTimeoutError).lockTimeoutMs).toBe(LOCK_TIMEOUT_MS);
    return error as LockTimeoutError;
  }

  test('openRun while a live run holds the ledger: bounded, names the ledger and that run', async () => {
    const other = await runWithSchema(false);
    const pid = await holder(
      applicationName(other.runId),
      'BEGIN',
      `LOCK TABLE ${RUNS} IN ACCESS EXCLUSIVE MODE`,
    );
    const runId = newRunId();
    const connection = await admin(runId);
    const error = await expectLockTimeout(
      'openRun, ledger held by a live run',
      openRun(connection, { runId, lockTimeoutMs: LOCK_TIMEOUT_MS }),
    );
    expect(error.message).toContain(`the ledger table ${RUNS}`);
    expect(error.message).toContain(`live run ${other.runId}`);
    expect(error.message).toContain(`backend pid ${pid}`);
    await holders.pop()?.end();
    // Nothing half-done: this run has no row, so it can simply be retried.
    expect(await leaseStatus(connection, runId)).toBe('gone');
    await expect(openRun(connection, { runId, lockTimeoutMs: LOCK_TIMEOUT_MS })).resolves.toEqual(
      expect.objectContaining({ runId }),
    );
  });

  test('ensureWorkerSchema while another session holds the ledger: bounded, names both', async () => {
    const runId = newRunId();
    const connection = await admin(runId);
    await openRun(connection, { runId, lockTimeoutMs: LOCK_TIMEOUT_MS });
    const pid = await holder('ops-console', 'BEGIN', `LOCK TABLE ${SCHEMAS} IN SHARE MODE`);
    const error = await expectLockTimeout(
      'ensureWorkerSchema, ledger held',
      ensureWorkerSchema(connection, {
        runId,
        workerId: 3,
        host: 'h',
        pid: 1,
        lockTimeoutMs: LOCK_TIMEOUT_MS,
      }),
    );
    expect(error.message).toContain(`the ledger table ${SCHEMAS}`);
    expect(error.message).toContain(`backend pid ${pid} (application_name "ops-console"`);
    // The transaction rolled back: neither a ledger row nor the schema exists.
    const schema = workerSchemaName(runId, 3);
    expect(await db.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).toEqual([]);
  });

  test('ensureWorkerSchema while a collector holds the run row: bounded, names the runs table', async () => {
    const runId = newRunId();
    const connection = await admin(runId);
    await openRun(connection, { runId, lockTimeoutMs: LOCK_TIMEOUT_MS });
    // What a collector's transaction holds: the run's row FOR UPDATE, and (from its survey) a
    // lock on the schemas table too, which must not be named instead.
    const pid = await holder(
      'collector',
      'BEGIN',
      `SELECT 1 FROM ${RUNS} WHERE run_id = '${runId}' FOR UPDATE`,
      `SELECT count(*) FROM ${SCHEMAS}`,
    );
    const error = await expectLockTimeout(
      'ensureWorkerSchema, run row held',
      ensureWorkerSchema(connection, {
        runId,
        workerId: 4,
        host: 'h',
        pid: 1,
        lockTimeoutMs: LOCK_TIMEOUT_MS,
      }),
    );
    expect(error.message).toContain(`the ledger table ${RUNS}`);
    expect(error.message).toContain(`backend pid ${pid} (application_name "collector"`);
    const schema = workerSchemaName(runId, 4);
    expect(await db.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).toEqual([]);
  });

  test('garbage collection of a crashed run whose schema is in use: bounded, names the schema and holder', async () => {
    const crashed = await runWithSchema(true);
    const pid = await holder(
      'stray-psql',
      'BEGIN',
      `LOCK TABLE ${quoteIdentifier(crashed.schema)}.t IN ACCESS SHARE MODE`,
    );
    const runId = newRunId();
    const connection = await admin(runId);
    const error = await expectLockTimeout(
      'openRun, crashed run schema in use',
      openRun(connection, { runId, lockTimeoutMs: LOCK_TIMEOUT_MS, leaseMs: 1000 }),
    );
    expect(error.message).toContain(`schema "${crashed.schema}"`);
    expect(error.message).toContain(`backend pid ${pid} (application_name "stray-psql"`);
    // Rolled back as a whole: the crashed run's ledger row is still there for the next try.
    expect(
      await db.query(`SELECT schema_name FROM ${SCHEMAS} WHERE run_id = $1`, [crashed.runId]),
    ).toEqual([{ schema_name: crashed.schema }]);
    await holders.pop()?.end();
    const retry = await openRun(connection, {
      runId: newRunId(),
      lockTimeoutMs: LOCK_TIMEOUT_MS,
      leaseMs: 1000,
    });
    expect(retry.collected).toContain(crashed.schema);
  });

  test('close while its own worker left a transaction open: bounded, names the run; the lease still ends', async () => {
    const runId = newRunId();
    const connection = await admin(runId);
    await openRun(connection, { runId, lockTimeoutMs: LOCK_TIMEOUT_MS });
    const schema = await ensureWorkerSchema(connection, {
      runId,
      workerId: 1,
      host: 'h',
      pid: 1,
    });
    await connection.query(`CREATE TABLE ${quoteIdentifier(schema)}.t (k int)`);
    const pid = await holder(
      applicationName(runId),
      'BEGIN',
      `INSERT INTO ${quoteIdentifier(schema)}.t VALUES (1)`,
    );
    const error = await expectLockTimeout(
      'close, own schema in use',
      joinRun(connection, { runId, lockTimeoutMs: LOCK_TIMEOUT_MS }).close(),
    );
    expect(error.message).toContain(`schema "${schema}"`);
    expect(error.message).toContain(`live run ${runId}`);
    expect(error.message).toContain(`backend pid ${pid}`);
    // The run's lease ended, so the next collection drops the schema once it is free.
    expect(await leaseStatus(connection, runId)).toBe('expired');
    await holders.pop()?.end();
    const { runs } = await collectCrashedRuns(connection, { lockTimeoutMs: LOCK_TIMEOUT_MS });
    expect(runs.map((r) => r.runId)).toContain(runId);
    expect(await db.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).toEqual([]);
  });

  test('reset while a test left a table locked: bounded, names the schema and holder', async () => {
    const runId = newRunId();
    const connection = await admin(runId);
    await openRun(connection, { runId, lockTimeoutMs: LOCK_TIMEOUT_MS });
    const schema = await ensureWorkerSchema(connection, {
      runId,
      workerId: 2,
      host: 'h',
      pid: 1,
    });
    const bound = await createConnection(db.dsn, { max: 1, schema });
    connections.push(bound);
    await new PostgresUserEngineStore(bound).migrate();
    const pid = await holder(
      applicationName(runId),
      'BEGIN',
      `LOCK TABLE ${quoteIdentifier(schema)}.user_engine_users IN SHARE MODE`,
    );
    const error = await expectLockTimeout(
      'resetWorkerSchema, managed table locked',
      resetWorkerSchema(bound, schema, { lockTimeoutMs: LOCK_TIMEOUT_MS }),
    );
    expect(error.message).toContain(`schema "${schema}"`);
    expect(error.message).toContain(`live run ${runId}`);
    expect(error.message).toContain(`backend pid ${pid}`);
    await holders.pop()?.end();
    await resetWorkerSchema(bound, schema, { lockTimeoutMs: LOCK_TIMEOUT_MS });
    await joinRun(connection, { runId }).close();
  });

  test('first run on a database while another holds the ledger-creation lock: bounded, names it', async () => {
    await db.query(`DROP SCHEMA IF EXISTS ${LEDGER_SCHEMA} CASCADE`);
    const other = newRunId();
    const key = ledgerLockKey(LEDGER_SCHEMA);
    const pid = await holder(
      applicationName(other),
      `SELECT pg_advisory_lock(${key.namespace}, ${key.key})`,
    );
    const runId = newRunId();
    const connection = await admin(runId);
    const error = await expectLockTimeout(
      'openRun, ledger creation lock held',
      openRun(connection, { runId, lockTimeoutMs: LOCK_TIMEOUT_MS }),
    );
    expect(error.message).toContain('ledger creation (advisory lock');
    expect(error.message).toContain(`live run ${other}`);
    expect(error.message).toContain(`backend pid ${pid}`);
    // Nothing was created while waiting.
    expect(
      await db.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [LEDGER_SCHEMA]),
    ).toEqual([]);
  });
});
