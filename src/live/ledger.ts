/**
 * The ledger table and the advisory locks that make run liveness observable.
 *
 * - `user_engine_live_ledger` (in the admin session's `current_schema()`) lists every schema a
 *   run created, so a later run can clean up after a crash without guessing from names.
 * - A run is alive exactly while some session holds its run lock: a SESSION advisory lock in the
 *   two-int4 key space `(RUN_LOCK_NAMESPACE, fnv1a(runId))`. PostgreSQL keeps the two-int4 and
 *   the single-bigint advisory key spaces apart, so these can never collide with a bigint
 *   migration lock, and each kind of lock below has its own first key.
 * - Every lock wait is bounded by `lock_timeout`; a timeout becomes a `LockTimeoutError` naming
 *   the object and the session(s) holding it.
 */
import type { Queryable } from '../driver/port';
import { DatabaseError } from '../driver/errors';
import { LockTimeoutError, NoCurrentSchemaError, InvalidArgumentError } from './errors';
import type { LockHolder } from './errors';
import {
  RUN_SCHEMA_PATTERN,
  RUN_SCHEMA_PREFIX,
  qualifiedName,
  quoteIdent,
  runIdOfApplicationName,
} from './isolation';

export const LEDGER_TABLE = 'user_engine_live_ledger';
export const DEFAULT_LOCK_TIMEOUT_MS = 5000;

/** First keys of our two-int4 advisory locks: ASCII 'uelr', 'uell', 'uels' (positive int4). */
export const RUN_LOCK_NAMESPACE = 0x75656c72;
export const LEDGER_LOCK_NAMESPACE = 0x75656c6c;
export const SCHEMA_LOCK_NAMESPACE = 0x75656c73;

/** A two-int4 advisory lock key; both halves are non-negative so `pg_locks` shows them as-is. */
export interface AdvisoryKey {
  namespace: number;
  key: number;
}

/** 32-bit FNV-1a of the UTF-8 bytes, masked to 31 bits: stable across processes and servers. */
export function lockKeyOf(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash & 0x7fffffff;
}

/** The key of a run's session lock. */
export function runLockKey(runId: string): AdvisoryKey {
  return { namespace: RUN_LOCK_NAMESPACE, key: lockKeyOf(runId) };
}

/** Serialises creation of one worker schema (CREATE SCHEMA IF NOT EXISTS races otherwise). */
export function schemaLockKey(schema: string): AdvisoryKey {
  return { namespace: SCHEMA_LOCK_NAMESPACE, key: lockKeyOf(schema) };
}

/** Serialises creation of the ledger table in one schema. */
export function ledgerLockKey(ledgerSchema: string): AdvisoryKey {
  return { namespace: LEDGER_LOCK_NAMESPACE, key: lockKeyOf(ledgerSchema) };
}

/** What a statement may wait on, so a timeout can say which lock and who holds it. */
export type LockTarget =
  | { kind: 'table'; schema: string; table: string }
  | { kind: 'schema'; schema: string }
  | { kind: 'advisory'; key: AdvisoryKey; label: string };

export function ledgerTarget(ledgerSchema: string): LockTarget {
  return { kind: 'table', schema: ledgerSchema, table: LEDGER_TABLE };
}

export function describeLockTarget(target: LockTarget): string {
  switch (target.kind) {
    case 'table':
      return target.table === LEDGER_TABLE
        ? `the ledger table ${qualifiedName(target.schema, target.table)}`
        : `table ${qualifiedName(target.schema, target.table)}`;
    case 'schema':
      return `schema ${quoteIdent(target.schema)} (or a table in it)`;
    case 'advisory':
      return `${target.label} (advisory lock ${target.key.namespace},${target.key.key})`;
  }
}

/**
 * Mutable marker of what the statement in flight waits on. Set it before each statement that
 * can block; `withLockTimeout` reads it when a 55P03 arrives, after the transaction rolled back.
 */
export interface LockScope {
  target: LockTarget;
}

