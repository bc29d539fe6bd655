/**
 * The doctor's checks against the server. Everything runs in ONE read-only transaction, so the
 * server itself guarantees that the doctor writes nothing: not the ledger, not a schema.
 */
import { createConnection } from '../driver/create-connection';
import type { Connection, DriverName, TransactionScope } from '../driver/port';
import { MIN_SERVER_VERSION_NUM, checkServer } from '../live/server-check';
import { ENV, type LiveTarget } from '../live/config';
import { quoteIdent } from '../live/isolation';
import type { Check, LedgerInfo, PlanEntryJson, ServerInfo } from './doctor-report';
import { connectBounded } from './connect';

/** What the doctor needs from the run bootstrap (src/live), injected to keep this testable. */
export interface ResetPlanner {
  /** Unqualified name of the run ledger table (it lives in the admin's current_schema()). */
  readonly ledgerTable: string;
  /** A DRY RUN of what the run bootstrap and reset would drop, empty or leave alone. */
  plan(scope: TransactionScope): Promise<PlanEntryJson[]>;
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
  can_create: boolean;
}

/** Arbitrary but fixed: the doctor's own advisory lock key, taken for the transaction only. */
const DOCTOR_LOCK: readonly [number, number] = [0x75656c, 0x646f63];

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function readFacts(scope: TransactionScope): Promise<FactsRow> {
  const { rows } = await scope.query<FactsRow>(
    `SELECT current_database() AS database, current_setting('server_version_num') AS num,
            current_setting('server_version') AS version, current_user AS current_user,
            current_schema() AS current_schema,
            has_database_privilege(current_user, current_database(), 'CREATE') AS can_create`,
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
    facts.can_create
      ? {
          name: 'create-privilege',
          status: 'ok',
          detail: `${facts.current_user} may CREATE schemas in database ${JSON.stringify(facts.database)}`,
        }
      : {
          name: 'create-privilege',
          status: 'fail',
          detail:
            `${facts.current_user} lacks CREATE on database ${JSON.stringify(facts.database)}: ` +
            `GRANT CREATE ON DATABASE ${quoteIdent(facts.database)} TO ${quoteIdent(facts.current_user)}`,
        },
  ];
}

async function advisoryLockCheck(scope: TransactionScope): Promise<Check> {
  try {
    const locked = await scope.savepoint(async (inner) => {
      const { rows } = await inner.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_xact_lock($1::int4, $2::int4) AS locked',
        DOCTOR_LOCK,
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

async function ledgerCheck(
  scope: TransactionScope,
  facts: FactsRow,
  table: string,
): Promise<{ check: Check; ledger: LedgerInfo | null }> {
  if (facts.current_schema === null) {
    return {
      ledger: null,
      check: {
        name: 'ledger',
        status: 'fail',
        detail: `search_path names no existing schema, so the run ledger (${table}) has no home: set search_path for ${facts.current_user}, e.g. to public`,
      },
    };
  }
  const { rows } = await scope.query<{
    present: boolean;
    can_create: boolean;
    can_use: boolean | null;
  }>(
    `SELECT to_regclass(format('%I.%I', current_schema(), $1::text)) IS NOT NULL AS present,
            has_schema_privilege(current_schema(), 'CREATE') AS can_create,
            CASE WHEN to_regclass(format('%I.%I', current_schema(), $1::text)) IS NULL THEN NULL
                 ELSE has_table_privilege(to_regclass(format('%I.%I', current_schema(), $1::text)),
                                          'SELECT, INSERT, DELETE') END AS can_use`,
    [table],
  );
  const { present, can_create: canCreate, can_use: canUse } = rows[0];
  const qualified = `${facts.current_schema}.${table}`;
  const ledger = { table: qualified, present };
  if (present) {
    return {
      ledger,
      check: canUse
        ? { name: 'ledger', status: 'ok', detail: `${qualified} exists and is writable` }
        : {
            name: 'ledger',
            status: 'fail',
            detail: `${qualified} exists but ${facts.current_user} may not SELECT, INSERT and DELETE in it`,
          },
    };
  }
  return {
    ledger,
    check: canCreate
      ? {
          name: 'ledger',
          status: 'info',
          detail: `${qualified} is absent: the first live run creates it (the doctor does not)`,
        }
      : {
          name: 'ledger',
          status: 'fail',
          detail: `${qualified} is absent and ${facts.current_user} lacks CREATE on schema ${JSON.stringify(facts.current_schema)} to create it`,
        },
  };
}

async function probeInTransaction(
  connection: Connection,
  target: LiveTarget,
  planner: ResetPlanner,
): Promise<ServerProbe> {
  return connection.transaction(async (scope) => {
    await scope.query('SET TRANSACTION READ ONLY');
    const facts = await readFacts(scope);
    const checks = serverChecks(facts, target);
    checks.push(await advisoryLockCheck(scope));
    const { check, ledger } = await ledgerCheck(scope, facts, planner.ledgerTable);
    checks.push(check);
    let resetPlan: PlanEntryJson[] | null = null;
    try {
      resetPlan = await scope.savepoint((inner) => planner.plan(inner));
      const drops = resetPlan.filter((entry) => entry.action !== 'leave-alone').length;
      checks.push({
        name: 'reset-plan',
        status: 'ok',
        detail: `${drops} object(s) would be dropped or emptied, ${resetPlan.length - drops} left alone (dry run)`,
      });
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

export async function probeServer(
  target: LiveTarget,
  driver: DriverName,
  connectTimeoutMs: number,
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
    const probe = await probeInTransaction(connection, target, planner);
    return { ...probe, checks: [connected, ...probe.checks] };
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
