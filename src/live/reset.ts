/**
 * Emptying a worker schema between test files. Only the managed tables (`MANAGED_TABLES`) of a
 * run schema are touched, always schema-qualified, so a provider's own `user_engine_*` tables
 * elsewhere (or other tables in the same schema) are out of reach.
 */
import type { Queryable } from '../driver/port';
import { MANAGED_TABLES } from '../store/contract';
import { InvalidArgumentError, RunLeaseLostError } from './errors';
import { isRunSchemaName, qualifiedName, quoteIdent, runIdOfSchema } from './isolation';
import { RUNS } from './ledger';
import { LEASE_LOST_SQLSTATE, describeLoss, leaseStatus } from './lease';
import { resetFunctionLockKey } from './lock-keys';
import { lockTimeoutOption, sqlStateOf, withLockTimeout } from './lock-wait';
import type { LockScope } from './lock-wait';

/**
 * Row count (over all managed tables) from which TRUNCATE beats DELETE. Measured on loopback
 * PostgreSQL 15: TRUNCATE of the three tables costs ~4-6 ms whatever their size (it swaps files),
 * DELETE ~0.1 ms when empty plus ~5 µs per row; they cross near 1,000 rows.
 */
export const TRUNCATE_THRESHOLD_ROWS = 1000;

/**
 * Total heap size (bytes, main forks of the managed tables) from which a reset TRUNCATEs even
 * with few live rows. DELETE leaves dead tuples, and without a VACUUM the free space map never
 * learns of the freed room, so tables written between DELETE resets keep growing and every later
 * probe and DELETE scans the dead pages again. 32 pages (256 kB) is far beyond what
 * `TRUNCATE_THRESHOLD_ROWS` live rows of ordinary test data occupy, so it only fires on bloat.
 */
export const TRUNCATE_THRESHOLD_BYTES = 262_144;

/** The reset function created inside each run schema (dropped with it). */
export const RESET_FUNCTION = 'user_engine_live_reset';

export interface ResetOptions {
  /** Bound on lock waits (e.g. a test left a transaction open on a table); default 5000 ms. */
  lockTimeoutMs?: number;
}

/**
 * Run schemas in which this connection has created or called the reset function. A hint only:
 * a stale entry (schema dropped and recreated) costs one failed call, then creation again.
 */
const functionReady = new WeakMap<Queryable, Set<string>>();

/** Notes that `conn` has just created the reset function in `schema` (./run-schemas). */
export function markResetFunctionReady(conn: Queryable, schema: string): void {
  let ready = functionReady.get(conn);
  if (!ready) {
    ready = new Set();
    functionReady.set(conn, ready);
  }
  ready.add(schema);
}

/**
 * Empties the managed tables inside run schema `schema`, choosing DELETE (cheap when nearly
 * empty) or TRUNCATE (cheap when large, or when DELETEs left the tables bloated):
 *
 * - usual case, one round trip: `SELECT "<schema>".user_engine_live_reset(<lock timeout>)`, a
 *   PL/pgSQL function with static statements whose plans each session caches;
 * - first reset of a schema on a connection (or the function is gone): one multi-statement text
 *   creates the function (CREATE OR REPLACE under an advisory transaction lock, so concurrent
 *   creators queue instead of failing) and calls it, still one round trip;
 * - when a managed table does not exist yet (schema not migrated), or the driver refuses
 *   multi-statement text, a `DO` block that checks each table does the same in one trip.
 *
 * Everything happens in one (implicit) transaction per trip: never half-emptied. Pass a
 * connection, not an open transaction scope (a failed fast path would abort that transaction).
 * Sequences are not restarted: outbox sequences only promise to increase. Refuses any schema
 * that is not a run schema name; a lock wait beyond `lockTimeoutMs` throws `LockTimeoutError`.
 */
export async function resetWorkerSchema(
  conn: Queryable,
  schema: string,
  options: ResetOptions = {},
): Promise<void> {
  if (!isRunSchemaName(schema)) {
    throw new InvalidArgumentError(
      'schema',
      `${JSON.stringify(String(schema))} is not a run schema (user_engine_live_<runId>_<workerId>); refusing to reset it`,
    );
  }
  const lockTimeoutMs = lockTimeoutOption(options.lockTimeoutMs);
  try {
    await resetOnce(conn, schema, lockTimeoutMs);
  } catch (error) {
    throw await asLeaseLoss(conn, schema, error);
  }
}

/**
 * A reset that failed because the run's lease is gone or expired (the reset statement checks it
 * and raises `LEASE_LOST_SQLSTATE`; or the schema itself was dropped by another run's garbage
 * collection) becomes `RunLeaseLostError`; anything else is returned unchanged.
 */
