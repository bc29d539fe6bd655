/**
 * Cleaning up after runs: the end of one's own run, and garbage collection of crashed runs (lease
 * expired for at least the grace period). Both go through `collectRun`, one transaction per run,
 * holding the run's row lock (which renewal and schema creation respect), and drop only schemas
 * the ledger lists for that run, never into objects outside them (./schema-drop). Runs of other
 * roles that the current role cannot clean up are reported, never failed on.
 */
import type { Queryable } from '../driver/port';
import { assertRunId, isRunSchemaName, quoteIdent, runIdOfSchema } from './isolation';
import { LEDGER_COLUMNS, RUNS, SCHEMAS, toDate, toLedgerRow } from './ledger';
import type { LedgerRowRecord, RunRowRecord } from './ledger';
import {
  inBoundedTransaction,
  ledgerTarget,
  lockTimeoutOption,
  type LockScope,
  type TransactionRunner,
} from './lock-wait';
import { dropRunSchema, findForeignDependents } from './schema-drop';
import { DEFAULT_LEASE_MS } from './lease';

export interface KeptSchema {
  schema: string;
  /** Objects outside the schema that depend on it. */
  dependents: string[];
}

/** A crashed run of another role, which the current role may not clean up. */
export interface SkippedRun {
  runId: string;
  /** The role that ran it. */
  owner: string;
  /** Its schemas, each with the role owning it. */
  schemas: { schema: string; owner: string }[];
}

export interface CrashedRun {
  runId: string;
  owner: string;
  host: string;
  pid: number;
  createdAt: Date;
  /** Schemas dropped (or, for a dry run, that would be dropped). */
  schemas: string[];
  /** Schemas left because objects outside them depend on them (their ledger rows stay). */
  kept: KeptSchema[];
}

export type RunCollection =
  | { kind: 'collected'; run: CrashedRun }
  | { kind: 'skipped'; run: SkippedRun }
  /** Alive (lease valid or within the grace), or being collected by someone else right now. */
  | { kind: 'alive' };

export interface CollectRunOptions {
  runId: string;
  /** Only say what would happen; takes no lock, changes nothing. */
  dryRun?: boolean;
  /** Collect only when the lease expired at least this long ago (database clock). */
  graceMs: number;
  lockTimeoutMs?: number;
}

interface RunRecord extends RunRowRecord {
  expired: boolean;
  may_act: boolean;
}

/**
 * Whether the current role may change another role's ledger rows: its own, or it bypasses
 * row-level security (superuser, BYPASSRLS, owner of the ledger).
 */
const MAY_ACT = `(owner = current_user
  OR EXISTS (SELECT 1 FROM pg_roles WHERE rolname = current_user AND (rolsuper OR rolbypassrls))
  OR pg_has_role((SELECT relowner FROM pg_class WHERE oid = '${RUNS}'::regclass), 'USAGE'))`;

async function readRun(
  tx: Queryable,
  { runId, graceMs, lock }: { runId: string; graceMs: number; lock: 'no-lock' | 'lock' },
) {
  const { rows } = await tx.query<RunRecord>(
    `SELECT run_id, owner, host, pid, started_at, ${MAY_ACT} AS may_act,
            lease_expires_at < now() - $2::int * interval '1 millisecond' AS expired
     FROM ${RUNS} WHERE run_id = $1${lock === 'lock' ? ' FOR UPDATE SKIP LOCKED' : ''}`,
    [runId, graceMs],
  );
  return rows[0];
}

/** Collects one run (see the module comment); the row lock spans every drop. */
export async function collectRun(
  conn: TransactionRunner,
  options: CollectRunOptions,
): Promise<RunCollection> {
  const { runId, graceMs } = options;
  assertRunId(runId);
  const lockTimeoutMs = lockTimeoutOption(options.lockTimeoutMs);
  const dryRun = options.dryRun === true;
  const scope: LockScope = { target: ledgerTarget('runs') };
  return inBoundedTransaction(conn, { scope, lockTimeoutMs }, async (tx) => {
    const seen = await readRun(tx, { runId, graceMs, lock: 'no-lock' });
    if (seen && !seen.expired) return { kind: 'alive' };
    const { rows } = await tx.query<LedgerRowRecord & { may_act: boolean }>(
      `SELECT ${LEDGER_COLUMNS}, ${MAY_ACT} AS may_act FROM ${SCHEMAS} WHERE run_id = $1 ORDER BY schema_name`,
      [runId],
    );
    const listed = rows.filter(
      (r) => isRunSchemaName(r.schema_name) && runIdOfSchema(r.schema_name) === runId,
    );
    const owner = seen?.owner ?? listed[0]?.owner ?? '';
    if (!seen && listed.length === 0) return { kind: 'alive' };
    const owners = await schemaOwners(
      tx,
      listed.map((r) => r.schema_name),
    );
    const foreign =
      (seen !== undefined && !seen.may_act) ||
      listed.some((r) => !r.may_act || owners.get(r.schema_name)?.mine === false);
    if (foreign) {
      return {
        kind: 'skipped',
        run: {
          runId,
          owner,
          schemas: listed.map((r) => ({
            schema: r.schema_name,
            owner: owners.get(r.schema_name)?.owner ?? r.owner,
          })),
        },
      };
    }
    if (!dryRun && seen && !(await readRun(tx, { runId, graceMs, lock: 'lock' }))) {
      return { kind: 'alive' }; // someone else holds the row: they are collecting it
    }
    const first = listed[0] ? toLedgerRow(listed[0]) : undefined;
    const run: CrashedRun = {
      runId,
      owner,
      host: seen?.host ?? first?.host ?? '',
      pid: Number(seen?.pid ?? first?.pid ?? 0),
      createdAt: seen ? toDate(seen.started_at) : (first?.createdAt ?? new Date(0)),
      schemas: [],
      kept: [],
    };
    for (const row of listed) {
      const schema = row.schema_name;
      scope.target = { kind: 'schema', schema };
      const dependents = dryRun ? await findForeignDependents(tx, schema) : [];
      const outcome = dryRun
        ? dependents.length > 0
          ? { kind: 'kept' as const, dependents }
          : { kind: 'dropped' as const }
        : await dropRunSchema(tx, schema);
      if (outcome.kind === 'kept') {
        run.kept.push({ schema, dependents: outcome.dependents });
        continue;
      }
      if (outcome.kind === 'foreign-owner') continue; // excluded above; a race at worst
      if (outcome.kind === 'dropped') run.schemas.push(schema);
      scope.target = ledgerTarget('schemas');
      if (!dryRun) await tx.query(`DELETE FROM ${SCHEMAS} WHERE schema_name = $1`, [schema]);
    }
    if (!dryRun && run.kept.length === 0) {
      scope.target = ledgerTarget('runs');
      await tx.query(`DELETE FROM ${RUNS} WHERE run_id = $1`, [runId]);
    }
    return { kind: 'collected', run };
  });
}

