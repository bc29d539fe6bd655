/**
 * Errors raised by the live harness (bootstrap, isolation, reset, run state). Each has a stable
 * `code`; messages name the lock, schema, field or env var at fault and never carry a password.
 */

export type LiveErrorCode =
  | 'invalid_argument'
  | 'invalid_run_state'
  | 'lock_timeout'
  | 'run_lock_unavailable'
  | 'run_lock_lost'
  | 'no_current_schema';

export class LiveError extends Error {
  readonly code: LiveErrorCode;
  constructor(code: LiveErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

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
  readonly variable: string;
  constructor(variable: string, message: string) {
    super('invalid_run_state', `${variable} is invalid: ${message}`);
    this.variable = variable;
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

/** The run's session advisory lock is already taken: the run id is in use by another session. */
export class RunLockUnavailableError extends LiveError {
  readonly runId: string;
  constructor(runId: string) {
    super(
      'run_lock_unavailable',
      `the advisory lock of run ${runId} is held by another session: that run id is in use ` +
        '(or its lock key collides with a live run); start the run with a new id',
    );
    this.runId = runId;
  }
}

/**
 * The run's session lock is not held by the admin connection's session. Either the admin
 * connection is a pool of several sessions, or its session was replaced (reconnect, idle reap):
 * another run may then have treated this run as crashed.
 */
export class RunLockLostError extends LiveError {
  readonly runId: string;
  constructor(runId: string, detail: string) {
    super('run_lock_lost', `run ${runId}: ${detail}`);
    this.runId = runId;
  }
}

/** The admin session's search_path names no existing schema, so there is nowhere for the ledger. */
export class NoCurrentSchemaError extends LiveError {
  constructor() {
    super(
      'no_current_schema',
      'the admin connection has no current schema (current_schema() is null: no schema of its ' +
        'search_path exists); set search_path or create the schema the DSN points at',
    );
  }
}