/** `SELECT set_config('lock_timeout', ...)` for the current transaction only. */
export async function setLocalLockTimeout(q: Queryable, lockTimeoutMs: number): Promise<void> {
  await q.query("SELECT set_config('lock_timeout', $1, true)", [`${lockTimeoutMs}ms`]);
}

/** Validates a lock timeout option (positive integer milliseconds); default 5000. */
export function lockTimeoutOption(value: number | undefined, field = 'lockTimeoutMs'): number {
  if (value === undefined) return DEFAULT_LOCK_TIMEOUT_MS;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidArgumentError(
      field,
      `expected a positive integer of milliseconds, got ${String(value)}`,
    );
  }
  return value;
}

/** The SQLSTATE of a driver error, if it is one. */
export function sqlStateOf(error: unknown): string | undefined {
  if (error instanceof DatabaseError) return error.sqlState;
  // Tolerate a second copy of the driver module (e.g. a linked checkout): duck-type the field.
  if (typeof error === 'object' && error !== null && 'sqlState' in error) {
    const state = (error as { sqlState: unknown }).sqlState;
    return typeof state === 'string' ? state : undefined;
  }
  return undefined;
}

/**
 * Runs `fn` (typically a whole `transaction(...)`); a lock timeout inside it becomes a
 * `LockTimeoutError` for `scope.target`, naming the sessions that held that lock. `diagnose`
 * must be usable after `fn` failed (the pool, or the same session after its ROLLBACK).
 */
export async function withLockTimeout<T>(
  diagnose: Queryable,
  scope: LockScope,
  lockTimeoutMs: number,
  fn: () => Promise<T>,
  ledgerSchema?: string,
): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (sqlStateOf(error) !== '55P03') throw error;
    const target = scope.target;
    const holders = await findLockHolders(diagnose, target, ledgerSchema).catch(
      (): LockHolder[] => [],
    );
    throw new LockTimeoutError(describeLockTarget(target), holders, lockTimeoutMs, {
      cause: error,
    });
  }
}

interface HolderRow {
  pid: number;
  application_name: string | null;
  state: string | null;
  mode: string;
}

const HOLDER_COLUMNS = `SELECT DISTINCT l.pid, a.application_name, a.state, l.mode
  FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
  WHERE l.granted AND l.pid IS NOT NULL AND l.pid <> pg_backend_pid()`;

/** Sessions currently holding a lock on `target` (granted, other than ours), from `pg_locks`. */
export async function findLockHolders(
  q: Queryable,
  target: LockTarget,
  ledgerSchema?: string,
): Promise<LockHolder[]> {
  let rows: HolderRow[];
  if (target.kind === 'table') {
    rows = (
      await q.query<HolderRow>(
        `${HOLDER_COLUMNS} AND l.locktype = 'relation' AND l.relation = to_regclass($1) ORDER BY l.pid`,
        [qualifiedName(target.schema, target.table)],
      )
    ).rows;
  } else if (target.kind === 'schema') {
    // DROP SCHEMA ... CASCADE locks the namespace object and every relation inside it.
    rows = (
      await q.query<HolderRow>(
        `${HOLDER_COLUMNS} AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND ((l.locktype = 'relation' AND l.relation IN (
                   SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE n.nspname = $1))
             OR (l.locktype = 'object' AND l.classid = 'pg_namespace'::regclass
                 AND l.objid = (SELECT oid FROM pg_namespace WHERE nspname = $1)))
         ORDER BY l.pid`,
        [target.schema],
      )
    ).rows;
  } else {
    rows = (
      await q.query<HolderRow>(
        `${HOLDER_COLUMNS} AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND l.locktype = 'advisory' AND l.objsubid = 2
           AND l.classid = $1::bigint::oid AND l.objid = $2::bigint::oid
         ORDER BY l.pid`,
        [target.key.namespace, target.key.key],
      )
    ).rows;
  }
  const holders: LockHolder[] = rows.map((r) => ({
    pid: Number(r.pid),
    applicationName: r.application_name ?? '',
    runId: runIdOfApplicationName(r.application_name),
    state: r.state,
    mode: r.mode,
  }));
  if (ledgerSchema) await addLedgerOrigins(q, holders, ledgerSchema);
  return holders;
}