async function schemaOwners(
  q: Queryable,
  schemas: string[],
): Promise<Map<string, { owner: string; mine: boolean }>> {
  const { rows } = await q.query<{ nspname: string; owner: string; mine: boolean }>(
    `SELECT nspname, pg_get_userbyid(nspowner) AS owner, pg_has_role(nspowner, 'MEMBER') AS mine
     FROM pg_namespace WHERE nspname = ANY($1::text[])`,
    [schemas],
  );
  return new Map(rows.map((r) => [r.nspname, { owner: r.owner, mine: r.mine }]));
}

export interface CollectOptions {
  /** Only report what would be collected; changes nothing. */
  dryRun?: boolean;
  /** How long a lease must have been expired; default 30000 ms (the default lease). */
  graceMs?: number;
  lockTimeoutMs?: number;
  /** A run never to collect (the caller's own). */
  exceptRunId?: string;
}

export interface Collection {
  runs: CrashedRun[];
  skipped: SkippedRun[];
}

/**
 * The ids of runs to collect: lease expired at least `graceMs` ago, or schema rows without a run
 * row. Reads only; inside a lock-bounded transaction (the ledger may be locked).
 */
export async function findCrashedRuns(
  tx: Queryable,
  { graceMs }: { graceMs: number },
): Promise<string[]> {
  const { rows } = await tx.query<{ run_id: string }>(
    `SELECT run_id FROM ${RUNS} WHERE lease_expires_at < now() - $1::int * interval '1 millisecond'
     UNION SELECT s.run_id FROM ${SCHEMAS} s
       WHERE NOT EXISTS (SELECT 1 FROM ${RUNS} r WHERE r.run_id = s.run_id)
     ORDER BY run_id`,
    [graceMs],
  );
  return rows.map((r) => r.run_id);
}

/**
 * Garbage-collects crashed runs: every run in the ledger whose lease expired at least `graceMs`
 * ago (and schema rows whose run row is gone). Live runs and anything not in the ledger are never
 * touched. Needs no session state: works on a pooled connection, through a transaction pooler.
 * Assumes the ledger exists (the caller checked its identity).
 */
export async function collectCrashedRuns(
  conn: TransactionRunner,
  options: CollectOptions = {},
): Promise<Collection> {
  if (options.exceptRunId !== undefined) assertRunId(options.exceptRunId, 'exceptRunId');
  const graceMs = options.graceMs ?? DEFAULT_LEASE_MS;
  const lockTimeoutMs = lockTimeoutOption(options.lockTimeoutMs);
  const scope: LockScope = { target: ledgerTarget('runs') };
  const runIds = await inBoundedTransaction(conn, { scope, lockTimeoutMs }, (tx) =>
    findCrashedRuns(tx, { graceMs }),
  );
  const out: Collection = { runs: [], skipped: [] };
  for (const runId of runIds) {
    if (runId === options.exceptRunId) continue;
    const result = await collectRun(conn, { ...options, runId, graceMs });
    if (result.kind === 'collected') out.runs.push(result.run);
    if (result.kind === 'skipped') out.skipped.push(result.run);
  }
  return out;
}

/** One line for a crashed run of another role that was left alone. */
export function describeSkipped(run: SkippedRun): string {
  const schemas = run.schemas.length
    ? run.schemas.map((s) => `${quoteIdent(s.schema)} (owner ${quoteIdent(s.owner)})`).join(', ')
    : 'no schemas';
  return (
    `crashed run ${run.runId} of role ${quoteIdent(run.owner)} left alone: ${schemas}; ` +
    `run \`user-engine-live gc\` as ${quoteIdent(run.owner)} to drop them`
  );
}
