/**
 * One database per test file (`<prefix><name>`), created through the admin DSN from
 * USER_ENGINE_LIVE_DSN and dropped afterwards. The DSN handed to drivers and child runs carries the
 * sentinel password, so any output can be checked for it. Used by the e2e, faults, CLI, topology
 * and docs suites.
 */
import { Client } from 'pg';
import { fingerprint, plantCanaries } from './canaries';
import { ADMIN_DSN, dropDatabase, recreateDatabase } from './admin-db';
import { SENTINEL_PASSWORD } from './sentinel';
import { RUN_SCHEMA } from './run-schemas';

export { ADMIN_DSN };

/** Suites that need a server of their own: without USER_ENGINE_LIVE_DSN they are skipped. */
export const describeWithDatabase = ADMIN_DSN ? describe : describe.skip;

export interface Leftovers {
  runSchemas: string[];
  ledgerRows: number;
  /** Sessions whose application_name is the preset's (`user-engine-live:<runId>`). */
  backends: number;
}

export interface TestDatabaseOptions {
  /** Keeps suites apart on a shared server: `ue_e2e_`, `ue_faults_`, `ue_topo_`, … */
  prefix: string;
  /** A database that is not the cluster's default (C collation, from template0). */
  encoding?: 'LATIN1';
}

export interface TestDatabase {
  readonly name: string;
  /** postgres://postgres:<sentinel>@<admin host:port>/<name> */
  readonly dsn: string;
  /** Env of a live child run against `dsn` (or `target`: the same database through a proxy). */
  liveEnv(extra?: Record<string, string>, target?: string): Record<string, string>;
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;
  plantCanaries(): Promise<void>;
  /** One line per canary relation: rows and definition (./canaries). */
  canarySnapshot(): Promise<string>;
  /** Every table and schema that exists, to prove a failed run wrote nothing. */
  catalogSnapshot(): Promise<string>;
  /**
   * Schemas, ledger rows and backends a run left behind. A backend ends a moment after its
   * client's socket closes (longer on a loaded machine), so they get up to `settleMs` to go.
   */
  leftovers(settleMs?: number): Promise<Leftovers>;
  drop(): Promise<void>;
}

const DEFAULT_SETTLE_MS = 10_000;

export async function createTestDatabase(
  suffix: string,
  { prefix, encoding }: TestDatabaseOptions,
): Promise<TestDatabase> {
  if (!ADMIN_DSN) throw new Error('USER_ENGINE_LIVE_DSN is not set');
  if (!/^[a-z0-9_]+$/.test(suffix)) throw new Error(`bad database suffix ${suffix}`);
  if (!/^[a-z0-9_]+$/.test(prefix)) throw new Error(`bad database prefix ${prefix}`);
  const name = `${prefix}${suffix}`;
  await recreateDatabase(name, { encoding });
  const url = new URL(ADMIN_DSN);
  url.password = SENTINEL_PASSWORD;
  url.pathname = `/${name}`;
  const dsn = url.toString();
  const check = new Client({ connectionString: dsn, application_name: 'ue-test-check' });
  await check.connect();

  const query = async <Row>(sql: string, params?: unknown[]) =>
    (await check.query(sql, params)).rows as Row[];

  const countBackends = async () =>
    (
      await query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = $1 AND starts_with(application_name, 'user-engine-live')`,
        [name],
      )
    )[0].n;

  return {
    name,
    dsn,
    liveEnv: (extra = {}, target = dsn) => ({
      USER_ENGINE_LIVE_DSN: target,
      USER_ENGINE_LIVE_RESET: name,
      ...extra,
    }),
    query,
    plantCanaries: () => plantCanaries(query),
    canarySnapshot: () => fingerprint(query),
    catalogSnapshot: async () => {
      const rows = await query<{ item: string }>(
        `SELECT n.nspname || '.' || coalesce(c.relname, '') AS item
           FROM pg_namespace n LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relkind = 'r'
          WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
          ORDER BY 1`,
      );
      return rows.map((row) => row.item).join('\n');
    },
    leftovers: async (settleMs = DEFAULT_SETTLE_MS) => {
      const schemas = await query<{ nspname: string }>(
        `SELECT nspname FROM pg_namespace WHERE starts_with(nspname, 'user_engine_live_') ORDER BY 1`,
      );
      // Rows of both ledger tables (runs and their schemas); 0 when there is no ledger yet.
      const [ledger] = await query<{ n: number | null }>(
        `SELECT CASE WHEN to_regclass('user_engine_live.runs') IS NULL THEN 0 ELSE
           (SELECT count(*) FROM user_engine_live.runs) + (SELECT count(*) FROM user_engine_live.schemas)
         END::int AS n`,
      );
      let backends = await countBackends();
      for (let waited = 0; backends > 0 && waited < settleMs; waited += 50) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        backends = await countBackends();
      }
      return {
        runSchemas: schemas.map((s) => s.nspname).filter((s) => RUN_SCHEMA.test(s)),
        ledgerRows: ledger.n ?? 0,
        backends,
      };
    },
    drop: async () => {
      await check.end();
      await dropDatabase(name);
    },
  };
}
