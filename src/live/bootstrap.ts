/**
 * Life cycle of a live run in one database, as named operations:
 *
 * - `beginRun`: preflight (privileges, read-only, encoding, ledger identity: nothing written when
 *   any fails), the ledger schema if absent, the run's lease, garbage collection of crashed runs;
 * - `ensureWorkerSchema` / `createFreshSchema` / `dropFreshSchema` (./run-schemas) while it runs,
 *   with the lease renewed by a heartbeat (./lease);
 * - `endRun`: ends the lease and drops the run's schemas.
 *
 * Safety rule: a schema is only ever dropped when its name passes `isRunSchemaName`, it embeds
 * the run id of its ledger row, that run's lease is over, and no object outside it depends on it.
 * Nothing is ever found by name pattern alone, and no session state is relied on.
 */
import { hostname } from 'node:os';
import { RunLeaseLostError } from './errors';
import { assertRunId } from './isolation';
import { LEDGER_SCHEMA, ledgerDdl } from './ledger';
import { describeForeignLedger, inspectLedger } from './ledger-identity';
import { PreflightError } from './errors';
import { describeLoss, endLease, leaseTiming, openLease } from './lease';
import { ledgerLockKey } from './lock-keys';
import {
  inAdvisoryTransaction,
  inBoundedTransaction,
  ledgerTarget,
  lockTimeoutOption,
  type LockScope,
  type TransactionRunner,
} from './lock-wait';
import { assertPreflight } from './preflight';
import { collectCrashedRuns, collectRun, type KeptSchema, type SkippedRun } from './collect';

export { ensureWorkerSchema, createFreshSchema, dropFreshSchema } from './run-schemas';
export type {
  EnsureWorkerSchemaOptions,
  CreateFreshSchemaOptions,
  DropFreshSchemaOptions,
  FreshDisposal,
} from './run-schemas';
export { collectCrashedRuns, describeSkipped } from './collect';
export type { CollectOptions, Collection, CrashedRun, KeptSchema, SkippedRun } from './collect';
export { planReset } from './plan';
export type { LeftAlone, PlannedRun, PlannedSchema, ResetPlan } from './plan';
export type { TransactionRunner } from './lock-wait';

/**
 * Creates the ledger schema unless present, under a transaction-level advisory lock so that
 * concurrent first runs create it once. Anything already called `user_engine_live` that is not
 * a ledger of ours is refused (`PreflightError` 'foreign_ledger') and left unchanged.
 */
export async function ensureLedger(conn: TransactionRunner, lockTimeoutMs: number): Promise<void> {
  if ((await inspectLedger(conn)).kind === 'ours') return;
  const key = ledgerLockKey(LEDGER_SCHEMA);
  const scope: LockScope = { target: { kind: 'advisory', key, label: 'ledger creation' } };
  await inAdvisoryTransaction(conn, scope, key, lockTimeoutMs, async (tx) => {
    const state = await inspectLedger(tx);
    if (state.kind === 'foreign') {
      throw new PreflightError('foreign_ledger', describeForeignLedger(state));
    }
    if (state.kind === 'ours') return; // another run created it while we waited
    scope.target = { kind: 'schema', schema: LEDGER_SCHEMA };
    for (const statement of ledgerDdl()) await tx.query(statement);
  });
}

export interface BeginRunOptions {
  runId: string;
  /** Lease length (default 30000 ms); also the grace given to other runs' expired leases. */
  leaseMs?: number;
  /** Bound on every lock wait, in ms; default 5000. */
  lockTimeoutMs?: number;
  /** Recorded in the ledger for humans; default this host and process. */
  host?: string;
  pid?: number;
}

export interface BeginRunResult {
  runId: string;
  /** Always `user_engine_live`. */
  ledgerSchema: string;
  /** Schemas of crashed runs that garbage collection dropped. */
  collected: string[];
  /** Schemas of crashed runs left because objects outside them depend on them. */
  kept: KeptSchema[];
  /** Crashed runs of other roles left alone. */
  skipped: SkippedRun[];
}

/**
 * Starts a run on `conn` (any pool: nothing rests on one session). Throws `PreflightError` before
 * writing anything when a check fails, `RunIdInUseError` when the id is taken, `LockTimeoutError`
 * when a lock wait exceeds `lockTimeoutMs`. The caller renews the lease (`startHeartbeat`) and
 * ends the run with `endRun`.
 */
export async function beginRun(
  conn: TransactionRunner,
  options: BeginRunOptions,
): Promise<BeginRunResult> {
  const { runId } = options;
  assertRunId(runId);
  const lockTimeoutMs = lockTimeoutOption(options.lockTimeoutMs);
  const { leaseMs } = leaseTiming({ leaseMs: options.leaseMs });
  await assertPreflight(conn);
  await ensureLedger(conn, lockTimeoutMs);
  // Collect first, then open the lease: dropping crashed runs' schemas can take a while, and the
  // heartbeat only starts once this returns, so the lease must begin at the end.
  const { runs, skipped } = await collectCrashedRuns(conn, {
    graceMs: leaseMs,
    lockTimeoutMs,
    exceptRunId: runId,
  });
  const scope: LockScope = { target: ledgerTarget('runs') };
  await inBoundedTransaction(conn, scope, lockTimeoutMs, (tx) =>
    openLease(tx, {
      runId,
      leaseMs,
      host: options.host ?? hostname(),
      pid: options.pid ?? process.pid,
    }),
  );
  return {
    runId,
    ledgerSchema: LEDGER_SCHEMA,
    collected: runs.flatMap((r) => r.schemas),
    kept: runs.flatMap((r) => r.kept),
    skipped,
  };
}

export interface EndRunOptions {
  runId: string;
  /**
   * Keep this run's schemas and ledger rows for inspection. The lease still ends, so the next
   * run's garbage collection (or `gc`) drops them.
   */
  keepSchemas?: boolean;
  lockTimeoutMs?: number;
}

export interface EndRunResult {
  dropped: string[];
  /** Schemas left because objects outside them depend on them (their ledger rows stay). */
  kept: KeptSchema[];
}

/**
 * Ends a run: its lease ends for good, then (unless `keepSchemas`) its ledger-listed schemas are
 * dropped and their rows deleted. Throws `RunLeaseLostError` when the run's row was already gone:
 * another process collected it while it ran.
 */
export async function endRun(
  conn: TransactionRunner,
  options: EndRunOptions,
): Promise<EndRunResult> {
  const { runId } = options;
  assertRunId(runId);
  const lockTimeoutMs = lockTimeoutOption(options.lockTimeoutMs);
  const runs: LockScope = { target: ledgerTarget('runs') };
  const present = await inBoundedTransaction(conn, runs, lockTimeoutMs, (tx) =>
    endLease(tx, runId),
  );
  let result: EndRunResult = { dropped: [], kept: [] };
  if (!options.keepSchemas) {
    const outcome = await collectRun(conn, runId, { graceMs: 0, lockTimeoutMs });
    if (outcome.kind === 'collected') {
      result = { dropped: outcome.run.schemas, kept: outcome.run.kept };
    }
  }
  if (!present) throw new RunLeaseLostError(runId, describeLoss('gone'));
  return result;
}
