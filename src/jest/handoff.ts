/**
 * How globalSetup hands the run to test workers: ONE environment variable holding JSON. Values on
 * `globalThis` do not reach Jest workers; `process.env` does. The user's DSN is deliberately not
 * in it (workers read `USER_ENGINE_LIVE_DSN` themselves), so its password is never copied. The
 * one exception is `embeddedDsn`: a server this run started itself, which workers cannot find
 * any other way; its credentials die with that server.
 */
import { redactDsn } from '../driver/dsn';
import { DRIVER_NAMES } from '../driver/port';
import type { DriverName } from '../driver/port';
import { InvalidArgumentError, InvalidRunStateError } from '../live/errors';
import { isRunId } from '../live/isolation';

export const RUN_STATE_ENV = 'USER_ENGINE_LIVE_RUN';
const FORMAT = 1;

export interface LiveRunState {
  runId: string;
  driver: DriverName;
  /** `SHOW server_version` of the run's server, for diagnostics. */
  serverVersion: string;
  /** The DSN with its password replaced by `***`, for diagnostics. */
  redactedDsn: string;
  /** DSN of the embedded server this run started (unset for a user-supplied DSN). */
  embeddedDsn?: string;
}

/** Alias used by the Jest side. */
export type RunState = LiveRunState;

type Env = Record<string, string | undefined>;

/** Stores `state` in `env[USER_ENGINE_LIVE_RUN]` (the DSN is redacted again, to be sure). */
export function writeRunState(env: Env, state: LiveRunState): void {
  const problem = checkState(state);
  if (problem) throw new InvalidArgumentError(`state.${problem.field}`, problem.message);
  env[RUN_STATE_ENV] = JSON.stringify({
    format: FORMAT,
    runId: state.runId,
    driver: state.driver,
    serverVersion: state.serverVersion,
    redactedDsn: redactDsn(state.redactedDsn),
    embeddedDsn: state.embeddedDsn,
  });
}

/**
 * The run state from `env`, or `undefined` when the variable is unset or empty (no live run).
 * Throws `InvalidRunStateError` naming the variable when it is present but malformed.
 */
export function readRunState(env: Env): LiveRunState | undefined {
  const raw = env[RUN_STATE_ENV];
  if (raw === undefined || raw.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new InvalidRunStateError(
      RUN_STATE_ENV,
      'not JSON (it is written by the live globalSetup; do not set it by hand)',
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidRunStateError(RUN_STATE_ENV, 'expected a JSON object');
  }
  const record = parsed as Record<string, unknown>;
  if (record.format !== FORMAT) {
    throw new InvalidRunStateError(
      RUN_STATE_ENV,
      `format ${JSON.stringify(record.format)} is not ${FORMAT} (written by another version of @user-engine/jest-live?)`,
    );
  }
  const state = {
    runId: record.runId,
    driver: record.driver,
    serverVersion: record.serverVersion,
    redactedDsn: record.redactedDsn,
    embeddedDsn: record.embeddedDsn,
  } as LiveRunState;
  const problem = checkState(state);
  if (problem)
    throw new InvalidRunStateError(RUN_STATE_ENV, `${problem.field}: ${problem.message}`);
  const out: LiveRunState = {
    runId: state.runId,
    driver: state.driver,
    serverVersion: state.serverVersion,
    redactedDsn: redactDsn(state.redactedDsn),
  };
  if (state.embeddedDsn !== undefined) out.embeddedDsn = state.embeddedDsn;
  return out;
}

/** Removes the run state (globalTeardown), so a later in-process run cannot pick it up. */
export function clearRunState(env: Env): void {
  delete env[RUN_STATE_ENV];
}

function checkState(state: LiveRunState): { field: string; message: string } | undefined {
  if (!isRunId(state.runId))
    return { field: 'runId', message: 'expected 10 characters of [a-z0-9]' };
  if (!DRIVER_NAMES.includes(state.driver)) {
    return { field: 'driver', message: `expected one of ${DRIVER_NAMES.join(', ')}` };
  }
  if (
    state.embeddedDsn !== undefined &&
    (typeof state.embeddedDsn !== 'string' || state.embeddedDsn === '')
  ) {
    return { field: 'embeddedDsn', message: 'expected a non-empty string' };
  }
  if (typeof state.serverVersion !== 'string') {
    return { field: 'serverVersion', message: 'expected a string' };
  }
  if (typeof state.redactedDsn !== 'string') {
    return { field: 'redactedDsn', message: 'expected a string' };
  }
  return undefined;
}
