/**
 * Life cycle of a live run in one database: begin (ledger, run lock, garbage collection of
 * crashed runs), one schema per Jest worker, end (drop this run's schemas, release the lock),
 * plus the read-only plan the `doctor` CLI prints.
 *
 * Safety rule: a schema is only ever dropped when its name passes `isRunSchemaName`, it embeds
 * the run id of its ledger row, and that ledger row belongs to the run being cleaned up. Nothing
 * is ever found by name pattern alone.
 */
import type { Connection, Queryable, TransactionScope } from '../driver/port';
import { MANAGED_TABLES } from '../store/contract';
import { InvalidArgumentError, RunLockLostError, RunLockUnavailableError } from './errors';
import {
  applicationName,
  assertRunId,
  freshSchemaName,
  isFreshSchemaName,
  isRunSchemaName,
  qualifiedName,
  quoteIdent,
  runIdOfSchema,
  workerSchemaName,
  RUN_SCHEMA_PREFIX,
} from './isolation';
import {
  LEDGER_COLUMNS,
  LEDGER_TABLE,
  currentSchema,
  findLedgerSchema,
  isAdvisoryLockHeld,
  ledgerCheckIsCurrent,
  ledgerDdl,
  ledgerExists,
  ledgerLockKey,
  ledgerTarget,
  lockTimeoutOption,
  readLedger,
  runLockKey,
  schemaLockKey,
  setLocalLockTimeout,
  sqlStateOf,
  toLedgerRow,
  upgradeLedgerDdl,
  withLockTimeout,
} from './ledger';
import type { AdvisoryKey, LedgerRow, LedgerRowRecord, LockScope } from './ledger';

/** Anything that can run a transaction on one session (a `Connection`). */
export type TransactionRunner = Queryable & Pick<Connection, 'transaction'>;

/**
 * One transaction whose every lock wait is bounded by `lockTimeoutMs`; a timeout names whatever
 * `scope.target` says at that moment (callers move it along as they take further locks) and who
 * holds it.
 */
function inBoundedTransaction<T>(
  conn: TransactionRunner,
  scope: LockScope,
  lockTimeoutMs: number,
  ledgerSchema: string,
  fn: (tx: TransactionScope) => Promise<T>,
): Promise<T> {
  return withLockTimeout(
    conn,
    scope,
    lockTimeoutMs,
    () =>
      conn.transaction(async (tx) => {
        await setLocalLockTimeout(tx, lockTimeoutMs);
        return fn(tx);
      }),
    ledgerSchema,
  );
}

/** `inBoundedTransaction`, first taking the transaction-scoped advisory lock `key`. */
function inAdvisoryTransaction<T>(
  conn: TransactionRunner,
  scope: LockScope,
  key: AdvisoryKey,
  lockTimeoutMs: number,
  ledgerSchema: string,
  fn: (tx: TransactionScope) => Promise<T>,
): Promise<T> {
  return inBoundedTransaction(conn, scope, lockTimeoutMs, ledgerSchema, async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1::int4, $2::int4)', [key.namespace, key.key]);
    return fn(tx);
  });
}

export interface BeginRunOptions {
  runId: string;
  /** Bound on every lock wait, in ms; default 5000. */
  lockTimeoutMs?: number;
}

export interface BeginRunResult {
  runId: string;
  /** Schema holding the ledger (the admin session's `current_schema()`); workers need it. */
  ledgerSchema: string;
  /** Schemas of crashed runs that garbage collection dropped. */
  collected: string[];
  /** Backend pid of the admin session holding the run lock. */
  adminPid: number;
}

/**
 * Starts a run on `admin`, which MUST be a dedicated single-session connection (pool size 1,
 * sessions never reaped while idle) kept open for the whole run: the run's session advisory
 * lock lives on that session, and a run whose lock is free counts as crashed.
 *
 * Creates the ledger if missing (serialised by an advisory xact lock, so concurrent first runs
 * are safe), sets the session's application_name to `user-engine-live:<runId>`, takes the run
 * lock, then drops the schemas of crashed runs. Throws `RunLockUnavailableError` when the run id
 * is in use, `LockTimeoutError` when a lock wait exceeds `lockTimeoutMs`; on any failure after
 * the lock was taken the lock is released again.
 */
