/**
 * The read-only plan `doctor` prints: which schemas the next run's garbage collection (or `gc`)
 * would drop, which it would keep because objects outside them depend on them, which crashed runs
 * of other roles it would leave, which live runs' schemas are emptied between test files, and
 * which `user_engine_*` objects nothing ever touches. Nothing here takes a lock or writes.
 */
import type { Queryable } from '../driver/port';
import { MANAGED_TABLES } from '../store/contract';
import {
  RUN_SCHEMA_PREFIX,
  isRunSchemaName,
  qualifiedName,
  quoteIdent,
  runIdOfSchema,
} from './isolation';
import { LEDGER_COLUMNS, LEDGER_SCHEMA, RUNS, SCHEMAS, toDate, toLedgerRow } from './ledger';
import type { LedgerRow, LedgerRowRecord, RunRowRecord } from './ledger';
import { inspectLedger, type LedgerState } from './ledger-identity';
import { DEFAULT_LEASE_MS } from './lease';
import { findForeignDependents } from './schema-drop';

export interface PlannedSchema {
  schema: string;
  runId: string;
  /** Whether the schema exists right now (a stale ledger row may outlive it). */
  exists: boolean;
  /** Role owning the schema (the run's role when it is gone). */
  owner: string;
  /** Tables inside it (for `drop`/`kept`: everything; for `empty`: the managed tables present). */
  tables: string[];
  /** Objects outside the schema that depend on it (non-empty only in `kept`). */
  dependents: string[];
  reason: string;
}

export interface LeftAlone {
  kind: 'schema' | 'table';
  /** Qualified, quoted name. */
  name: string;
  reason: string;
}

export type RunState = 'live' | 'expiring' | 'crashed';

export interface PlannedRun {
  runId: string;
  owner: string;
  state: RunState;
  host: string;
  pid: number;
  createdAt: Date;
  schemas: string[];
}

/** What cleanup would do right now; nothing here is acted upon. */
export interface ResetPlan {
  ledger: LedgerState;
  runs: PlannedRun[];
  /** Schemas the next run's GC (or `gc`) would drop: those of crashed runs. */
  drop: PlannedSchema[];
  /** Schemas of crashed runs that GC would keep: objects outside them depend on them. */
  kept: PlannedSchema[];
  /** Schemas of crashed runs of roles the current one cannot act for: GC skips them. */
  skipped: PlannedSchema[];
  /** Schemas of live runs, whose managed tables are emptied between test files. */
  empty: PlannedSchema[];
  /** `user_engine_*` objects no cleanup ever touches, and why. */
  leftAlone: LeftAlone[];
}

interface RunRecord extends RunRowRecord {
  state: RunState;
}

async function readRuns(q: Queryable, graceMs: number): Promise<RunRecord[]> {
  const { rows } = await q.query<RunRecord>(
    `SELECT run_id, owner, host, pid, started_at,
            CASE WHEN lease_expires_at > now() THEN 'live'
                 WHEN lease_expires_at >= now() - $1::int * interval '1 millisecond' THEN 'expiring'
                 ELSE 'crashed' END AS state
     FROM ${RUNS} ORDER BY started_at, run_id`,
    [graceMs],
  );
  return rows;
}

async function readSchemaRows(q: Queryable): Promise<LedgerRow[]> {
  const { rows } = await q.query<LedgerRowRecord>(
    `SELECT ${LEDGER_COLUMNS} FROM ${SCHEMAS} ORDER BY created_at, schema_name`,
  );
  return rows
    .map(toLedgerRow)
    .filter((r) => isRunSchemaName(r.schemaName) && runIdOfSchema(r.schemaName) === r.runId);
}

/**
 * A dry-run description for `doctor`. `graceMs` is how long a lease must have been expired before
 * collection (default 30000, the default lease).
 */
