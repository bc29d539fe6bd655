/**
 * The schemas of a running run: one per Jest worker, plus fresh (unmigrated) schemas handed out by
 * `createFreshStore`. Each is recorded in the ledger BEFORE it is created, in the same
 * transaction, while the run's lease is held; so no run schema ever exists without its record, and
 * a run whose lease was lost cannot create any more.
 */
import type { Queryable, TransactionScope } from '../driver/port';
import { InvalidArgumentError, RunLeaseLostError } from './errors';
import {
  RUN_SCHEMA_PREFIX,
  assertRunId,
  freshSchemaName,
  isFreshSchemaName,
  quoteIdent,
  runIdOfSchema,
  workerSchemaName,
} from './isolation';
import { RUNS, SCHEMAS } from './ledger';
import { describeLoss } from './lease';
import { schemaLockKey } from './lock-keys';
import {
  inAdvisoryTransaction,
  inBoundedTransaction,
  ledgerTarget,
  lockTimeoutOption,
  type LockScope,
  type TransactionRunner,
} from './lock-wait';
import { markResetFunctionReady, resetFunctionStatement } from './reset';
import { dropRunSchema } from './schema-drop';

export interface EnsureWorkerSchemaOptions {
  runId: string;
  /** Jest's `JEST_WORKER_ID`. */
  workerId: string | number;
  /** Host and process id of the worker, recorded in the ledger for humans. */
  host: string;
  pid: number;
  lockTimeoutMs?: number;
}

/**
 * Creates the worker's schema `user_engine_live_<runId>_<workerId>` if needed and returns its
 * name. Idempotent (the ledger row is kept as first written). Throws `RunLeaseLostError` when
 * the run's lease is gone or expired.
 */
export async function ensureWorkerSchema(
  conn: TransactionRunner,
  options: EnsureWorkerSchemaOptions,
): Promise<string> {
  const schema = workerSchemaName(options.runId, options.workerId);
  await recordAndCreateSchema(conn, schema, options, { exclusive: false });
  return schema;
}

export interface CreateFreshSchemaOptions extends EnsureWorkerSchemaOptions {
  /** The first fresh number to try (1..999999); taken numbers are skipped. Default 1. */
  from?: number;
}

/** How many taken fresh numbers `createFreshSchema` steps over before it gives up. */
const FRESH_ATTEMPTS = 100;

/**
 * Creates a new, empty fresh schema `user_engine_live_<runId>_<workerId>_f<n>` and returns it
 * with its number: the first `n` from `options.from` not in the ledger yet. Never reuses one.
 */
export async function createFreshSchema(
  conn: TransactionRunner,
  options: CreateFreshSchemaOptions,
): Promise<{ schema: string; n: number }> {
  const from = options.from ?? 1;
  for (let n = from; n < from + FRESH_ATTEMPTS; n++) {
    const schema = freshSchemaName(options.runId, options.workerId, n);
    if (await recordAndCreateSchema(conn, schema, options, { exclusive: true })) {
      return { schema, n };
    }
  }
  throw new InvalidArgumentError(
    'from',
    `fresh schemas ${from}..${from + FRESH_ATTEMPTS - 1} of worker ${String(options.workerId)} are all taken`,
  );
}

/**
 * Records `schema` in the ledger while holding the run's row (FOR KEY SHARE: renewal does not
 * conflict, collection does) with a valid lease, in one statement; throws `RunLeaseLostError`
 * unless the lease is valid, so collection cannot drop the run between this check and the commit.
 * True when the row was inserted, false when it was there already.
 */
async function recordHoldingLease(
  tx: Queryable,
  row: { schema: string; runId: string; workerId: string; host: string; pid: number },
): Promise<boolean> {
  const { rows } = await tx.query<{ valid: boolean | null; inserted: boolean }>(
    `WITH lease AS (SELECT lease_expires_at > now() AS valid FROM ${RUNS}
                    WHERE run_id = $2::text FOR KEY SHARE),
     recorded AS (INSERT INTO ${SCHEMAS} (schema_name, run_id, worker_id, host, pid)
                  SELECT $1::text, $2::text, $3::text, $4::text, $5::int WHERE (SELECT valid FROM lease)
                  ON CONFLICT (schema_name) DO NOTHING RETURNING 1)
     SELECT (SELECT valid FROM lease) AS valid, EXISTS (SELECT 1 FROM recorded) AS inserted`,
    [row.schema, row.runId, row.workerId, row.host, row.pid],
  );
  const { valid, inserted } = rows[0];
  if (valid === true) return inserted;
  throw new RunLeaseLostError(row.runId, describeLoss(valid === null ? 'gone' : 'expired'));
}