export async function beginRun(
  admin: Connection,
  options: BeginRunOptions,
): Promise<BeginRunResult> {
  const { runId } = options;
  assertRunId(runId);
  const lockTimeoutMs = lockTimeoutOption(options.lockTimeoutMs);
  await admin.query("SELECT set_config('application_name', $1, false)", [applicationName(runId)]);
  const ledgerSchema = await currentSchema(admin);
  await ensureLedger(admin, ledgerSchema, lockTimeoutMs);

  const key = runLockKey(runId);
  const { rows } = await admin.query<{ locked: boolean; pid: number }>(
    'SELECT pg_try_advisory_lock($1::int4, $2::int4) AS locked, pg_backend_pid() AS pid',
    [key.namespace, key.key],
  );
  if (rows[0]?.locked !== true) throw new RunLockUnavailableError(runId);
  const adminPid = Number(rows[0].pid);
  try {
    await assertRunLockOnSession(admin, runId, key, adminPid);
    const { runs } = await collectCrashedRuns(admin, {
      dryRun: false,
      lockTimeoutMs,
      ledgerSchema,
      exceptRunId: runId,
    });
    return { runId, ledgerSchema, collected: runs.flatMap((r) => r.schemas), adminPid };
  } catch (error) {
    await admin
      .query('SELECT pg_advisory_unlock($1::int4, $2::int4)', [key.namespace, key.key])
      .catch(() => undefined);
    throw error;
  }
}

/**
 * Catches an admin "connection" that is really a pool of several sessions: the next statement
 * must land on the session that took the lock, or the lock would be released behind our back.
 */
async function assertRunLockOnSession(
  admin: Queryable,
  runId: string,
  key: AdvisoryKey,
  adminPid: number,
): Promise<void> {
  const { rows } = await admin.query<{ pid: number; held: boolean }>(
    `SELECT pg_backend_pid() AS pid, EXISTS (
       SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2
         AND pid = pg_backend_pid() AND classid = $1::bigint::oid AND objid = $2::bigint::oid) AS held`,
    [key.namespace, key.key],
  );
  if (Number(rows[0]?.pid) !== adminPid || rows[0]?.held !== true) {
    throw new RunLockLostError(
      runId,
      'the admin connection answered from a session that does not hold the run lock; ' +
        'open it with a pool size of 1 and keep it open for the whole run',
    );
  }
}

/** Creates the ledger table unless present; safe when several runs start at once. */
export async function ensureLedger(
  admin: TransactionRunner,
  ledgerSchema: string,
  lockTimeoutMs: number,
): Promise<void> {
  if (await ledgerExists(admin, ledgerSchema)) {
    if (!(await ledgerCheckIsCurrent(admin, ledgerSchema)))
      await upgradeLedger(admin, ledgerSchema, lockTimeoutMs);
    return;
  }
  const key = ledgerLockKey(ledgerSchema);
  const scope: LockScope = { target: { kind: 'advisory', key, label: 'ledger creation' } };
  try {
    await inAdvisoryTransaction(admin, scope, key, lockTimeoutMs, ledgerSchema, async (tx) => {
      scope.target = ledgerTarget(ledgerSchema);
      await tx.query(ledgerDdl(ledgerSchema));
    });
  } catch (error) {
    // Belt and braces: another creator that did not take our advisory lock won the race.
    const state = sqlStateOf(error);
    if ((state === '42P07' || state === '23505') && (await ledgerExists(admin, ledgerSchema)))
      return;
    throw error;
  }
}

/**
 * Widens the `schema_name` CHECK of a ledger created by an earlier version (which knew no fresh
 * schemas), under the same advisory lock as ledger creation; a no-op when another run did it.
 */
