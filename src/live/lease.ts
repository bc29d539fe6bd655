/**
 * Run liveness by lease. A run is alive while its row in `user_engine_live.runs` has
 * `lease_expires_at` in the future, on the DATABASE clock (no host clock is ever compared). The
 * Jest parent process renews it every `heartbeatMs` from its own pooled connection; nothing rests
 * on a session surviving, so it works through a transaction pooler and survives a killed backend
 * (the pool reconnects). Garbage collection takes a run only once its lease has been expired for
 * at least the collector's grace period, under a row lock that renewal and schema creation
 * respect. A run that finds its lease gone or expired stops with `RunLeaseLostError`.
 */
import type { Queryable } from '../driver/port';
import { InvalidArgumentError, RunIdInUseError, RunLeaseLostError } from './errors';
import { RUNS } from './ledger';

export const DEFAULT_LEASE_MS = 30_000;
export const DEFAULT_HEARTBEAT_MS = 5_000;
export const LEASE_RANGE = { min: 1_000, max: 3_600_000 } as const;

/** SQLSTATE the reset function raises when its run's lease is gone or expired. */
export const LEASE_LOST_SQLSTATE = 'UEL01';

export interface LeaseTiming {
  /** How long one renewal keeps the run alive; also the grace this run gives others' leases. */
  leaseMs: number;
  heartbeatMs: number;
}

/** Validated lease timing: `leaseMs` in range, `heartbeatMs` at most a third of it. */
export function leaseTiming(given: Partial<LeaseTiming> = {}): LeaseTiming {
  const leaseMs = given.leaseMs ?? DEFAULT_LEASE_MS;
  const { min, max } = LEASE_RANGE;
  if (!Number.isSafeInteger(leaseMs) || leaseMs < min || leaseMs > max) {
    throw new InvalidArgumentError('leaseMs', `expected an integer from ${min} to ${max}`);
  }
  const heartbeatMs = given.heartbeatMs ?? Math.min(DEFAULT_HEARTBEAT_MS, Math.floor(leaseMs / 3));
  if (!Number.isSafeInteger(heartbeatMs) || heartbeatMs < 100 || heartbeatMs * 3 > leaseMs) {
    throw new InvalidArgumentError(
      'heartbeatMs',
      `expected an integer from 100 to a third of leaseMs (${Math.floor(leaseMs / 3)})`,
    );
  }
  return { leaseMs, heartbeatMs };
}

const EXPIRY = `now() + $2::int * interval '1 millisecond'`;

export interface LeaseOpening {
  runId: string;
  host: string;
  pid: number;
  leaseMs: number;
}

/** Inserts the run's row with a fresh lease; `RunIdInUseError` when the id is taken. */
export async function openLease(q: Queryable, run: LeaseOpening): Promise<void> {
  const { rows } = await q.query(
    `INSERT INTO ${RUNS} (run_id, lease_expires_at, host, pid) VALUES ($1, ${EXPIRY}, $3, $4)
     ON CONFLICT (run_id) DO NOTHING RETURNING run_id`,
    [run.runId, run.leaseMs, run.host, run.pid],
  );
  if (rows.length === 0) throw new RunIdInUseError(run.runId);
}

/**
 * The usual start of a run, in one statement: the scan for crashed runs (`crashedRunsSql`, a query
 * of `run_id`s taking the grace as `$2`, which is `leaseMs`) and, only when it finds none but this
 * run, the run's row with a fresh lease. Returns the crashed runs' ids (then nothing was written);
 * `RunIdInUseError` when none crashed and the id is taken.
 */
export async function openLeaseUnlessCrashed(
  q: Queryable,
  run: LeaseOpening,
  crashedRunsSql: string,
): Promise<string[]> {
  const { rows } = await q.query<{ crashed: string[]; opened: boolean }>(
    `WITH others AS (SELECT run_id FROM (${crashedRunsSql}) AS crashed WHERE run_id <> $1),
     opened AS (
       INSERT INTO ${RUNS} (run_id, lease_expires_at, host, pid)
       SELECT $1, ${EXPIRY}, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM others)
       ON CONFLICT (run_id) DO NOTHING RETURNING run_id)
     SELECT ARRAY(SELECT run_id FROM others ORDER BY run_id) AS crashed,
            EXISTS (SELECT 1 FROM opened) AS opened`,
    [run.runId, run.leaseMs, run.host, run.pid],
  );
  const { crashed, opened } = rows[0];
  if (crashed.length === 0 && !opened) throw new RunIdInUseError(run.runId);
  return crashed;
}

