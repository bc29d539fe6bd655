/**
 * Errors raised by the live harness (bootstrap, isolation, reset, run state). Each has a stable
 * `code`; messages name the lock, schema, field or env var at fault and never carry a password.
 */
import { CodedError } from '../coded-error';

export type LiveErrorCode =
  | 'invalid_argument'
  | 'invalid_run_state'
  | 'lock_timeout'
  | 'run_id_in_use'
  | 'run_lease_lost'
  | 'missing_privilege'
  | 'foreign_ledger'
  | 'read_only_session'
  | 'unsupported_encoding';

export class LiveError extends CodedError<LiveErrorCode> {}

/** A function argument is malformed; `field` names it. */
export class InvalidArgumentError extends LiveError {
  readonly field: string;
  constructor(field: string, message: string) {
    super('invalid_argument', `invalid ${field}: ${message}`);
    this.field = field;
  }
}

/** `USER_ENGINE_LIVE_RUN` is present but unusable (hand-edited, or from another version). */
export class InvalidRunStateError extends LiveError {
  readonly setting: string;
  constructor(setting: string, message: string) {
    super('invalid_run_state', `${setting} is invalid: ${message}`);
    this.setting = setting;
  }
}

/** One session that held (part of) a lock we waited for, as `pg_stat_activity` reports it. */
export interface LockHolder {
  pid: number;
  applicationName: string;
  /** The live run the holder belongs to, when its application_name says so. */
  runId: string | undefined;
  /** `idle in transaction`, `active`, ... */
  state: string | null;
  mode: string;
  /** Host and process the ledger recorded for that run, when it has a row for it. */
  host?: string;
  processId?: number;
}

/** A lock wait exceeded `lock_timeout` (SQLSTATE 55P03). `lock` says which object. */
export class LockTimeoutError extends LiveError {
  readonly lock: string;
  readonly holders: readonly LockHolder[];
  readonly lockTimeoutMs: number;
  constructor(
    lock: string,
    holders: readonly LockHolder[],
    lockTimeoutMs: number,
    options?: { cause?: unknown },
  ) {
    super('lock_timeout', lockTimeoutMessage(lock, holders, lockTimeoutMs), options);
    this.lock = lock;
    this.holders = holders;
    this.lockTimeoutMs = lockTimeoutMs;
  }
}

function lockTimeoutMessage(
  lock: string,
  holders: readonly LockHolder[],
  lockTimeoutMs: number,
): string {
  const head = `timed out after ${lockTimeoutMs} ms waiting for a lock on ${lock}`;
  if (holders.length === 0) {
    return `${head}; the holder could not be identified (it may have let go meanwhile): retry, or raise lockTimeoutMs`;
  }
  const who = holders.map(describeHolder).join('; ');
  return `${head}; held by ${who}`;
}

function describeHolder(h: LockHolder): string {
  const origin = h.host !== undefined ? ` on host ${h.host}, process ${h.processId}` : '';
  const run = h.runId ? `live run ${h.runId}${origin}, ` : '';
  const app = h.applicationName ? `application_name "${h.applicationName}"` : 'no application_name';
  return `${run}backend pid ${h.pid} (${app}, state ${h.state ?? 'unknown'}, ${h.mode})`;
}

/** The ledger already has a run with this id (a live or crashed run picked it first). */
export class RunIdInUseError extends LiveError {
  readonly runId: string;
  constructor(runId: string) {
    super(
      'run_id_in_use',
      `run id ${runId} is already in the run ledger (user_engine_live.runs): start the run with a new id`,
    );
    this.runId = runId;
  }
}

/**
 * The run's lease in the ledger is gone or expired: its heartbeat stopped (the Jest parent
 * process hung or lost the database for longer than the lease), or another process collected the
 * run. Its schemas may be dropped by other runs' garbage collection, so the run must stop.
 */
export class RunLeaseLostError extends LiveError {
  readonly runId: string;
  constructor(runId: string, detail: string, options?: { cause?: unknown }) {
    super(
      'run_lease_lost',
      `run ${runId} lost its lease in the run ledger (user_engine_live.runs): ${detail}. ` +
        'Its schemas may be dropped by garbage collection of other runs, so it stops here; ' +
        'rerun the tests (if the parent process is often starved, raise ' +
        'testEnvironmentOptions.userEngineLive.leaseMs)',
      options,
    );
    this.runId = runId;
  }
}

export type PreflightCode = Extract<
  LiveErrorCode,
  'missing_privilege' | 'foreign_ledger' | 'read_only_session' | 'unsupported_encoding'
>;

/**
 * A check made before anything is written failed (see ./preflight): the message names the role,
 * privilege, object or setting at fault and the statement that fixes it.
 */
export class PreflightError extends LiveError {
  constructor(code: PreflightCode, message: string) {
    super(code, message);
  }
}