async function upgradeLedger(
  admin: TransactionRunner,
  ledgerSchema: string,
  lockTimeoutMs: number,
): Promise<void> {
  const key = ledgerLockKey(ledgerSchema);
  const scope: LockScope = { target: { kind: 'advisory', key, label: 'ledger upgrade' } };
  await inAdvisoryTransaction(admin, scope, key, lockTimeoutMs, ledgerSchema, async (tx) => {
    if (await ledgerCheckIsCurrent(tx, ledgerSchema)) return;
    scope.target = ledgerTarget(ledgerSchema);
    await tx.query(upgradeLedgerDdl(ledgerSchema));
  });
}

export interface EnsureWorkerSchemaOptions {
  runId: string;
  /** Jest's `JEST_WORKER_ID`. */
  workerId: string | number;
  /** Host and process id of the worker, recorded in the ledger for humans. */
  host: string;
  pid: number;
  /**
   * Where the ledger lives (`BeginRunResult.ledgerSchema`, passed on through run state). When
   * omitted, the database's only `user_engine_live_ledger` table is used (error if several).
   */
  ledgerSchema?: string;
  lockTimeoutMs?: number;
}

/**
 * Creates the worker's schema `user_engine_live_<runId>_<workerId>` if needed and returns its
 * name. In one transaction, under an advisory xact lock for that schema: the ledger row is
 * inserted FIRST, then `CREATE SCHEMA IF NOT EXISTS`; so no schema of ours ever exists without
 * its ledger record. Idempotent (the ledger row is kept as first written). Needs a connection
 * that can run transactions; it does not need the ledger schema on its search_path.
 */
export async function ensureWorkerSchema(
  conn: TransactionRunner,
  options: EnsureWorkerSchemaOptions,
): Promise<string> {
  const schema = workerSchemaName(options.runId, options.workerId);
  await recordAndCreateSchema(conn, schema, options, false);
  return schema;
}

export interface CreateFreshSchemaOptions extends EnsureWorkerSchemaOptions {
  /** The first fresh number to try (1..999999); taken numbers are skipped. Default 1. */
  from?: number;
}

/** How many taken fresh numbers `createFreshSchema` steps over before it gives up. */
const FRESH_ATTEMPTS = 100;

/**
 * Creates a new, empty fresh schema `user_engine_live_<runId>_<workerId>_f<n>` for the worker and
 * returns it with its number: the first `n` from `options.from` whose name is not in the ledger
 * yet (a replaced worker process with the same worker id starts counting again). As for worker
 * schemas, the ledger row is inserted FIRST in the same transaction, so a crash leaves a record
 * that the run's end or garbage collection acts on. Never reuses an existing schema.
 */
export async function createFreshSchema(
  conn: TransactionRunner,
  options: CreateFreshSchemaOptions,
): Promise<{ schema: string; n: number }> {
  const from = options.from ?? 1;
  for (let n = from; n < from + FRESH_ATTEMPTS; n++) {
    const schema = freshSchemaName(options.runId, options.workerId, n);
    if (await recordAndCreateSchema(conn, schema, options, true)) return { schema, n };
  }
  throw new InvalidArgumentError(
    'from',
    `fresh schemas ${from}..${from + FRESH_ATTEMPTS - 1} of worker ${String(options.workerId)} are all taken`,
  );
}

/**
 * In one transaction, under an advisory xact lock for `schema`: inserts its ledger row, then
 * creates it. With `exclusive`, a schema already in the ledger is left alone and `false` is
 * returned; without, the call is idempotent (the row is kept as first written).
 */