/**
 * Under an advisory xact lock for `schema`, holding the run's lease: inserts the ledger row, then
 * creates the schema. `exclusive`: a schema already listed is left alone and `false` returned.
 */
async function recordAndCreateSchema(
  conn: TransactionRunner,
  schema: string,
  options: EnsureWorkerSchemaOptions,
  { exclusive }: { exclusive: boolean },
): Promise<boolean> {
  const { runId, host, pid } = options;
  // Everything after `<prefix><runId>_`: the worker id, plus `_f<n>` for a fresh schema (the
  // ledger's CHECK ties schema_name to run_id and this column).
  const workerId = schema.slice(RUN_SCHEMA_PREFIX.length + runId.length + 1);
  if (typeof host !== 'string') throw new InvalidArgumentError('host', 'expected a string');
  if (!Number.isSafeInteger(pid) || pid < 0 || pid > 2147483647) {
    throw new InvalidArgumentError('pid', `expected a process id, got ${String(pid)}`);
  }
  const lockTimeoutMs = lockTimeoutOption(options.lockTimeoutMs);
  const key = schemaLockKey(schema);
  const scope: LockScope = {
    target: { kind: 'advisory', key, label: `creation of schema ${quoteIdent(schema)}` },
  };
  return inAdvisoryTransaction(conn, { scope, key, lockTimeoutMs }, async (tx) => {
    // One statement over both ledger tables. The run's row first: a collector holding it (FOR
    // UPDATE) is the likely wait, and it holds a lock on the schemas table too.
    scope.target = [ledgerTarget('runs'), ledgerTarget('schemas')];
    const inserted = await recordHoldingLease(tx, { schema, runId, workerId, host, pid });
    if (exclusive && !inserted) return false;
    scope.target = { kind: 'schema', schema };
    if (exclusive) {
      await tx.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
      return true;
    }
    // A worker schema gets its reset function right away, in the same round trip: its first
    // reset is then one call (the function names its tables only when it runs, after migration).
    await tx.query(
      `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)};\n${resetFunctionStatement(schema)}`,
    );
    return true;
  }).then((created) => {
    if (created && !exclusive) markResetFunctionReady(conn, schema);
    return created;
  });
}

export interface DropFreshSchemaOptions {
  runId: string;
  /** A name from `createFreshSchema` of this run. */
  schema: string;
  lockTimeoutMs?: number;
}

export interface FreshDisposal {
  dropped: boolean;
  /** Objects outside the schema depending on it; when any, the schema and its row are kept. */
  dependents: string[];
}

/**
 * Disposes of one fresh schema before the run ends: in one transaction, locks its ledger row and,
 * only when that row belongs to `runId`, drops the schema (never into objects outside it) and
 * deletes the row. Refuses any name that is not a fresh schema of `runId`. A second call is a
 * no-op. Close the connections bound to the schema first.
 */
export async function dropFreshSchema(
  conn: TransactionRunner,
  options: DropFreshSchemaOptions,
): Promise<FreshDisposal> {
  const { runId, schema } = options;
  assertRunId(runId);
  if (!isFreshSchemaName(schema) || runIdOfSchema(schema) !== runId) {
    throw new InvalidArgumentError(
      'schema',
      `${JSON.stringify(String(schema))} is not a fresh schema of run ${runId}; refusing to drop it`,
    );
  }
  const lockTimeoutMs = lockTimeoutOption(options.lockTimeoutMs);
  const scope: LockScope = {
    target: ledgerTarget('schemas'),
  };
  return inBoundedTransaction(conn, { scope, lockTimeoutMs }, async (tx: TransactionScope) => {
    // JIT off for this transaction, as on the ledger's own pools (see NO_JIT in ./session-guards).
    const { rows } = await tx.query(
      `SELECT set_config('jit', 'off', true) FROM ${SCHEMAS}
       WHERE schema_name = $1 AND run_id = $2 FOR UPDATE`,
      [schema, runId],
    );
    if (rows.length === 0) return { dropped: false, dependents: [] };
    scope.target = { kind: 'schema', schema };
    const outcome = await dropRunSchema(tx, schema);
    if (outcome.kind === 'kept') return { dropped: false, dependents: outcome.dependents };
    if (outcome.kind === 'foreign-owner') return { dropped: false, dependents: [] };
    await tx.query(`DELETE FROM ${SCHEMAS} WHERE schema_name = $1`, [schema]);
    return { dropped: outcome.kind === 'dropped', dependents: [] };
  });
}