async function asLeaseLoss(conn: Queryable, schema: string, error: unknown): Promise<unknown> {
  const runId = runIdOfSchema(schema) ?? '';
  const state = sqlStateOf(error);
  if (state !== LEASE_LOST_SQLSTATE && state !== '3F000') return error;
  const status = await leaseStatus(conn, runId).catch(() => 'gone' as const);
  if (status === 'valid') return error;
  return new RunLeaseLostError(
    runId,
    `${describeLoss(status)}; noticed when resetting schema ${quoteIdent(schema)}`,
    {
      cause: error,
    },
  );
}

async function resetOnce(conn: Queryable, schema: string, lockTimeoutMs: number): Promise<void> {
  const scope: LockScope = { target: { kind: 'schema', schema } };
  await withLockTimeout(conn, { scope, lockTimeoutMs }, async () => {
    const ready = functionReady.get(conn);
    if (ready?.has(schema)) {
      try {
        await conn.query(callResetStatement(schema, lockTimeoutMs));
        return;
      } catch (error) {
        const state = sqlStateOf(error);
        // 42883: the function is gone; 3F000: so is the schema (recreated under the same name).
        if (state !== '42883' && state !== '3F000' && state !== '42P01') throw error;
        ready.delete(schema);
        if (state === '42P01') return fallback(conn, schema, lockTimeoutMs);
      }
    }
    try {
      await conn.query(createAndCallStatement(schema, lockTimeoutMs));
      markResetFunctionReady(conn, schema);
    } catch (error) {
      const state = sqlStateOf(error);
      // 42P01: a managed table is missing; 42601: multi-statement text refused by the driver.
      if (state !== '42P01' && state !== '42601') throw error;
      await fallback(conn, schema, lockTimeoutMs);
    }
  });
}

async function fallback(conn: Queryable, schema: string, lockTimeoutMs: number): Promise<void> {
  await conn.query(resetStatement(schema, lockTimeoutMs));
}

/** Children before parents, so row-by-row DELETE never trips a foreign key. */
function managedTables(schema: string): string[] {
  return [...MANAGED_TABLES].reverse().map((t) => qualifiedName(schema, t));
}

function checkStatementArgs(schema: string, lockTimeoutMs: number): void {
  if (!isRunSchemaName(schema)) throw new InvalidArgumentError('schema', 'not a run schema');
  if (!Number.isSafeInteger(lockTimeoutMs) || lockTimeoutMs <= 0) {
    throw new InvalidArgumentError('lockTimeoutMs', 'expected a positive integer');
  }
}

/**
 * PL/pgSQL that raises `LEASE_LOST_SQLSTATE` unless the lease of the schema's run is valid: one
 * primary-key lookup, so every reset notices a lost lease at the cost of microseconds.
 */
function leaseGuard(schema: string): string[] {
  const runId = runIdOfSchema(schema) ?? '';
  return [
    `  IF NOT EXISTS (SELECT 1 FROM ${RUNS} WHERE run_id = '${runId}' AND lease_expires_at > now()) THEN`,
    `    RAISE EXCEPTION 'run ${runId} lost its lease in the run ledger' USING ERRCODE = '${LEASE_LOST_SQLSTATE}';`,
    '  END IF;',
  ];
}

/**
 * Transaction-local settings of every reset: bounded lock waits, and no wait for the WAL flush
 * at commit (~1 ms here when rows were deleted). Losing a reset in a server crash is harmless:
 * the run schema is garbage then anyway.
 */
function sessionSettings(lockTimeoutMs: number): string {
  return `SELECT set_config('lock_timeout', '${lockTimeoutMs}ms', true), set_config('synchronous_commit', 'off', true)`;
}

/**
 * `CREATE OR REPLACE FUNCTION "<schema>".user_engine_live_reset(lock_timeout_ms int)`: static,
 * schema-qualified statements only (no dynamic SQL), so each session plans them once. It sets
 * the transaction-local settings, then TRUNCATEs when the heaps exceed `TRUNCATE_THRESHOLD_BYTES`
 * (dead tuples piling up; checked first so a bloated table is not scanned) or hold at least
 * `TRUNCATE_THRESHOLD_ROWS` rows, and DELETEs otherwise. Returns 'delete' or 'truncate'. A missing
 * managed table surfaces as 42P01 when it runs (creation does not resolve table names).
 */