async function recordAndCreateSchema(
  conn: TransactionRunner,
  schema: string,
  options: EnsureWorkerSchemaOptions,
  exclusive: boolean,
): Promise<boolean> {
  const { runId, host, pid } = options;
  // Everything after `<prefix><runId>_`: the worker id, plus `_f<n>` for a fresh schema (the
  // ledger's CHECK ties schema_name to run_id and this column).
  const workerId = schema.slice(RUN_SCHEMA_PREFIX.length + runId.length + 1);
  if (typeof host !== 'string') throw new InvalidArgumentError('host', 'expected a string');
  if (!Number.isSafeInteger(pid) || pid < 0 || pid > 2147483647) {
    throw new InvalidArgumentError('pid', `expected a process id, got ${String(pid)}`);
  }
  if (
    options.ledgerSchema !== undefined &&
    (typeof options.ledgerSchema !== 'string' || options.ledgerSchema === '')
  ) {
    throw new InvalidArgumentError('ledgerSchema', 'expected the schema holding the ledger');
  }
  const lockTimeoutMs = lockTimeoutOption(options.lockTimeoutMs);
  const ledgerSchema = options.ledgerSchema ?? (await findLedgerSchema(conn));
  const key = schemaLockKey(schema);
  const scope: LockScope = {
    target: { kind: 'advisory', key, label: `creation of schema ${quoteIdent(schema)}` },
  };
  return inAdvisoryTransaction(conn, scope, key, lockTimeoutMs, ledgerSchema, async (tx) => {
    scope.target = ledgerTarget(ledgerSchema);
    const inserted = await tx.query(
      `INSERT INTO ${qualifiedName(ledgerSchema, LEDGER_TABLE)}
             (schema_name, run_id, worker_id, host, pid) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (schema_name) DO NOTHING RETURNING schema_name`,
      [schema, runId, workerId, host, pid],
    );
    if (exclusive && inserted.rows.length === 0) return false;
    scope.target = { kind: 'schema', schema };
    await tx.query(`CREATE SCHEMA ${exclusive ? '' : 'IF NOT EXISTS '}${quoteIdent(schema)}`);
    return true;
  });
}

export interface DropFreshSchemaOptions {
  runId: string;
  /** A name from `createFreshSchema` of this run. */
  schema: string;
  /** As for `ensureWorkerSchema`. */
  ledgerSchema?: string;
  lockTimeoutMs?: number;
}

/**
 * Disposes of one fresh schema before the run ends: in one transaction, deletes its ledger row
 * and, only when that row existed and belongs to `runId`, drops the schema (CASCADE). Refuses any
 * name that is not a fresh schema of `runId`. Returns whether it dropped; a second call is a
 * no-op. Close the connections bound to the schema first.
 */
export async function dropFreshSchema(
  conn: TransactionRunner,
  options: DropFreshSchemaOptions,
): Promise<boolean> {
  const { runId, schema } = options;
  assertRunId(runId);
  if (!isFreshSchemaName(schema) || runIdOfSchema(schema) !== runId) {
    throw new InvalidArgumentError(
      'schema',
      `${JSON.stringify(String(schema))} is not a fresh schema of run ${runId}; refusing to drop it`,
    );
  }
  const lockTimeoutMs = lockTimeoutOption(options.lockTimeoutMs);
  const ledgerSchema = options.ledgerSchema ?? (await findLedgerSchema(conn));
  const scope: LockScope = { target: ledgerTarget(ledgerSchema) };
  return inBoundedTransaction(conn, scope, lockTimeoutMs, ledgerSchema, async (tx) => {
    const { rows } = await tx.query(
      `DELETE FROM ${qualifiedName(ledgerSchema, LEDGER_TABLE)}
           WHERE schema_name = $1 AND run_id = $2 RETURNING schema_name`,
      [schema, runId],
    );
    if (rows.length === 0) return false;
    scope.target = { kind: 'schema', schema };
    await tx.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
    return true;
  });
}

export interface EndRunOptions {
  runId: string;
  /**
   * Keep this run's schemas and ledger rows for inspection. The lock is still released, so the
   * next run's garbage collection (or the `gc` CLI) will drop them.
   */
  keepSchemas?: boolean;
  lockTimeoutMs?: number;
  /** Default: the admin session's `current_schema()`, as in `beginRun`. */
  ledgerSchema?: string;
}

/**
 * Ends a run on the same admin connection that began it: drops the run's ledger-listed schemas
 * (CASCADE) and deletes their rows in one transaction, unless `keepSchemas`; then releases the
 * run lock (always, also when dropping failed). Throws `RunLockLostError` when the lock was no
 * longer held by this session: the run was exposed to garbage collection by other runs.
 */
