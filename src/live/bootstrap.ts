/**
 * Life cycle of a live run in one database, as one small object with named operations:
 *
 * - `openRun`: preflight (privileges, read-only, encoding, ledger identity: nothing written when
 *   any fails), the ledger schema if absent, garbage collection of crashed runs, the run's lease;
 *   it returns the `LiveRun`, and `joinRun` the same object for a run opened elsewhere (a worker);
 * - `LiveRun.renewLease` / `startHeartbeat` (./lease), `collectCrashed` (./collect),
 *   `createWorkerSchema` / `createFreshSchema` / `dropFreshSchema` (./run-schemas) while it runs;
 * - `LiveRun.close`: ends the lease and drops the run's schemas.
 *
 * Safety rule: a schema is only ever dropped when its name passes `isRunSchemaName`, it embeds
 * the run id of its ledger row, that run's lease is over, and no object outside it depends on it.
 * Nothing is ever found by name pattern alone, and no session state is relied on.
 */
import { hostname } from 'node:os';
import { PreflightError, RunLeaseLostError } from './errors';
import { assertRunId } from './isolation';
import { LEDGER_SCHEMA, ledgerDdl } from './ledger';
import { describeForeignLedger, inspectLedger, type LedgerState } from './ledger-identity';
import {
  describeLoss,
  endLease,
  leaseTiming,
  openLease,
  openLeaseUnlessCrashed,
  renewLease,
  startHeartbeat,
  type Heartbeat,
} from './lease';
import { ledgerLockKey } from './lock-keys';
import {
  inAdvisoryTransaction,
  inBoundedStatement,
  inBoundedTransaction,
  ledgerTarget,
  lockTimeoutOption,
  type LockScope,
  type TransactionRunner,
} from './lock-wait';
import { assertPreflight } from './preflight';
import type { ServerFacts } from './server-check';
import {
  collectCrashedRuns,
  collectRun,
  crashedRunsSql,
  type CollectOptions,
  type Collection,
  type KeptSchema,
  type SkippedRun,
} from './collect';
import {
  createFreshSchema,
  dropFreshSchema,
  ensureWorkerSchema,
  type FreshDisposal,
} from './run-schemas';

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
 * a ledger of ours is refused (`PreflightError` 'foreign_ledger') and left unchanged. `seen`: the
 * state the caller has just read (the preflight's), which spares reading it again; any state but
 * 'ours' is read again under the lock.
 */
export async function ensureLedger(
  conn: TransactionRunner,
  options: { lockTimeoutMs: number; seen?: LedgerState },
): Promise<void> {
  const { lockTimeoutMs } = options;
  if ((options.seen ?? (await inspectLedger(conn))).kind === 'ours') return;
  const key = ledgerLockKey(LEDGER_SCHEMA);
  const scope: LockScope = { target: { kind: 'advisory', key, label: 'ledger creation' } };
  await inAdvisoryTransaction(conn, { scope, key, lockTimeoutMs }, async (tx) => {
    const state = await inspectLedger(tx);
    if (state.kind === 'foreign') {
      throw new PreflightError('foreign_ledger', describeForeignLedger(state));
    }
    if (state.kind === 'ours') return; // another run created it while we waited
    scope.target = { kind: 'schema', schema: LEDGER_SCHEMA };
    for (const statement of ledgerDdl()) await tx.query(statement);
  });
}

export interface OpenRunOptions {
  runId: string;
  /** Lease length (default 30000 ms); also the grace given to other runs' expired leases. */
  leaseMs?: number;
  /** Lease renewal period of `startHeartbeat` (default 5000 ms, at most a third of `leaseMs`). */
  heartbeatMs?: number;
  /** Bound on every lock wait, in ms; default 5000. */
  lockTimeoutMs?: number;
  /** Recorded in the ledger for humans; default this host and process. */
  host?: string;
  pid?: number;
  /**
   * The database acknowledged for destructive reset (`USER_ENGINE_LIVE_RESET`): the preflight's
   * read then also refuses another connected database or a too old server (`checkServer`).
   */
  database?: string;
}

export type JoinRunOptions = Omit<OpenRunOptions, 'host' | 'pid' | 'database'>;

/** Where a schema of this run is created from: recorded in the ledger for humans. */
export interface SchemaOrigin {
  /** Jest's `JEST_WORKER_ID`. */
  workerId: string | number;
  host: string;
  pid: number;
}

export interface CloseRunResult {
  dropped: string[];
  /** Schemas left because objects outside them depend on them (their ledger rows stay). */
  kept: KeptSchema[];
}

/** One live run and everything it may do; every operation goes through the ledger. */
export interface LiveRun {
  readonly runId: string;
  /** Always `user_engine_live`. */
  readonly ledgerSchema: string;
  /** Schemas of crashed runs that opening this run dropped (empty for a joined run). */
  readonly collected: readonly string[];
  /** Schemas of crashed runs left because objects outside them depend on them. */
  readonly kept: readonly KeptSchema[];
  /** Crashed runs of other roles left alone. */
  readonly skipped: readonly SkippedRun[];
  /** The server as opening the run read it (undefined for a joined run). */
  readonly server: ServerFacts | undefined;
  /** Extends a still-valid lease; false when it is gone or expired (the run is lost). */
  renewLease(): Promise<boolean>;
  /** Renews the lease every `heartbeatMs` until stopped; `onLost` once it is known lost. */
  startHeartbeat(options: { onLost: (error: RunLeaseLostError) => void }): Heartbeat;
  /** Garbage-collects crashed runs (never this one). */
  collectCrashed(options?: Omit<CollectOptions, 'exceptRunId'>): Promise<Collection>;
  /** The worker's schema, created once (idempotent); returns its name. */
  createWorkerSchema(origin: SchemaOrigin): Promise<string>;
  /** A new, empty fresh schema: the first free number from `from` (default 1). */
  createFreshSchema(
    origin: SchemaOrigin & { from?: number },
  ): Promise<{ schema: string; n: number }>;
  /** Drops one fresh schema of this run (see `dropFreshSchema`). */
  dropFreshSchema(options: { schema: string }): Promise<FreshDisposal>;
  /**
   * Ends the run: its lease ends for good, then (unless `keepSchemas`: kept for inspection, the
   * next run's garbage collection or `gc` drops them) its ledger-listed schemas are dropped and
   * their rows deleted. Throws `RunLeaseLostError` when the run's row was already gone: another
   * process collected it while it ran.
   */
  close(options?: { keepSchemas?: boolean }): Promise<CloseRunResult>;
}

/**
 * Starts a run on `conn` (any pool: nothing rests on one session). Throws `PreflightError` before
 * writing anything when a check fails, `RunIdInUseError` when the id is taken, `LockTimeoutError`
 * when a lock wait exceeds `lockTimeoutMs`. The caller renews the lease (`startHeartbeat`) and
 * ends the run with `close`.
 */
export async function openRun(conn: TransactionRunner, options: OpenRunOptions): Promise<LiveRun> {
  const { runId } = options;
  assertRunId(runId);
  const lockTimeoutMs = lockTimeoutOption(options.lockTimeoutMs);
  const { leaseMs } = leaseTiming({ leaseMs: options.leaseMs, heartbeatMs: options.heartbeatMs });
  const preflight = await assertPreflight(conn, options.database);
  await ensureLedger(conn, { lockTimeoutMs, seen: preflight.ledger });
  const lease = {
    runId,
    leaseMs,
    host: options.host ?? hostname(),
    pid: options.pid ?? process.pid,
  };
  const scope: LockScope = { target: [ledgerTarget('runs'), ledgerTarget('schemas')] };
  // Typically no run has crashed: then the scan and the lease are one statement.
  const crashed = await inBoundedStatement(conn, { scope, lockTimeoutMs }, (q) =>
    openLeaseUnlessCrashed(q, lease, crashedRunsSql('$2')),
  );
  const server = preflight.server;
  if (crashed.length === 0)
    return liveRun(conn, options, { collected: [], kept: [], skipped: [], server });
  // Collect first, then open the lease: dropping crashed runs' schemas can take a while, and the
  // heartbeat only starts once this returns, so the lease must begin at the end.
  const { runs, skipped } = await collectCrashedRuns(conn, {
    graceMs: leaseMs,
    lockTimeoutMs,
    exceptRunId: runId,
  });
  await inBoundedTransaction(conn, { scope, lockTimeoutMs }, (tx) => openLease(tx, lease));
  return liveRun(conn, options, {
    collected: runs.flatMap((r) => r.schemas),
    kept: runs.flatMap((r) => r.kept),
    skipped,
    server,
  });
}

/** The `LiveRun` of a run opened elsewhere (by the Jest parent), for a worker or a test. */
export function joinRun(conn: TransactionRunner, options: JoinRunOptions): LiveRun {
  assertRunId(options.runId);
  return liveRun(conn, options, { collected: [], kept: [], skipped: [], server: undefined });
}

function liveRun(
  conn: TransactionRunner,
  options: JoinRunOptions,
  opened: Pick<LiveRun, 'collected' | 'kept' | 'skipped' | 'server'>,
): LiveRun {
  const { runId } = options;
  const lockTimeoutMs = lockTimeoutOption(options.lockTimeoutMs);
  const timing = leaseTiming({ leaseMs: options.leaseMs, heartbeatMs: options.heartbeatMs });
  return {
    runId,
    ledgerSchema: LEDGER_SCHEMA,
    ...opened,
    renewLease: () => renewLease(conn, { runId, leaseMs: timing.leaseMs }),
    startHeartbeat: ({ onLost }) => startHeartbeat(conn, { runId, ...timing, onLost }),
    collectCrashed: (collect = {}) =>
      collectCrashedRuns(conn, { lockTimeoutMs, ...collect, exceptRunId: runId }),
    createWorkerSchema: (origin) => ensureWorkerSchema(conn, { runId, lockTimeoutMs, ...origin }),
    createFreshSchema: (origin) => createFreshSchema(conn, { runId, lockTimeoutMs, ...origin }),
    dropFreshSchema: ({ schema }) => dropFreshSchema(conn, { runId, lockTimeoutMs, schema }),
    close: (close = {}) => closeRun(conn, { runId, lockTimeoutMs, ...close }),
  };
}

async function closeRun(
  conn: TransactionRunner,
  options: { runId: string; lockTimeoutMs: number; keepSchemas?: boolean },
): Promise<CloseRunResult> {
  const { runId, lockTimeoutMs } = options;
  const runs: LockScope = { target: ledgerTarget('runs') };
  const present = await inBoundedStatement(conn, { scope: runs, lockTimeoutMs }, (q) =>
    endLease(q, runId),
  );
  let result: CloseRunResult = { dropped: [], kept: [] };
  if (!options.keepSchemas) {
    const outcome = await collectRun(conn, { runId, graceMs: 0, lockTimeoutMs });
    if (outcome.kind === 'collected') {
      result = { dropped: outcome.run.schemas, kept: outcome.run.kept };
    }
  }
  if (!present) throw new RunLeaseLostError(runId, describeLoss('gone'));
  return result;
}
