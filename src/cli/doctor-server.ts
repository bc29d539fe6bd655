/**
 * The doctor's checks against the server. Everything runs in ONE read-only transaction, so the
 * server itself guarantees that the doctor writes nothing: not the ledger, not a schema.
 */
import { createConnection } from '../driver/create-connection';
import { probePoolingMode } from '../driver/pooling-probe';
import type { Connection, DriverName, TransactionScope } from '../driver/port';
import { DOCTOR_PROBE_LOCK } from '../live/lock-keys';
import { MIN_SERVER_VERSION_NUM, checkServer } from '../live/server-check';
import { ENV, type LiveTarget } from '../live/config';
import type { Check, LedgerInfo, PlanEntryJson, ServerInfo } from './doctor-report';
import { connectBounded } from './connect';

/** What the doctor needs from the run bootstrap (src/live), injected to keep this testable. */
export interface ResetPlanner {
  /** The checks a run makes before writing anything (privileges, read-only, encoding, ledger). */
  preflight(scope: TransactionScope): Promise<{ checks: Check[]; ledger: LedgerInfo }>;
  /**
   * A DRY RUN of what the run bootstrap and reset would drop, empty, keep or leave alone; a run
   * collects another run only once its lease has been expired for `graceMs` (the run's leaseMs).
   */
  plan(scope: TransactionScope, options: { graceMs: number }): Promise<PlanEntryJson[]>;
}

export interface ServerProbe {
  checks: Check[];
  server: ServerInfo | null;
  ledger: LedgerInfo | null;
  resetPlan: PlanEntryJson[] | null;
}

interface FactsRow {
  database: string;
  num: string;
  version: string;
  current_user: string;
  current_schema: string | null;
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function readFacts(scope: TransactionScope): Promise<FactsRow> {
  const { rows } = await scope.query<FactsRow>(
    `SELECT current_database() AS database, current_setting('server_version_num') AS num,
            current_setting('server_version') AS version, current_user AS current_user,
            current_schema() AS current_schema`,
  );
  return rows[0];
}

function serverChecks(facts: FactsRow, target: LiveTarget): Check[] {
  const versionNum = Number(facts.num);
  // The preset's own wording for a database mismatch (the version is judged separately below).
  const mismatch = checkServer(
    { database: facts.database, versionNum: MIN_SERVER_VERSION_NUM, version: facts.version },
    target.resetAck,
  );
  return [
    versionNum >= MIN_SERVER_VERSION_NUM
      ? {
          name: 'server-version',
          status: 'ok',
          detail: `PostgreSQL ${facts.version} (13 or newer required)`,
        }
      : {
          name: 'server-version',
          status: 'fail',
          detail: `PostgreSQL ${facts.version} is too old: 13 or newer is required (gen_random_uuid)`,
        },
    mismatch
      ? { name: 'database', status: 'fail', detail: mismatch.message }
      : {
          name: 'database',
          status: 'ok',
          detail: `current_database() = ${JSON.stringify(facts.database)} = ${ENV.reset}`,
        },
  ];
}

async function advisoryLockCheck(scope: TransactionScope): Promise<Check> {
  try {
    const locked = await scope.savepoint(async (inner) => {
      const { rows } = await inner.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_xact_lock($1::int4, $2::int4) AS locked',
        [DOCTOR_PROBE_LOCK.namespace, DOCTOR_PROBE_LOCK.key],
      );
      return rows[0].locked;
    });
    return {
      name: 'advisory-locks',
      status: 'ok',
      detail: locked
        ? 'pg_try_advisory_xact_lock works (taken and released with the transaction)'
        : 'pg_try_advisory_xact_lock is callable (the probe key is held by another doctor)',
    };
  } catch (error) {
    return {
      name: 'advisory-locks',
      status: 'fail',
      detail: `advisory locks are unusable: ${reasonOf(error)}`,
    };
  }
}