export async function endRun(
  admin: Connection,
  options: EndRunOptions,
): Promise<{ dropped: string[] }> {
  const { runId } = options;
  assertRunId(runId);
  const lockTimeoutMs = lockTimeoutOption(options.lockTimeoutMs);
  const key = runLockKey(runId);
  let dropped: string[] = [];
  let failure: unknown;
  try {
    const ledgerSchema = options.ledgerSchema ?? (await currentSchema(admin));
    if (!options.keepSchemas && (await ledgerExists(admin, ledgerSchema))) {
      const rows = await takeRunRows(admin, runId, ledgerSchema, lockTimeoutMs, false, false);
      dropped = (rows ?? []).map((r) => r.schemaName);
    }
  } catch (error) {
    failure = error;
  }
  let released = false;
  try {
    const { rows } = await admin.query<{ released: boolean }>(
      'SELECT pg_advisory_unlock($1::int4, $2::int4) AS released',
      [key.namespace, key.key],
    );
    released = rows[0]?.released === true;
  } catch (error) {
    failure ??= error;
  }
  if (failure !== undefined) throw failure;
  if (!released) {
    throw new RunLockLostError(
      runId,
      'its advisory lock was not held by the admin session at the end of the run (the session ' +
        'was replaced, or endRun ran on another connection than beginRun); other runs may have ' +
        'garbage-collected its schemas',
    );
  }
  return { dropped };
}

/**
 * In one transaction on `conn`: unless the caller holds the run lock (`requireFree` false),
 * try-locks it as an xact lock and returns `null` when the run is alive; then deletes (or, for
 * `dryRun`, reads) the run's ledger rows and drops the schemas they list.
 */
async function takeRunRows(
  conn: TransactionRunner,
  runId: string,
  ledgerSchema: string,
  lockTimeoutMs: number,
  requireFree: boolean,
  dryRun: boolean,
): Promise<LedgerRow[] | null> {
  const ledger = qualifiedName(ledgerSchema, LEDGER_TABLE);
  const scope: LockScope = { target: ledgerTarget(ledgerSchema) };
  return inBoundedTransaction(conn, scope, lockTimeoutMs, ledgerSchema, async (tx) => {
    if (requireFree) {
      const key = runLockKey(runId);
      // Try-lock, never wait: a held lock means the run is alive, which is the answer.
      const { rows } = await tx.query<{ free: boolean }>(
        'SELECT pg_try_advisory_xact_lock($1::int4, $2::int4) AS free',
        [key.namespace, key.key],
      );
      if (rows[0]?.free !== true) return null;
    }
    scope.target = ledgerTarget(ledgerSchema);
    const { rows } = dryRun
      ? await tx.query<LedgerRowRecord>(
          `SELECT ${LEDGER_COLUMNS} FROM ${ledger} WHERE run_id = $1 ORDER BY schema_name`,
          [runId],
        )
      : await tx.query<LedgerRowRecord>(
          `DELETE FROM ${ledger} WHERE run_id = $1 RETURNING ${LEDGER_COLUMNS}`,
          [runId],
        );
    const owned = rows.map(toLedgerRow).filter((r) => ownsSchema(runId, r.schemaName));
    owned.sort((a, b) => (a.schemaName < b.schemaName ? -1 : a.schemaName > b.schemaName ? 1 : 0));
    if (!dryRun) {
      for (const row of owned) {
        scope.target = { kind: 'schema', schema: row.schemaName };
        await tx.query(`DROP SCHEMA IF EXISTS ${quoteIdent(row.schemaName)} CASCADE`);
      }
    }
    return owned;
  });
}

/** The only test that lets a DROP through: a run schema name that embeds exactly this run id. */
function ownsSchema(runId: string, schema: string): boolean {
  return isRunSchemaName(schema) && runIdOfSchema(schema) === runId;
}

export interface CrashedRun {
  runId: string;
  /** The run's ledger-listed schemas (dropped unless `dryRun`). */
  schemas: string[];
  /** Host and pid of the run's first recorded worker. */
  host: string;
  pid: number;
  createdAt: Date;
}

