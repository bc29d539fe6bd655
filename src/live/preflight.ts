/**
 * The checks made before a live run writes anything, shared by the run bootstrap (which fails
 * once, in globalSetup, on the first failed check) and `doctor` (which prints them all), so the
 * two cannot disagree. Catalog and setting reads only: safe in a read-only transaction.
 */
import type { Queryable } from '../driver/port';
import { PreflightError, type PreflightCode } from './errors';
import { quoteIdent } from './isolation';
import {
  describeForeignLedger,
  describeMissingLedgerPrivileges,
  LEDGER_FACTS,
  ledgerStateOf,
  type LedgerFacts,
  type LedgerState,
} from './ledger-identity';
import { LEDGER_SCHEMA } from './ledger';
import { jsonColumn } from './json-column';
import {
  checkServer,
  SERVER_FACTS_COLUMNS,
  serverFactsOf,
  type ServerFacts,
  type ServerFactsRecord,
} from './server-check';
import { PRESET_SESSION_SETTINGS } from './session-guards';

export type PreflightCheckName =
  'create-privilege' | 'read-only' | 'encoding' | 'ledger' | 'session-settings';

export interface PreflightCheck {
  name: PreflightCheckName;
  status: 'ok' | 'fail' | 'info';
  detail: string;
  /** The error code a run would fail with (failed checks only). */
  code?: PreflightCode;
}

export interface PreflightReport {
  role: string;
  database: string;
  /** The server as the same read saw it (`checkServer` judges it). */
  server: ServerFacts;
  ledger: LedgerState;
  checks: PreflightCheck[];
}

interface Facts extends ServerFactsRecord {
  role: string;
  can_create: boolean;
  encoding: string;
  in_recovery: boolean;
  default_read_only: string;
  settings: Record<string, string> | string | null;
  ledger: LedgerFacts | string | null;
}

async function readFacts(q: Queryable): Promise<Facts> {
  const names = Object.keys(PRESET_SESSION_SETTINGS);
  const { rows } = await q.query<Facts>(
    `SELECT current_user AS role, ${SERVER_FACTS_COLUMNS},
            has_database_privilege(current_user, current_database(), 'CREATE') AS can_create,
            (SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = current_database()) AS encoding,
            pg_is_in_recovery() AS in_recovery,
            current_setting('default_transaction_read_only') AS default_read_only,
            (SELECT json_object_agg(name, setting) FROM pg_settings WHERE name = ANY($1::text[])) AS settings,
            ${LEDGER_FACTS} AS ledger`,
    [names],
  );
  return rows[0];
}

function createCheck(f: Facts, ledger: LedgerState): PreflightCheck {
  const db = quoteIdent(f.database);
  if (f.can_create) {
    return {
      name: 'create-privilege',
      status: 'ok',
      detail: `role ${quoteIdent(f.role)} has CREATE on database ${db} (run schemas${ledger.kind === 'absent' ? ' and the ledger schema' : ''})`,
    };
  }
  return {
    name: 'create-privilege',
    status: 'fail',
    code: 'missing_privilege',
    detail:
      `role ${quoteIdent(f.role)} lacks the CREATE privilege on database ${db}, which the preset ` +
      `needs to create its ledger schema ${quoteIdent(LEDGER_SCHEMA)} and one schema per Jest ` +
      `worker (it needs only CONNECT and CREATE on the database). Nothing was written. As an ` +
      `admin run: GRANT CREATE ON DATABASE ${db} TO ${quoteIdent(f.role)};`,
  };
}

