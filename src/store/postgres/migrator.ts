/**
 * Readiness and migration over the driver port, in the store's resolved schema (never the
 * session's search_path). Readiness only reads (to_regclass, never a CREATE), so asking a fresh
 * schema leaves it untouched; migrate() applies each pending migration in its own transaction
 * under a per-schema transaction-level advisory lock, re-reading the ledger once the lock is held.
 * Nothing here outlives a transaction (no SET, no session lock, no temporary table), so it works
 * through a transaction-mode pooler.
 */
import { DatabaseError } from '../../driver/errors';
import type { Queryable } from '../../driver/port';
import type { MigrateResult, Readiness } from '../contract';
import { TARGET_VERSION } from '../migrations';
import { MigrationStateError, UnsupportedServerVersionError } from './errors';
import {
  LEDGER_TABLE,
  MIGRATION_LOCK,
  MIGRATION_LOCK_CALL,
  MIN_SERVER_VERSION_NUM,
  POSTGRES_MIGRATIONS,
  TABLE_OF_MIGRATION,
} from './schema';
import type { StoreStatements } from './statements';

interface LedgerRow {
  version: number;
  name: string;
  checksum: string;
}

const TABLES = [LEDGER_TABLE, ...Object.values(TABLE_OF_MIGRATION)];

/**
 * One row: for each of our tables, whether it exists in schema `$1`, and what migrating needs to
 * know about the server and the schema (read together: one statement fewer before a migration).
 * The schema is a parameter, so the text is one constant for every schema; to_regclass returns
 * NULL (no error) when the schema itself is missing.
 */
const TABLES_PRESENT = `SELECT ${TABLES.map((t) => `to_regclass(format('%I.%I', $1::text, '${t}')) IS NOT NULL AS ${t}`).join(', ')},
  current_setting('server_version_num')::int AS version_num,
  current_setting('server_version') AS version,
  EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1::text) AS schema_exists`;

interface ServerInfo {
  version_num: number;
  version: string;
  schema_exists: boolean;
}

type Presence = Record<string, boolean> & ServerInfo;

const short = (checksum: string) => checksum.slice(0, 12);

export async function readiness(q: Queryable, sql: StoreStatements): Promise<Readiness> {
  return readinessOf(q, sql, await readPresence(q, sql));
}

async function readPresence(q: Queryable, sql: StoreStatements): Promise<Presence> {
  return (await q.query<Presence>(TABLES_PRESENT, [sql.schema])).rows[0];
}

async function readinessOf(
  q: Queryable,
  sql: StoreStatements,
  present: Presence,
): Promise<Readiness> {
  const ledger = present[LEDGER_TABLE]
    ? (await q.query<LedgerRow>(sql.readLedger)).rows.map((row) => ({
        ...row,
        version: Number(row.version),
      }))
    : [];
  const problems: string[] = [];
  const applied = new Set<number>();
  for (const row of ledger) {
    const migration = POSTGRES_MIGRATIONS.find((m) => m.version === row.version);
    if (migration === undefined) {
      problems.push(
        `migration version ${row.version} (${row.name}) is recorded as applied but this code does not know it: was the schema migrated by a newer release?`,
      );
      continue;
    }
    applied.add(row.version);
    if (row.checksum !== migration.checksum)
      problems.push(
        `migration ${migration.id} was applied with checksum ${short(row.checksum)}… but this code's is ${short(migration.checksum)}…: its SQL changed after it was applied`,
      );
  }
  for (const migration of POSTGRES_MIGRATIONS) {
    const table = TABLE_OF_MIGRATION[migration.version];
    if (applied.has(migration.version) && !present[table])
      problems.push(
        `table ${table} is missing although migration ${migration.id} is recorded as applied`,
      );
    if (!applied.has(migration.version) && present[table])
      problems.push(
        `table ${table} exists although migration ${migration.id} is not recorded as applied`,
      );
  }
  const pending = POSTGRES_MIGRATIONS.filter((m) => !applied.has(m.version)).map((m) => m.id);
  return {
    ready: pending.length === 0 && problems.length === 0,
    currentVersion: ledger.reduce((max, row) => Math.max(max, row.version), 0),
    targetVersion: TARGET_VERSION,
    pending,
    problems,
  };
}

/** Runs `fn` in one transaction: the root store's own, or in place inside a caller's. */
export type TransactionRunner = <T>(fn: (q: Queryable) => Promise<T>) => Promise<T>;