export interface CollectOptions {
  /** Only report what would be collected; takes no lock for longer than a try. */
  dryRun?: boolean;
  lockTimeoutMs?: number;
  /** Default: `current_schema()` of `admin`. */
  ledgerSchema?: string;
  /** A run never to collect (the caller's own: its own session lock would not exclude it). */
  exceptRunId?: string;
}

/**
 * Garbage-collects crashed runs: for each run in the ledger whose run lock is free (its
 * `pg_try_advisory_xact_lock` succeeds, so no session holds it), drops its ledger-listed
 * schemas and deletes its rows, one transaction per run while holding its lock. Live runs and
 * anything not in the ledger are never touched. Works on a pooled connection.
 */
export async function collectCrashedRuns(
  admin: TransactionRunner,
  options: CollectOptions = {},
): Promise<{ runs: CrashedRun[] }> {
  const lockTimeoutMs = lockTimeoutOption(options.lockTimeoutMs);
  if (options.exceptRunId !== undefined) assertRunId(options.exceptRunId, 'exceptRunId');
  const ledgerSchema = options.ledgerSchema ?? (await currentSchema(admin));
  if (!(await ledgerExists(admin, ledgerSchema))) return { runs: [] };
  const scope: LockScope = { target: ledgerTarget(ledgerSchema) };
  const rows = await inBoundedTransaction(admin, scope, lockTimeoutMs, ledgerSchema, async (tx) => {
    const result = await tx.query<{ run_id: string }>(
      `SELECT DISTINCT run_id FROM ${qualifiedName(ledgerSchema, LEDGER_TABLE)} ORDER BY run_id`,
    );
    return result.rows;
  });
  const runs: CrashedRun[] = [];
  for (const { run_id: runId } of rows) {
    if (runId === options.exceptRunId) continue;
    const taken = await takeRunRows(
      admin,
      runId,
      ledgerSchema,
      lockTimeoutMs,
      true,
      options.dryRun === true,
    );
    if (taken === null || taken.length === 0) continue;
    const first = taken.reduce((a, b) => (b.createdAt < a.createdAt ? b : a));
    runs.push({
      runId,
      schemas: taken.map((r) => r.schemaName),
      host: first.host,
      pid: first.pid,
      createdAt: first.createdAt,
    });
  }
  return { runs };
}

export interface PlannedSchema {
  schema: string;
  runId: string;
  /** Whether the schema exists right now (a stale ledger row may outlive it). */
  exists: boolean;
  /** Tables inside it (for `drop`: everything; for `empty`: the managed tables present). */
  tables: string[];
  reason: string;
}

export interface LeftAlone {
  kind: 'schema' | 'table';
  /** Qualified, quoted name. */
  name: string;
  reason: string;
}

export interface PlannedRun {
  runId: string;
  live: boolean;
  host: string;
  pid: number;
  createdAt: Date;
  schemas: string[];
}

/** What cleanup would do right now; nothing here is acted upon. */
export interface ResetPlan {
  /** Qualified ledger table name, `null` when there is no ledger yet. */
  ledger: string | null;
  runs: PlannedRun[];
  /** Schemas the next run's GC (or `gc`) would drop: those of crashed runs. */
  drop: PlannedSchema[];
  /** Schemas of live runs, whose managed tables are emptied between test files. */
  empty: PlannedSchema[];
  /** `user_engine_*` objects no cleanup ever touches, and why. */
  leftAlone: LeftAlone[];
}

/**
 * A dry-run description for `doctor`: which schemas would be dropped or emptied, and which
 * `user_engine_*` tables / `user_engine_live_*` schemas are left alone and why. Read-only: run
 * liveness is read from `pg_locks`, no advisory lock is taken. Pass a transaction scope (as
 * `doctor` does) so that reading the ledger is bounded by `lockTimeoutMs`: it is set with
 * `set_config(..., true)`, which only lasts for the enclosing transaction.
 */