async function probeInTransaction(
  connection: Connection,
  target: LiveTarget,
  graceMs: number,
  planner: ResetPlanner,
): Promise<ServerProbe> {
  return connection.transaction(async (scope) => {
    await scope.query('SET TRANSACTION READ ONLY');
    const facts = await readFacts(scope);
    const checks = serverChecks(facts, target);
    checks.push(await advisoryLockCheck(scope));
    const preflight = await planner.preflight(scope);
    checks.push(...preflight.checks);
    const ledger = preflight.ledger;
    let resetPlan: PlanEntryJson[] | null = null;
    try {
      resetPlan = await scope.savepoint((inner) => planner.plan(inner, { graceMs }));
      const acting = (a: PlanEntryJson['action']) => a === 'drop-schema' || a === 'empty-tables';
      const drops = resetPlan.filter((entry) => acting(entry.action)).length;
      checks.push({
        name: 'reset-plan',
        status: 'ok',
        detail: `${drops} object(s) would be dropped or emptied, ${resetPlan.length - drops} kept or left alone (dry run)`,
      });
      for (const entry of resetPlan) {
        if (entry.action === 'keep-schema' || entry.action === 'skip-schema') {
          checks.push({
            name: 'cleanup',
            status: 'info',
            detail: `${entry.object}: ${entry.reason}`,
          });
        }
      }
    } catch (error) {
      checks.push({
        name: 'reset-plan',
        status: 'fail',
        detail: `could not plan the reset: ${reasonOf(error)}`,
      });
    }
    const server: ServerInfo = {
      version: facts.version,
      versionNum: Number(facts.num),
      database: facts.database,
      currentUser: facts.current_user,
      currentSchema: facts.current_schema,
    };
    return { checks, server, ledger, resetPlan };
  });
}

/**
 * Whether a pooler answers on the DSN and in which mode (two clients, see probePoolingMode).
 * Informational: the preset binds its schema and settings per transaction behind any pooler and
 * keeps no session state, so every mode works; the line says what was measured.
 */
async function poolerCheck(
  target: LiveTarget,
  driver: DriverName,
  connectTimeoutMs: number,
): Promise<Check> {
  try {
    const { mode, evidence } = await probePoolingMode(target.dsn, { driver, connectTimeoutMs });
    const what: Record<typeof mode, string> = {
      none: 'no pooler: a direct session',
      session: 'a pooler in session mode',
      transaction: 'a pooler in transaction mode (schema and settings are bound per transaction)',
      unknown: 'a pooler in an unknown mode',
    };
    return { name: 'pooler', status: 'info', detail: `${what[mode]}; ${evidence}` };
  } catch (error) {
    return { name: 'pooler', status: 'info', detail: `not probed: ${reasonOf(error)}` };
  }
}

export async function probeServer(
  target: LiveTarget,
  driver: DriverName,
  { connectTimeoutMs, graceMs }: { connectTimeoutMs: number; graceMs: number },
  planner: ResetPlanner,
): Promise<ServerProbe> {
  const began = Date.now();
  let connection: Connection;
  try {
    connection = await connectBounded(
      () =>
        createConnection(target.dsn, {
          driver,
          connectTimeoutMs,
          max: 1,
          applicationName: 'user-engine-live:doctor',
        }),
      connectTimeoutMs,
    );
  } catch (error) {
    return {
      checks: [{ name: 'connect', status: 'fail', detail: reasonOf(error) }],
      server: null,
      ledger: null,
      resetPlan: null,
    };
  }
  const where = `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
  const connected: Check = {
    name: 'connect',
    status: 'ok',
    detail: `${where} with ${driver} in ${Date.now() - began} ms (timeout ${connectTimeoutMs} ms)`,
  };
  try {
    const probe = await probeInTransaction(connection, target, graceMs, planner);
    const pooler = await poolerCheck(target, driver, connectTimeoutMs);
    return { ...probe, checks: [connected, pooler, ...probe.checks] };
  } catch (error) {
    return {
      checks: [
        connected,
        {
          name: 'server-version',
          status: 'fail',
          detail: `probing the server failed: ${reasonOf(error)}`,
        },
      ],
      server: null,
      ledger: null,
      resetPlan: null,
    };
  } finally {
    await connection.close().catch(() => undefined);
  }
}
