/**
 * Emptying a worker schema between test files. Only the managed tables (`MANAGED_TABLES`) of a
 * run schema are touched, always schema-qualified, so a provider's own `user_engine_*` tables
 * elsewhere (or other tables in the same schema) are out of reach.
 */
import type { Queryable } from '../driver/port';
import { MANAGED_TABLES } from '../store/contract';
import { InvalidArgumentError } from './errors';
import { isRunSchemaName, qualifiedName } from './isolation';
import { lockTimeoutOption, sqlStateOf, withLockTimeout } from './ledger';
import type { LockScope } from './ledger';

/**
 * Row count (over all managed tables) from which TRUNCATE beats DELETE. Measured on loopback
 * PostgreSQL 15: TRUNCATE of the three tables costs ~4-6 ms whatever their size (it swaps files),
 * DELETE ~0.1 ms when empty plus ~5 µs per row; they cross near 1,000 rows.
 */
export const TRUNCATE_THRESHOLD_ROWS = 1000;

export interface ResetOptions {
  /** Bound on lock waits (e.g. a test left a transaction open on a table); default 5000 ms. */
  lockTimeoutMs?: number;
}

/**
 * Empties the managed tables inside run schema `schema`, choosing DELETE (cheap when nearly
 * empty) or TRUNCATE (cheap when large) by counting rows up to `TRUNCATE_THRESHOLD_ROWS`:
 *
 * - usual case, one round trip: a multi-statement text counts and DELETEs, gated on the count;
 * - at or above the threshold, a second round trip TRUNCATEs (the first deleted nothing);
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
  const scope: LockScope = { target: { kind: 'schema', schema } };
  await withLockTimeout(conn, scope, lockTimeoutMs, async () => {
    let small: boolean;
    try {
      const { rows } = await conn.query<{ small: boolean | string }>(
        gatedDeleteStatement(schema, lockTimeoutMs),
      );
      small = rows[0]?.small === true || rows[0]?.small === 't' || rows[0]?.small === 'true';
    } catch (error) {
      const state = sqlStateOf(error);
      // 42P01: a managed table is missing; 42601: multi-statement text refused by the driver.
      if (state !== '42P01' && state !== '42601') throw error;
      await conn.query(resetStatement(schema, lockTimeoutMs));
      return;
    }
    if (!small) await conn.query(truncateStatement(schema, lockTimeoutMs));
  });
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
 * Transaction-local settings of every reset: bounded lock waits, and no wait for the WAL flush
 * at commit (~1 ms here when rows were deleted). Losing a reset in a server crash is harmless:
 * the run schema is garbage then anyway.
 */
function sessionSettings(lockTimeoutMs: number): string {
  return `SELECT set_config('lock_timeout', '${lockTimeoutMs}ms', true), set_config('synchronous_commit', 'off', true)`;
}

/** Transaction-local flag shared by the statements of one text (custom GUCs need a dot). */
const SMALL_FLAG = 'user_engine_live.reset_small';

/**
 * One multi-statement text (simple query protocol, run as one implicit transaction): sets the
 * lock timeout, counts rows up to the threshold into a transaction-local flag, DELETEs gated on
 * that flag (a one-time filter: nothing is scanned when it is false) and returns the flag.
 * Only quoted identifiers of a checked run schema and numbers we produced are in the text.
 */
export function gatedDeleteStatement(schema: string, lockTimeoutMs: number): string {
  checkStatementArgs(schema, lockTimeoutMs);
  const tables = managedTables(schema);
  const limit = TRUNCATE_THRESHOLD_ROWS;
  const rows = tables
    .map((t) => `(SELECT count(*) FROM (SELECT 1 FROM ${t} LIMIT ${limit}) s)`)
    .join(' + ');
  return [
    sessionSettings(lockTimeoutMs),
    `SELECT set_config('${SMALL_FLAG}', ((${rows}) < ${limit})::text, true)`,
    ...tables.map((t) => `DELETE FROM ${t} WHERE current_setting('${SMALL_FLAG}')::boolean`),
    `SELECT current_setting('${SMALL_FLAG}')::boolean AS small`,
  ].join(';\n');
}

/** TRUNCATE of all managed tables (FKs among them allow it only all at once). */
export function truncateStatement(schema: string, lockTimeoutMs: number): string {
  checkStatementArgs(schema, lockTimeoutMs);
  return [sessionSettings(lockTimeoutMs), `TRUNCATE ${managedTables(schema).join(', ')}`].join(
    ';\n',
  );
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