function readOnlyCheck(f: Facts): PreflightCheck {
  if (f.in_recovery) {
    return {
      name: 'read-only',
      status: 'fail',
      code: 'read_only_session',
      detail:
        'the server is a standby in recovery (pg_is_in_recovery()), so every session is read-only. ' +
        'Nothing was written. Point USER_ENGINE_LIVE_DSN at the primary',
    };
  }
  // The role's default, not `transaction_read_only`: doctor reads these facts inside its own READ
  // ONLY transaction, while a run's sessions start with the default.
  if (f.default_read_only === 'on') {
    return {
      name: 'read-only',
      status: 'fail',
      code: 'read_only_session',
      detail:
        `sessions of role ${quoteIdent(f.role)} are read-only (default_transaction_read_only = on). ` +
        `Nothing was written. Run as a role without it, or: ALTER ROLE ${quoteIdent(f.role)} ` +
        `IN DATABASE ${quoteIdent(f.database)} SET default_transaction_read_only = off;`,
    };
  }
  return { name: 'read-only', status: 'ok', detail: 'sessions are read-write' };
}

function encodingCheck(f: Facts): PreflightCheck {
  if (f.encoding === 'UTF8') {
    return { name: 'encoding', status: 'ok', detail: `database encoding is UTF8` };
  }
  return {
    name: 'encoding',
    status: 'fail',
    code: 'unsupported_encoding',
    detail:
      `database ${quoteIdent(f.database)} has encoding ${f.encoding}; the store needs UTF8 (user ` +
      `names, emails and identities are Unicode). Nothing was written. Use a UTF8 database, e.g. ` +
      `CREATE DATABASE ${quoteIdent(`${f.database}_utf8`)} ENCODING 'UTF8' TEMPLATE template0;`,
  };
}

function ledgerCheck(f: Facts, ledger: LedgerState): PreflightCheck {
  switch (ledger.kind) {
    case 'absent':
      return {
        name: 'ledger',
        status: 'info',
        detail: `schema ${quoteIdent(LEDGER_SCHEMA)} is absent: the first live run creates it`,
      };
    case 'foreign':
      return {
        name: 'ledger',
        status: 'fail',
        code: 'foreign_ledger',
        detail: describeForeignLedger(ledger),
      };
    case 'ours':
      return ledger.missing.length > 0
        ? {
            name: 'ledger',
            status: 'fail',
            code: 'missing_privilege',
            detail: describeMissingLedgerPrivileges(f.role, ledger),
          }
        : {
            name: 'ledger',
            status: 'ok',
            detail: `schema ${quoteIdent(LEDGER_SCHEMA)} is a run ledger (created by ${quoteIdent(ledger.owner)}), usable by ${quoteIdent(f.role)}`,
          };
  }
}

function settingsCheck(f: Facts): PreflightCheck {
  const current = jsonColumn<Record<string, string>>(f.settings, {});
  const differing = Object.entries(PRESET_SESSION_SETTINGS)
    .filter(([name, wanted]) => current[name] !== undefined && current[name] !== wanted)
    .map(([name, wanted]) => `${name} = ${current[name]} (the preset's sessions use ${wanted})`);
  return {
    name: 'session-settings',
    status: 'info',
    detail: differing.length
      ? `role defaults the preset overrides in its sessions: ${differing.join(', ')}`
      : 'role defaults match what the preset sets in its sessions',
  };
}

/** Every check, in a fixed order; reads only. */
export async function runPreflight(q: Queryable): Promise<PreflightReport> {
  const facts = await readFacts(q);
  const ledger = ledgerStateOf(facts.ledger);
  return {
    role: facts.role,
    database: facts.database,
    server: serverFactsOf(facts),
    ledger,
    checks: [
      createCheck(facts, ledger),
      readOnlyCheck(facts),
      encodingCheck(facts),
      ledgerCheck(facts, ledger),
      settingsCheck(facts),
    ],
  };
}

/**
 * Throws for the first failed check, `PreflightError`, or with `database` (the acknowledged one)
 * first the `LivePresetError` of `checkServer`; returns the report otherwise.
 */
export async function assertPreflight(q: Queryable, database?: string): Promise<PreflightReport> {
  const report = await runPreflight(q);
  const refusal = database === undefined ? undefined : checkServer(report.server, database);
  if (refusal) throw refusal;
  const failed = report.checks.find((c) => c.status === 'fail');
  if (failed) throw new PreflightError(failed.code ?? 'missing_privilege', failed.detail);
  return report;
}