export function resetFunctionStatement(schema: string): string {
  if (!isRunSchemaName(schema)) throw new InvalidArgumentError('schema', 'not a run schema');
  const tables = managedTables(schema);
  const limit = TRUNCATE_THRESHOLD_ROWS;
  // One count over a UNION ALL: a third of the server time of one count subquery per table.
  const rows = [
    '(SELECT count(*) FROM (',
    ...tables.map((t, i) => `${i > 0 ? 'UNION ALL ' : ''}SELECT 1 FROM ${t}`),
    `LIMIT ${limit}) s)`,
  ].join(' ');
  // SQL string literals cast to regclass: no `'` can occur in a quoted run schema name.
  const list = tables.map((t) => `'${t}'`).join(', ');
  return [
    `CREATE OR REPLACE FUNCTION ${qualifiedName(schema, RESET_FUNCTION)}(lock_timeout_ms integer)`,
    `RETURNS text LANGUAGE plpgsql VOLATILE AS $user_engine_reset$`,
    'DECLARE',
    '  n bigint;',
    'BEGIN',
    ...leaseGuard(schema),
    `  PERFORM set_config('lock_timeout', lock_timeout_ms || 'ms', true),`,
    `    set_config('synchronous_commit', 'off', true);`,
    `  SELECT sum(pg_relation_size(r)) FROM unnest(ARRAY[${list}]::regclass[]) r INTO n;`,
    `  IF n < ${TRUNCATE_THRESHOLD_BYTES} THEN`,
    `    SELECT ${rows} INTO n;`,
    `    IF n < ${limit} THEN`,
    ...tables.map((t) => `      DELETE FROM ${t};`),
    `      RETURN 'delete';`,
    '    END IF;',
    '  END IF;',
    `  TRUNCATE ${managedTables(schema).join(', ')};`,
    `  RETURN 'truncate';`,
    'END',
    '$user_engine_reset$',
  ].join('\n');
}

/** The usual reset: one call of the schema's reset function (see `resetFunctionStatement`). */
export function callResetStatement(schema: string, lockTimeoutMs: number): string {
  checkStatementArgs(schema, lockTimeoutMs);
  return `SELECT ${qualifiedName(schema, RESET_FUNCTION)}(${lockTimeoutMs}) AS emptied_by`;
}

/**
 * One multi-statement text (one implicit transaction): the settings and an advisory transaction
 * lock per schema in one statement (two concurrent CREATE OR REPLACE of one function fail with "tuple concurrently
 * updated" or a unique violation; queued, the second one just replaces), creation, then the call.
 */
export function createAndCallStatement(schema: string, lockTimeoutMs: number): string {
  checkStatementArgs(schema, lockTimeoutMs);
  const key = resetFunctionLockKey(schema);
  return [
    // The settings in a subquery: never flattened (volatile), so they hold before the lock wait.
    `SELECT pg_advisory_xact_lock(${key.namespace}, ${key.key}) FROM (${sessionSettings(lockTimeoutMs)}) AS settings`,
    resetFunctionStatement(schema),
    callResetStatement(schema, lockTimeoutMs),
  ].join(';\n');
}

/**
 * The fallback `DO` block, one statement: skips managed tables that do not exist, then counts,
 * DELETEs or TRUNCATEs like the fast path. A DO block takes no parameters, so everything in it is
 * a quoted identifier of a name that passed `isRunSchemaName` or a number we produced.
 */
export function resetStatement(schema: string, lockTimeoutMs: number): string {
  checkStatementArgs(schema, lockTimeoutMs);
  const tables = managedTables(schema);
  // The names are SQL string literals inside the block: no `'` can occur in a quoted run schema
  // name (checked above), so plain quoting is exact.
  const list = tables.map((t) => `'${t}'`).join(', ');
  return `DO $user_engine_reset$
DECLARE
  t text;
  present text[] := ARRAY[]::text[];
  budget bigint := ${TRUNCATE_THRESHOLD_ROWS};
  n bigint;
BEGIN
${leaseGuard(schema).join('\n')}
  PERFORM set_config('lock_timeout', '${lockTimeoutMs}ms', true);
  PERFORM set_config('synchronous_commit', 'off', true);
  FOREACH t IN ARRAY ARRAY[${list}] LOOP
    IF to_regclass(t) IS NOT NULL THEN
      present := present || t;
      IF budget > 0 THEN
        EXECUTE 'SELECT count(*) FROM (SELECT 1 FROM ' || t || ' LIMIT ' || budget || ') s' INTO n;
        budget := budget - n;
      END IF;
    END IF;
  END LOOP;
  IF cardinality(present) = 0 THEN
    RETURN;
  ELSIF budget <= 0 THEN
    EXECUTE 'TRUNCATE ' || array_to_string(present, ', ');
  ELSE
    FOREACH t IN ARRAY present LOOP
      EXECUTE 'DELETE FROM ' || t;
    END LOOP;
  END IF;
END
$user_engine_reset$`;
}