/**
 * Extends a still-valid lease by `leaseMs` from now. False when the row is gone or the lease had
 * already expired: then the run may have been collected and must not pretend otherwise.
 */
export async function renewLease(
  q: Queryable,
  { runId, leaseMs }: { runId: string; leaseMs: number },
): Promise<boolean> {
  const { rows } = await q.query(
    `UPDATE ${RUNS} SET lease_expires_at = ${EXPIRY}
     WHERE run_id = $1 AND lease_expires_at > now() RETURNING run_id`,
    [runId, leaseMs],
  );
  return rows.length === 1;
}

/** Marks the run as over: its lease ends now for good, so collection needs no grace. */
export async function endLease(q: Queryable, runId: string): Promise<boolean> {
  const { rows } = await q.query(
    `UPDATE ${RUNS} SET lease_expires_at = '-infinity' WHERE run_id = $1 RETURNING run_id`,
    [runId],
  );
  return rows.length === 1;
}

/** 'valid', 'expired' or 'gone': for error messages. */
export async function leaseStatus(
  q: Queryable,
  runId: string,
): Promise<'valid' | 'expired' | 'gone'> {
  const { rows } = await q.query<{ valid: boolean }>(
    `SELECT lease_expires_at > now() AS valid FROM ${RUNS} WHERE run_id = $1`,
    [runId],
  );
  if (rows.length === 0) return 'gone';
  return rows[0].valid ? 'valid' : 'expired';
}

export function describeLoss(status: 'expired' | 'gone'): string {
  return status === 'gone'
    ? 'its row is gone (another process garbage-collected the run)'
    : 'its lease expired (the heartbeat of the Jest parent process stopped renewing it)';
}

export interface Heartbeat {
  /** Set once the lease is known lost; the run must fail. */
  readonly lost: RunLeaseLostError | undefined;
  /** Stops renewing (waits for a renewal in flight). */
  stop(): Promise<void>;
}

/**
 * Renews the lease every `heartbeatMs` on `conn` (a pool: a killed session is replaced on the
 * next query). The timer is unref'd, so it never keeps Jest alive. A failed renewal query is
 * retried on the next tick; the lease counts as lost when a renewal finds it gone or expired, or
 * when no renewal succeeded for `leaseMs`. `onLost` is called once, then renewing stops.
 */
export function startHeartbeat(
  conn: Queryable,
  run: { runId: string; onLost: (error: RunLeaseLostError) => void } & LeaseTiming,
): Heartbeat {
  let lost: RunLeaseLostError | undefined;
  let inFlight: Promise<void> | undefined;
  let lastRenewal = Date.now();
  const lose = (error: RunLeaseLostError): void => {
    if (lost) return;
    lost = error;
    clearInterval(timer);
    run.onLost(error);
  };
  const beat = async (): Promise<void> => {
    try {
      if (await renewLease(conn, run)) {
        lastRenewal = Date.now();
        return;
      }
      const status = await leaseStatus(conn, run.runId).catch(() => 'gone' as const);
      lose(new RunLeaseLostError(run.runId, describeLoss(status === 'valid' ? 'expired' : status)));
    } catch (error) {
      if (Date.now() - lastRenewal >= run.leaseMs) {
        lose(
          new RunLeaseLostError(
            run.runId,
            `no renewal succeeded for ${run.leaseMs} ms (last error: ${error instanceof Error ? error.message : String(error)})`,
            { cause: error },
          ),
        );
      }
    }
  };
  const timer = setInterval(() => {
    if (inFlight || lost) return;
    inFlight = beat().finally(() => (inFlight = undefined));
  }, run.heartbeatMs);
  timer.unref();
  return {
    get lost() {
      return lost;
    },
    async stop() {
      clearInterval(timer);
      await inFlight;
    },
  };
}