export async function planReset(
  admin: Queryable,
  options: { ledgerSchema?: string; lockTimeoutMs?: number } = {},
): Promise<ResetPlan> {
  const lockTimeoutMs = lockTimeoutOption(options.lockTimeoutMs);
  const ledgerSchema = options.ledgerSchema ?? (await currentSchema(admin));
  const hasLedger = await ledgerExists(admin, ledgerSchema);
  await setLocalLockTimeout(admin, lockTimeoutMs);
  const rows = hasLedger
    ? await withLockTimeout(
        admin,
        { target: ledgerTarget(ledgerSchema) },
        lockTimeoutMs,
        () => readLedger(admin, ledgerSchema),
        ledgerSchema,
      )
    : [];
  const listed = rows.filter((r) => ownsSchema(r.runId, r.schemaName));

  const { rows: tableRows } = await admin.query<{ nspname: string; relname: string }>(
    `SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
       AND NOT starts_with(n.nspname, 'pg_') AND n.nspname <> 'information_schema'
       AND (starts_with(c.relname, 'user_engine_') OR n.nspname = ANY($1::text[]))
     ORDER BY n.nspname, c.relname`,
    [listed.map((r) => r.schemaName)],
  );
  const { rows: schemaRows } = await admin.query<{ nspname: string }>(
    `SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1) ORDER BY nspname`,
    [RUN_SCHEMA_PREFIX],
  );
  const existing = new Set(schemaRows.map((r) => r.nspname));
  const tablesIn = (schema: string): string[] =>
    tableRows.filter((t) => t.nspname === schema).map((t) => t.relname);

  const byRun = new Map<string, typeof listed>();
  for (const row of listed) byRun.set(row.runId, [...(byRun.get(row.runId) ?? []), row]);
  const runs: PlannedRun[] = [];
  const drop: PlannedSchema[] = [];
  const empty: PlannedSchema[] = [];
  for (const [runId, runRows] of byRun) {
    const live = await isAdvisoryLockHeld(admin, runLockKey(runId));
    runs.push({
      runId,
      live,
      host: runRows[0].host,
      pid: runRows[0].pid,
      createdAt: runRows[0].createdAt,
      schemas: runRows.map((r) => r.schemaName),
    });
    for (const row of runRows) {
      const schema = row.schemaName;
      const exists = existing.has(schema);
      if (live) {
        const managed = tablesIn(schema).filter((t) =>
          (MANAGED_TABLES as readonly string[]).includes(t),
        );
        empty.push({
          schema,
          runId,
          exists,
          tables: managed,
          reason: `live run ${runId} (its lock is held): managed tables are emptied between test files, the schema is dropped when the run ends`,
        });
      } else {
        drop.push({
          schema,
          runId,
          exists,
          tables: tablesIn(schema),
          reason: `run ${runId} crashed (listed in the ledger, its lock is free)`,
        });
      }
    }
  }

  const listedNames = new Set(listed.map((r) => r.schemaName));
  const leftAlone: LeftAlone[] = [];
  if (hasLedger) {
    leftAlone.push({
      kind: 'table',
      name: qualifiedName(ledgerSchema, LEDGER_TABLE),
      reason: 'the ledger itself: runs delete their rows, the table stays',
    });
  }
  for (const { nspname } of schemaRows) {
    if (listedNames.has(nspname)) continue;
    leftAlone.push({
      kind: 'schema',
      name: quoteIdent(nspname),
      reason: isRunSchemaName(nspname)
        ? 'named like a run schema but not listed in the ledger (never created by a run here, or its row was removed by hand)'
        : 'not a run schema name (user_engine_live_<10 chars>_<worker>[_f<n>])',
    });
  }
  for (const t of tableRows) {
    if (listedNames.has(t.nspname)) continue;
    if (t.nspname === ledgerSchema && t.relname === LEDGER_TABLE) continue;
    leftAlone.push({
      kind: 'table',
      name: qualifiedName(t.nspname, t.relname),
      reason: 'not inside a ledger-listed run schema',
    });
  }
  return {
    ledger: hasLedger ? qualifiedName(ledgerSchema, LEDGER_TABLE) : null,
    runs,
    drop,
    empty,
    leftAlone,
  };
}
