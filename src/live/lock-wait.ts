/**
 * Bounded lock waits. Every wait of the harness (ledger, run schemas, reset) runs under a
 * transaction-local `lock_timeout`; a timeout becomes a `LockTimeoutError` naming the object and
 * the session(s) holding it, with the host and pid the ledger recorded for their run.
 */
import type { Connection, Queryable, TransactionScope } from '../driver/port';
import { DatabaseError } from '../driver/errors';
import { InvalidArgumentError, LockTimeoutError } from './errors';
import type { LockHolder } from './errors';
import { qualifiedName, quoteIdent, runIdOfApplicationName } from './isolation';
import type { AdvisoryKey } from './lock-keys';
import { LEDGER_SCHEMA, RUNS_TABLE, SCHEMAS_TABLE } from './ledger';

export const DEFAULT_LOCK_TIMEOUT_MS = 5000;

/**
 * Anything that can run a transaction on one session (a `Connection`). `sessionSettings`: what
 * every statement of the pool already runs with (a `BoundConnection`'s); a pool opened with the
 * lock timeout as a session setting ({@link ledgerSessionSettings}) spares each bounded
 * transaction its own `set_config`.
 */
export type TransactionRunner = Queryable &
  Pick<Connection, 'transaction'> & {
    readonly sessionSettings?: Readonly<Record<string, string>>;
  };

/** What a statement may wait on, so a timeout can say which lock and who holds it. */
export type LockTarget =
  | { kind: 'table'; schema: string; table: string }
  | { kind: 'schema'; schema: string }
  | { kind: 'advisory'; key: AdvisoryKey; label: string };

/**
 * Mutable marker of what the statement in flight waits on. Set it before each statement that
 * can block; `withLockTimeout` reads it when a 55P03 arrives, after the transaction rolled back.
 * Several targets: one statement that may wait on any of them; a timeout names the first one
 * some other session holds (the first of all when none is held any more).
 */
export interface LockScope {
  target: LockTarget | readonly LockTarget[];
}

/** A table of the run ledger, as a lock target. */
export function ledgerTarget(table: typeof RUNS_TABLE | typeof SCHEMAS_TABLE): LockTarget {
  return { kind: 'table', schema: LEDGER_SCHEMA, table };
}

export function describeLockTarget(target: LockTarget): string {
  switch (target.kind) {
    case 'table':
      return target.schema === LEDGER_SCHEMA
        ? `the ledger table ${qualifiedName(target.schema, target.table)}`
        : `table ${qualifiedName(target.schema, target.table)}`;
    case 'schema':
      return `schema ${quoteIdent(target.schema)} (or a table in it)`;
    case 'advisory':
      return `${target.label} (advisory lock ${target.key.namespace},${target.key.key})`;
  }
}

/** The `lock_timeout` value of a bound in milliseconds, as the server reads it back. */
export function lockTimeoutSetting(lockTimeoutMs: number): string {
  return `${lockTimeoutMs}ms`;
}

/**
 * Whether every statement of `conn` already runs under this lock timeout: its pool carries it as
 * a session setting (startup packet on a direct session, `SET LOCAL` per transaction behind a
 * pooler, see driver/topology.ts), so no statement has to set it.
 */
function carriesLockTimeout(conn: TransactionRunner, lockTimeoutMs: number): boolean {
  return conn.sessionSettings?.lock_timeout === lockTimeoutSetting(lockTimeoutMs);
}

/** `SELECT set_config('lock_timeout', ...)` for the current transaction only. */
async function setLocalLockTimeout(q: Queryable, lockTimeoutMs: number): Promise<void> {
  await q.query("SELECT set_config('lock_timeout', $1, true)", [lockTimeoutSetting(lockTimeoutMs)]);
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

/** A lock wait's bound, and what a timeout names (callers move `scope.target` along). */
export interface LockBound {
  scope: LockScope;
  lockTimeoutMs: number;
}

/**
 * Runs `fn` (typically a whole `transaction(...)`); a lock timeout inside it becomes a
 * `LockTimeoutError` for `scope.target`, naming the sessions that held that lock. `diagnose`
 * must be usable after `fn` failed (the pool, or the same session after its ROLLBACK).
 */
export async function withLockTimeout<T>(
  diagnose: Queryable,
  { scope, lockTimeoutMs }: LockBound,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (sqlStateOf(error) !== '55P03') throw error;
    const targets: readonly LockTarget[] = Array.isArray(scope.target)
      ? scope.target
      : [scope.target];
    let named = { target: targets[0], holders: [] as LockHolder[] };
    for (const target of targets) {
      const holders = await findLockHolders(diagnose, target).catch((): LockHolder[] => []);
      if (holders.length > 0) {
        named = { target, holders };
        break;
      }
    }
    throw new LockTimeoutError(describeLockTarget(named.target), named.holders, lockTimeoutMs, {
      cause: error,
    });
  }
}

