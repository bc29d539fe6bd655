/**
 * One database per e2e test file (`ue_e2e_<name>`, or another prefix), created through the admin DSN from
 * USER_ENGINE_LIVE_DSN; the child runs get a DSN to it that carries the sentinel password.
 */
import { Client } from 'pg';
import { fingerprint, plantCanaries } from '../../support/canaries';
import { ADMIN_DSN, withAdmin } from '../../support/admin-db';
import { SENTINEL_PASSWORD } from '../../support/sentinel';
import { RUN_SCHEMA } from '../../support/run-schemas';

export { ADMIN_DSN };

/** Live e2e tests need a server; without USER_ENGINE_LIVE_DSN they are skipped. */
export const describeWithDatabase = ADMIN_DSN ? describe : describe.skip;

export interface Leftovers {
  runSchemas: string[];
  ledgerRows: number;
  backends: number;
}

export interface E2eDatabase {
  name: string;
  /** postgres://postgres:<sentinel>@host:port/<name> */
  dsn: string;
  /** Env for a live child run against this database. */
  liveEnv(extra?: Record<string, string>): Record<string, string>;
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;
  plantCanaries(): Promise<void>;
  /** md5 of every canary table's rows and columns, one line per table. */
  canarySnapshot(): Promise<string>;
  /** Every table and schema that exists, to prove a failed run wrote nothing. */
  catalogSnapshot(): Promise<string>;
  /** Schemas, ledger rows and backends a run left behind (backends waited for briefly). */
  leftovers(): Promise<Leftovers>;
  drop(): Promise<void>;
}

async function dropDatabase(client: Client, name: string): Promise<void> {
  await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
}

/**
 * `prefix` keeps suites of different owners apart on a shared server (default `ue_e2e_`);
 * `encoding` makes a database that is not the cluster's default (C collation, from template0).
 */
export async function createE2eDatabase(
  suffix: string,
  prefix = 'ue_e2e_',
  encoding?: 'LATIN1',
): Promise<E2eDatabase> {
  if (!ADMIN_DSN) throw new Error('USER_ENGINE_LIVE_DSN is not set');
  if (!/^[a-z0-9_]+$/.test(suffix)) throw new Error(`bad database suffix ${suffix}`);
  if (!/^[a-z0-9_]+$/.test(prefix)) throw new Error(`bad database prefix ${prefix}`);
  const name = `${prefix}${suffix}`;
  const withEncoding = encoding
    ? ` ENCODING '${encoding}' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`
    : '';
  await withAdmin(async (admin) => {
    await dropDatabase(admin, name);
    await admin.query(`CREATE DATABASE "${name}"${withEncoding}`);
  });
  const url = new URL(ADMIN_DSN);
  url.password = SENTINEL_PASSWORD;
  url.pathname = `/${name}`;
  const dsn = url.toString();
  const check = new Client({ connectionString: dsn, application_name: 'ue-e2e-check' });
  await check.connect();

  const query = async <Row>(sql: string, params?: unknown[]) =>
    (await check.query(sql, params)).rows as Row[];

  async function countBackends(): Promise<number> {
    const rows = await query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = $1 AND application_name LIKE 'user-engine-live%'`,
      [name],
    );
    return rows[0].n;
  }

  return {
    name,
    dsn,
    liveEnv: (extra = {}) => ({
      USER_ENGINE_LIVE_DSN: dsn,
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
    leftovers: async () => {
      const schemas = await query<{ nspname: string }>(
        `SELECT nspname FROM pg_namespace WHERE nspname LIKE 'user\\_engine\\_live\\_%' ORDER BY 1`,
      );
      // Rows of both ledger tables (runs and their schemas); 0 when there is no ledger yet.
      const [ledger] = await query<{ n: number | null }>(
        `SELECT CASE WHEN to_regclass('user_engine_live.runs') IS NULL THEN 0 ELSE
           (SELECT count(*) FROM user_engine_live.runs) + (SELECT count(*) FROM user_engine_live.schemas)
         END::int AS n`,
      );
      const ledgerRows = ledger.n ?? 0;
      // A backend ends a moment after its client's socket closes (longer on a loaded machine).
      let backends = await countBackends();
      for (let i = 0; i < 200 && backends > 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        backends = await countBackends();
      }
      return {
        runSchemas: schemas.map((s) => s.nspname).filter((s) => RUN_SCHEMA.test(s)),
        ledgerRows,
        backends,
      };
    },
    drop: async () => {
      await check.end();
      await withAdmin((admin) => dropDatabase(admin, name));
    },
  };
}