export async function planReset(
  q: Queryable,
  options: { graceMs?: number } = {},
): Promise<ResetPlan> {
  const graceMs = options.graceMs ?? DEFAULT_LEASE_MS;
  const ledger = await inspectLedger(q);
  const usable = ledger.kind === 'ours' && ledger.missing.length === 0;
  const runRows = usable ? await readRuns(q, graceMs) : [];
  const listed = usable ? await readSchemaRows(q) : [];

  const { rows: tableRows } = await q.query<{ nspname: string; relname: string }>(
    `SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
       AND NOT starts_with(n.nspname, 'pg_') AND n.nspname NOT IN ('information_schema', $2)
       AND (starts_with(c.relname, 'user_engine_') OR n.nspname = ANY($1::text[]))
     ORDER BY n.nspname, c.relname`,
    [listed.map((r) => r.schemaName), LEDGER_SCHEMA],
  );
  const { rows: schemaRows } = await q.query<{ nspname: string; owner: string; mine: boolean }>(
    `SELECT nspname, pg_get_userbyid(nspowner) AS owner, pg_has_role(nspowner, 'MEMBER') AS mine
     FROM pg_namespace WHERE starts_with(nspname, $1) ORDER BY nspname`,
    [RUN_SCHEMA_PREFIX],
  );
  const existing = new Map(schemaRows.map((r) => [r.nspname, r]));
  const tablesIn = (schema: string): string[] =>
    tableRows.filter((t) => t.nspname === schema).map((t) => t.relname);
  const { rows: me } = await q.query<{ bypass: boolean }>(
    `SELECT rolsuper OR rolbypassrls AS bypass FROM pg_roles WHERE rolname = current_user`,
  );
  const { rows: who } = await q.query<{ role: string }>('SELECT current_user AS role');
  const bypass = me[0]?.bypass === true;

  const plan: ResetPlan = {
    ledger,
    runs: [],
    drop: [],
    kept: [],
    skipped: [],
    empty: [],
    leftAlone: [],
  };
  const runIds = [...new Set([...runRows.map((r) => r.run_id), ...listed.map((r) => r.runId)])];
  for (const runId of runIds) {
    const run = runRows.find((r) => r.run_id === runId);
    const rows = listed.filter((r) => r.runId === runId);
    const state: RunState = run?.state ?? 'crashed';
    const owner = run?.owner ?? rows[0]?.owner ?? '';
    plan.runs.push({
      runId,
      owner,
      state,
      host: run?.host ?? rows[0]?.host ?? '',
      pid: Number(run?.pid ?? rows[0]?.pid ?? 0),
      createdAt: run ? toDate(run.started_at) : (rows[0]?.createdAt ?? new Date(0)),
      schemas: rows.map((r) => r.schemaName),
    });
    for (const row of rows) {
      const schema = row.schemaName;
      const found = existing.get(schema);
      const entry: PlannedSchema = {
        schema,
        runId,
        exists: found !== undefined,
        owner: found?.owner ?? row.owner,
        tables: tablesIn(schema),
        dependents: [],
        reason: '',
      };
      if (state === 'live') {
        entry.tables = entry.tables.filter((t) =>
          (MANAGED_TABLES as readonly string[]).includes(t),
        );
        entry.reason = `live run ${runId} of role ${quoteIdent(owner)} (its lease is valid): managed tables are emptied between test files, the schema is dropped when the run ends`;
        plan.empty.push(entry);
      } else if (state === 'expiring') {
        plan.leftAlone.push({
          kind: 'schema',
          name: quoteIdent(schema),
          reason: `run ${runId}'s lease expired less than ${graceMs} ms ago: collected once it has been expired that long`,
        });
      } else if ((found && !found.mine) || (!bypass && owner !== who[0]?.role)) {
        entry.reason = `crashed run ${runId} of role ${quoteIdent(owner)}: schema owned by ${quoteIdent(entry.owner)}, which this role cannot drop; gc skips it (run gc as ${quoteIdent(owner)})`;
        plan.skipped.push(entry);
      } else {
        entry.dependents = found ? await findForeignDependents(q, schema) : [];
        if (entry.dependents.length > 0) {
          entry.reason = `crashed run ${runId}, but objects outside the schema depend on it: ${entry.dependents.join('; ')}; it is kept (with its ledger row) until they are removed`;
          plan.kept.push(entry);
        } else {
          entry.reason = `run ${runId} crashed (listed in the ledger, its lease expired more than ${graceMs} ms ago)`;
          plan.drop.push(entry);
        }
      }
    }
  }

  const listedNames = new Set(listed.map((r) => r.schemaName));
  if (ledger.kind !== 'absent') {
    plan.leftAlone.push({
      kind: 'schema',
      name: quoteIdent(LEDGER_SCHEMA),
      reason:
        ledger.kind === 'ours'
          ? 'the run ledger itself: runs delete their rows, the schema stays'
          : 'named like the run ledger but not one (see the ledger check): never written or dropped',
    });
  }
  for (const { nspname } of schemaRows) {
    if (listedNames.has(nspname)) continue;
    plan.leftAlone.push({
      kind: 'schema',
      name: quoteIdent(nspname),
      reason: isRunSchemaName(nspname)
        ? 'named like a run schema but not listed in the ledger (never created by a run here, or its row was removed by hand)'
        : 'not a run schema name (user_engine_live_<10 chars>_<worker>[_f<n>])',
    });
  }
  for (const t of tableRows) {
    if (listedNames.has(t.nspname)) continue;
    plan.leftAlone.push({
      kind: 'table',
      name: qualifiedName(t.nspname, t.relname),
      reason: 'not inside a ledger-listed run schema',
    });
  }
  return plan;
}
