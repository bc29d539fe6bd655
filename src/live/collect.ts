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
import { jsonColumn } from './json-column';
import {
  dropRunSchema,
  findForeignDependents,
  SCHEMA_FACTS_COLUMNS,
  type SchemaFacts,
} from './schema-drop';
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

interface ListedRecord extends LedgerRowRecord {
  may_act: boolean;
  /** NULL when the schema does not exist (its row outlived it). */
  nsp_owner: string | null;
  mine: boolean | null;
}

/**
 * Whether the current role may change another role's ledger rows: its own, or it bypasses
 * row-level security (superuser, BYPASSRLS, owner of the ledger).
 */
const MAY_ACT = `(owner = current_user
  OR EXISTS (SELECT 1 FROM pg_roles WHERE rolname = current_user AND (rolsuper OR rolbypassrls))
  OR pg_has_role((SELECT relowner FROM pg_class WHERE oid = '${RUNS}'::regclass), 'USAGE'))`;

/** The lease ended at least the grace (`$2`, ms) ago. */
const EXPIRED = `lease_expires_at < now() - $2::int * interval '1 millisecond'`;

const RUN_COLUMNS = `run_id, owner, host, pid, started_at, ${MAY_ACT} AS may_act,
  ${EXPIRED} AS expired`;

/**
 * Everything collecting a run decides on, in one read: its row, the schemas the ledger lists for
 * it, and for each the catalog's owner (what dropping it needs). The ledger's
 * columns stay unqualified: `pg_namespace` has none of the same names. With `lock`, the run's
 * row is also locked for collecting it, only when its lease is over (`locked` false: not over,
 * someone else holds it, or row-level security hides it from UPDATE, as for another role's run).
 */
async function surveyRun(
  tx: Queryable,
  { runId, graceMs, lock }: { runId: string; graceMs: number; lock: boolean },
): Promise<{ seen: RunRecord | undefined; locked: boolean; listed: ListedRecord[] }> {
  const { rows } = await tx.query<{
    run: RunRecord | string | null;
    locked: boolean | null;
    listed: ListedRecord[] | string | null;
  }>(
    `SELECT (SELECT row_to_json(r) FROM (SELECT ${RUN_COLUMNS} FROM ${RUNS} WHERE run_id = $1) r) AS run,
            ${lock ? `(SELECT true FROM ${RUNS} WHERE run_id = $1 AND ${EXPIRED} FOR UPDATE SKIP LOCKED)` : 'NULL::boolean'} AS locked,
            (SELECT json_agg(s ORDER BY s.schema_name) FROM (
               SELECT ${LEDGER_COLUMNS}, ${MAY_ACT} AS may_act, ${SCHEMA_FACTS_COLUMNS}
               FROM ${SCHEMAS} l LEFT JOIN pg_namespace n ON n.nspname = l.schema_name
               WHERE l.run_id = $1) s) AS listed`,
    [runId, graceMs],
  );
  return {
    seen: jsonColumn<RunRecord | undefined>(rows[0].run, undefined),
    locked: rows[0].locked === true,
    listed: jsonColumn<ListedRecord[]>(rows[0].listed, []),
  };
}

function schemaFacts(row: ListedRecord): SchemaFacts | null {
  if (row.nsp_owner === null) return null;
  return { owner: row.nsp_owner, mine: row.mine === true };
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
  const scope: LockScope = { target: [ledgerTarget('runs'), ledgerTarget('schemas')] };
  return inBoundedTransaction(conn, { scope, lockTimeoutMs }, async (tx) => {
    const { seen, locked, listed: rows } = await surveyRun(tx, { runId, graceMs, lock: !dryRun });
    if (seen && !seen.expired) return { kind: 'alive' };
    const listed = rows.filter(
      (r) => isRunSchemaName(r.schema_name) && runIdOfSchema(r.schema_name) === runId,
    );
    const owner = seen?.owner ?? listed[0]?.owner ?? '';
    if (!seen && listed.length === 0) return { kind: 'alive' };
    const foreign =
      (seen !== undefined && !seen.may_act) || listed.some((r) => !r.may_act || r.mine === false);
    if (foreign) {
      return {
        kind: 'skipped',
        run: {
          runId,
          owner,
          schemas: listed.map((r) => ({ schema: r.schema_name, owner: r.nsp_owner ?? r.owner })),
        },
      };
    }
    if (!dryRun && seen && !locked) {
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
    const forgotten: string[] = [];
    for (const row of listed) {
      const schema = row.schema_name;
      scope.target = { kind: 'schema', schema };
      const dependents = dryRun ? await findForeignDependents(tx, schema) : [];
      const outcome = dryRun
        ? dependents.length > 0
          ? { kind: 'kept' as const, dependents }
          : { kind: 'dropped' as const }
        : await dropRunSchema(tx, schema, schemaFacts(row));
      if (outcome.kind === 'kept') {
        run.kept.push({ schema, dependents: outcome.dependents });
        continue;
      }
      if (outcome.kind === 'foreign-owner') continue; // excluded above; a race at worst
      if (outcome.kind === 'dropped') run.schemas.push(schema);
      forgotten.push(schema);
    }
    if (!dryRun) await forgetRun(tx, scope, { runId, forgotten, whole: run.kept.length === 0 });
    return { kind: 'collected', run };
  });
}

/**
 * Deletes the ledger rows of the schemas gone (`forgotten`) and, when `whole`, the run's row, in
 * one statement.
 */
async function forgetRun(
  tx: Queryable,
  scope: LockScope,
  { runId, forgotten, whole }: { runId: string; forgotten: string[]; whole: boolean },
): Promise<void> {
  if (whole) {
    scope.target = [ledgerTarget('schemas'), ledgerTarget('runs')];
    await tx.query(
      `WITH schemas AS (DELETE FROM ${SCHEMAS} WHERE schema_name = ANY($1::text[]))
       DELETE FROM ${RUNS} WHERE run_id = $2`,
      [forgotten, runId],
    );
  } else if (forgotten.length > 0) {
    scope.target = ledgerTarget('schemas');
    await tx.query(`DELETE FROM ${SCHEMAS} WHERE schema_name = ANY($1::text[])`, [forgotten]);
  }
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
 * The runs to collect, as a query of `run_id`s for a larger statement; `grace` is the parameter
 * (`$n`) holding the grace in milliseconds.
 */
export function crashedRunsSql(grace: string): string {
  return `SELECT run_id FROM ${RUNS} WHERE lease_expires_at < now() - ${grace}::int * interval '1 millisecond'
     UNION SELECT s.run_id FROM ${SCHEMAS} s
       WHERE NOT EXISTS (SELECT 1 FROM ${RUNS} r WHERE r.run_id = s.run_id)`;
}

/**
 * The ids of runs to collect: lease expired at least `graceMs` ago, or schema rows without a run
 * row. Reads only; inside a lock-bounded transaction (the ledger may be locked).
 */
export async function findCrashedRuns(
  tx: Queryable,
  { graceMs }: { graceMs: number },
): Promise<string[]> {
  const { rows } = await tx.query<{ run_id: string }>(`${crashedRunsSql('$1')} ORDER BY run_id`, [
    graceMs,
  ]);
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