/**
 * One transaction whose every lock wait is bounded by `lockTimeoutMs`; a timeout names whatever
 * `scope.target` says at that moment (callers move it along as they take further locks).
 */
export function inBoundedTransaction<T>(
  conn: TransactionRunner,
  bound: LockBound,
  fn: (tx: TransactionScope) => Promise<T>,
): Promise<T> {
  const carried = carriesLockTimeout(conn, bound.lockTimeoutMs);
  return withLockTimeout(conn, bound, () =>
    conn.transaction(async (tx) => {
      if (!carried) await setLocalLockTimeout(tx, bound.lockTimeoutMs);
      return fn(tx);
    }),
  );
}

/**
 * `fn` sends ONE statement (atomic by itself), its lock waits bounded by `lockTimeoutMs`: straight
 * on the pool where the pool carries the lock timeout, else in a bounded transaction of its own.
 */
export function inBoundedStatement<T>(
  conn: TransactionRunner,
  bound: LockBound,
  fn: (q: Queryable) => Promise<T>,
): Promise<T> {
  if (!carriesLockTimeout(conn, bound.lockTimeoutMs)) return inBoundedTransaction(conn, bound, fn);
  return withLockTimeout(conn, bound, () => fn(conn));
}

/**
 * `inBoundedTransaction`, first taking the transaction-scoped advisory lock `key`. Where the pool
 * does not carry the lock timeout, the lock statement sets it first, in a subquery: a volatile
 * subquery is never flattened, so `set_config` runs before the outer row takes the lock.
 */
export function inAdvisoryTransaction<T>(
  conn: TransactionRunner,
  { key, ...bound }: LockBound & { key: AdvisoryKey },
  fn: (tx: TransactionScope) => Promise<T>,
): Promise<T> {
  const carried = carriesLockTimeout(conn, bound.lockTimeoutMs);
  return withLockTimeout(conn, bound, () =>
    conn.transaction(async (tx) => {
      if (carried)
        await tx.query('SELECT pg_advisory_xact_lock($1::int4, $2::int4)', [
          key.namespace,
          key.key,
        ]);
      else
        await tx.query(
          `SELECT pg_advisory_xact_lock($1::int4, $2::int4)
           FROM (SELECT set_config('lock_timeout', $3, true)) AS bound`,
          [key.namespace, key.key, lockTimeoutSetting(bound.lockTimeoutMs)],
        );
      return fn(tx);
    }),
  );
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

const THIS_DATABASE = `l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`;

/** Sessions currently holding a lock on `target` (granted, other than ours), from `pg_locks`. */
export async function findLockHolders(q: Queryable, target: LockTarget): Promise<LockHolder[]> {
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
        `${HOLDER_COLUMNS} AND ${THIS_DATABASE}
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
        `${HOLDER_COLUMNS} AND ${THIS_DATABASE}
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
  await addLedgerOrigins(q, holders);
  return holders;
}

/** Adds the host/pid the ledger recorded for each holder's run (best effort). */
async function addLedgerOrigins(q: Queryable, holders: LockHolder[]): Promise<void> {
  const runIds = [...new Set(holders.map((h) => h.runId).filter((id): id is string => !!id))];
  if (runIds.length === 0) return;
  const runs = qualifiedName(LEDGER_SCHEMA, RUNS_TABLE);
  // Without a transaction we cannot bound this read by lock_timeout, so skip it whenever someone
  // holds the one lock mode a plain SELECT waits for: diagnosis must never hang.
  const blocked = await q.query<{ blocked: boolean }>(
    `SELECT to_regclass($1) IS NULL OR EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'relation'
       AND granted AND mode = 'AccessExclusiveLock' AND relation = to_regclass($1)) AS blocked`,
    [runs],
  );
  if (blocked.rows[0]?.blocked !== false) return;
  const { rows } = await q
    .query<{ run_id: string; host: string; pid: number }>(
      `SELECT run_id, host, pid FROM ${runs} WHERE run_id = ANY($1::text[])`,
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