/** Adds the host/pid the ledger recorded for each holder's run (best effort). */
async function addLedgerOrigins(
  q: Queryable,
  holders: LockHolder[],
  ledgerSchema: string,
): Promise<void> {
  const runIds = [...new Set(holders.map((h) => h.runId).filter((id): id is string => !!id))];
  if (runIds.length === 0 || !(await ledgerExists(q, ledgerSchema))) return;
  // Without a transaction we cannot bound this read by lock_timeout, so skip it whenever someone
  // holds the one lock mode a plain SELECT waits for: diagnosis must never hang.
  const blocked = await q.query<{ blocked: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'relation' AND granted
       AND mode = 'AccessExclusiveLock' AND relation = to_regclass($1)) AS blocked`,
    [qualifiedName(ledgerSchema, LEDGER_TABLE)],
  );
  if (blocked.rows[0]?.blocked !== false) return;
  const { rows } = await q
    .query<{ run_id: string; host: string; pid: number }>(
      `SELECT DISTINCT ON (run_id) run_id, host, pid FROM ${qualifiedName(ledgerSchema, LEDGER_TABLE)}
       WHERE run_id = ANY($1::text[]) ORDER BY run_id, created_at`,
      [runIds],
    )
    .catch(() => ({ rows: [] as { run_id: string; host: string; pid: number }[] }));
  for (const h of holders) {
    const origin = rows.find((r) => r.run_id === h.runId);
    if (origin) {
      h.host = origin.host;
      h.processId = Number(origin.pid);
    }
  }
}

/** `current_schema()` of the session; the ledger lives there. */
export async function currentSchema(q: Queryable): Promise<string> {
  const { rows } = await q.query<{ schema: string | null }>('SELECT current_schema() AS schema');
  const schema = rows[0]?.schema;
  if (!schema) throw new NoCurrentSchemaError();
  return schema;
}

/**
 * Where the ledger is, for callers that were not told (a worker whose search_path is its own
 * schema). Exactly one ledger table in the database is unambiguous; none or several is an error.
 */
export async function findLedgerSchema(q: Queryable): Promise<string> {
  const { rows } = await q.query<{ nspname: string }>(
    `SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relname = $1 AND c.relkind IN ('r', 'p') ORDER BY n.nspname`,
    [LEDGER_TABLE],
  );
  if (rows.length === 1) return rows[0].nspname;
  if (rows.length === 0) {
    throw new InvalidArgumentError(
      'ledgerSchema',
      `no ${LEDGER_TABLE} table in this database: the run was not begun here (beginRun creates it)`,
    );
  }
  throw new InvalidArgumentError(
    'ledgerSchema',
    `${LEDGER_TABLE} exists in several schemas (${rows.map((r) => quoteIdent(r.nspname)).join(', ')}); pass the run's ledgerSchema`,
  );
}

export async function ledgerExists(q: Queryable, ledgerSchema: string): Promise<boolean> {
  const { rows } = await q.query<{ present: boolean }>(
    'SELECT to_regclass($1) IS NOT NULL AS present',
    [qualifiedName(ledgerSchema, LEDGER_TABLE)],
  );
  return rows[0]?.present === true;
}

/**
 * Name of the ledger's CHECK on `schema_name` for the current `RUN_SCHEMA_PATTERN`. The name
 * carries the pattern's version: reading a constraint's text (`pg_get_constraintdef`) would wait
 * on a lock of the ledger table, reading its name from `pg_constraint` never does. Change the
 * pattern, bump the version.
 */
export const SCHEMA_NAME_CHECK = `${LEDGER_TABLE}_run_schema_v2`;
/** What earlier versions' inline CHECK on `schema_name` was called (generated by PostgreSQL). */
const OLD_SCHEMA_NAME_CHECK = `${LEDGER_TABLE}_schema_name_check`;

const SCHEMA_NAME_CHECK_SQL = `CHECK (schema_name ~ '${RUN_SCHEMA_PATTERN}')`;