/** The migrations create tables, never the schema: its owner and privileges are the caller's. */
function checkServer(info: ServerInfo, schema: string): void {
  if (Number(info.version_num) < MIN_SERVER_VERSION_NUM)
    throw new UnsupportedServerVersionError(info.version);
  if (!info.schema_exists)
    throw new DatabaseError(
      '3F000',
      `no schema to migrate into: schema ${JSON.stringify(schema)} does not exist; create it (CREATE SCHEMA) or give the store another \`schema\``,
    );
}

/** Raised by the one-trip text when another process recorded a migration first. */
const MIGRATED_MEANWHILE = 'UEM01';

/**
 * Every migration of a schema that has none yet, as one multi-statement text: one round trip and
 * one implicit transaction. The same lock as the step-by-step path; once it is held, a ledger that
 * is no longer empty (another process migrated meanwhile) raises `MIGRATED_MEANWHILE` and the
 * whole text rolls back. Values are our own constants and the schema name, all quoted literals.
 */
export function migrateAllStatement(sql: StoreStatements): string {
  const literal = (text: string) => `'${text.replace(/'/g, "''")}'`;
  const rows = POSTGRES_MIGRATIONS.map(
    (m) => `(${m.version}, ${literal(m.name)}, ${literal(m.checksum)})`,
  ).join(', ');
  // The lock and the guard in one block. PL/pgSQL plans a statement when it first runs it, so the
  // inner IF over the ledger is never planned while the ledger does not exist.
  const lockAndGuard = [
    'DO $user_engine_migrate$ BEGIN',
    `  PERFORM ${MIGRATION_LOCK_CALL.replace('$1', literal(sql.schema))};`,
    `  IF to_regclass(${literal(sql.ledger)}) IS NOT NULL THEN`,
    `    IF EXISTS (SELECT 1 FROM ${sql.ledger}) THEN RAISE EXCEPTION 'migrated by another process meanwhile' USING ERRCODE = '${MIGRATED_MEANWHILE}'; END IF;`,
    '  END IF;',
    'END $user_engine_migrate$',
  ].join('\n');
  return [
    lockAndGuard,
    sql.createLedger,
    ...POSTGRES_MIGRATIONS.flatMap((m) => m.statementsIn(sql.schema)),
    `INSERT INTO ${sql.ledger} (version, name, checksum) VALUES ${rows}`,
  ].join(';\n');
}

/**
 * Migrates a schema with none of our tables in one round trip; false when it must go step by
 * step instead (another process migrated meanwhile, or the driver refuses multi-statement text).
 */
async function migrateAllAtOnce(q: Queryable, sql: StoreStatements): Promise<boolean> {
  try {
    await q.query(migrateAllStatement(sql));
    return true;
  } catch (error) {
    const state = error instanceof DatabaseError ? error.sqlState : undefined;
    if (state === MIGRATED_MEANWHILE || state === '42601') return false;
    throw error;
  }
}

/**
 * `q` outside a transaction (`atOnce`): a schema with none of our tables is migrated in one round
 * trip; otherwise, and inside a caller's transaction, each pending migration runs in its own
 * transaction (or in place) under the lock, re-reading the ledger once the lock is held.
 */
export async function migrate(
  q: Queryable,
  sql: StoreStatements,
  inTransaction: TransactionRunner,
  atOnce = false,
): Promise<MigrateResult> {
  const present = await readPresence(q, sql);
  const state = await readinessOf(q, sql, present);
  if (state.ready) return { applied: [] };
  checkServer(present, sql.schema);
  const empty = state.currentVersion === 0 && state.problems.length === 0;
  if (atOnce && empty && state.pending.length === POSTGRES_MIGRATIONS.length) {
    if (await migrateAllAtOnce(q, sql)) return { applied: [...state.pending] };
  }
  const applied: string[] = [];
  for (const migration of POSTGRES_MIGRATIONS) {
    const ran = await inTransaction(async (tx) => {
      await tx.query(MIGRATION_LOCK, [sql.schema]);
      await tx.query(sql.createLedger);
      // Another process may have migrated while this one waited for the lock.
      const state = await readiness(tx, sql);
      if (state.problems.length > 0) throw new MigrationStateError(state.problems);
      if (!state.pending.includes(migration.id)) return false;
      for (const statement of migration.statementsIn(sql.schema)) await tx.query(statement);
      await tx.query(sql.recordMigration, [migration.version, migration.name, migration.checksum]);
      return true;
    });
    if (ran) applied.push(migration.id);
  }
  return { applied };
}