/**
 * Whether the ledger's `schema_name` CHECK is the current one. Ledgers created before fresh
 * schemas (`_f<n>`) existed have a narrower one and need `upgradeLedgerDdl`. Catalog read only:
 * takes no lock on the ledger.
 */
export async function ledgerCheckIsCurrent(q: Queryable, ledgerSchema: string): Promise<boolean> {
  const { rows } = await q.query<{ current: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_constraint
       WHERE conrelid = to_regclass($1) AND conname = $2 AND contype = 'c') AS current`,
    [qualifiedName(ledgerSchema, LEDGER_TABLE), SCHEMA_NAME_CHECK],
  );
  return rows[0]?.current === true;
}

/** Replaces the `schema_name` CHECK of an older ledger by the current one (a superset). */
export function upgradeLedgerDdl(ledgerSchema: string): string {
  return `ALTER TABLE ${qualifiedName(ledgerSchema, LEDGER_TABLE)}
  DROP CONSTRAINT IF EXISTS ${quoteIdent(OLD_SCHEMA_NAME_CHECK)},
  ADD CONSTRAINT ${quoteIdent(SCHEMA_NAME_CHECK)} ${SCHEMA_NAME_CHECK_SQL}`;
}

/**
 * DDL of the ledger. The CHECKs tie every row to a well-formed run schema of its own run, so a
 * row can never point a later DROP at anything else.
 */
export function ledgerDdl(ledgerSchema: string): string {
  const prefix = RUN_SCHEMA_PREFIX;
  return `CREATE TABLE IF NOT EXISTS ${qualifiedName(ledgerSchema, LEDGER_TABLE)} (
  schema_name text PRIMARY KEY CONSTRAINT ${quoteIdent(SCHEMA_NAME_CHECK)} ${SCHEMA_NAME_CHECK_SQL},
  run_id text NOT NULL CHECK (run_id ~ '^[a-z0-9]{10}$'),
  worker_id text NOT NULL,
  host text NOT NULL,
  pid integer NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK (schema_name = '${prefix}' || run_id || '_' || worker_id)
)`;
}

/** One ledger row. */
export interface LedgerRow {
  schemaName: string;
  runId: string;
  workerId: string;
  host: string;
  pid: number;
  createdAt: Date;
}

export interface LedgerRowRecord {
  schema_name: string;
  run_id: string;
  worker_id: string;
  host: string;
  pid: number;
  created_at: Date | string;
}

export const LEDGER_COLUMNS = 'schema_name, run_id, worker_id, host, pid, created_at';

export function toLedgerRow(r: LedgerRowRecord): LedgerRow {
  return {
    schemaName: r.schema_name,
    runId: r.run_id,
    workerId: r.worker_id,
    host: r.host,
    pid: Number(r.pid),
    createdAt: r.created_at instanceof Date ? r.created_at : new Date(r.created_at),
  };
}

/** All ledger rows, oldest first; empty when the ledger does not exist. */
export async function readLedger(q: Queryable, ledgerSchema: string): Promise<LedgerRow[]> {
  if (!(await ledgerExists(q, ledgerSchema))) return [];
  const { rows } = await q.query<LedgerRowRecord>(
    `SELECT ${LEDGER_COLUMNS} FROM ${qualifiedName(ledgerSchema, LEDGER_TABLE)} ORDER BY created_at, schema_name`,
  );
  return rows.map(toLedgerRow);
}

/** Whether some session of this database holds `key` right now (read-only; takes no lock). */
export async function isAdvisoryLockHeld(q: Queryable, key: AdvisoryKey): Promise<boolean> {
  const { rows } = await q.query<{ held: boolean }>(
    `SELECT EXISTS (
       SELECT 1 FROM pg_locks
       WHERE locktype = 'advisory' AND granted AND objsubid = 2
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
         AND classid = $1::bigint::oid AND objid = $2::bigint::oid) AS held`,
    [key.namespace, key.key],
  );
  return rows[0]?.held === true;
}
