/**
 * One database per faults test file (`ue_faults_<name>`), made through the admin DSN from
 * USER_ENGINE_LIVE_DSN and dropped afterwards. DSNs handed to drivers and child runs carry the
 * sentinel password, so any output can be checked for it.
 */
import { Client } from 'pg';
import { fingerprint, plantCanaries } from '../../support/canaries';
import { ADMIN_DSN, dropDatabase, recreateDatabase } from '../../support/admin-db';
import { SENTINEL_PASSWORD } from '../../support/sentinel';
import { RUN_SCHEMA } from '../../support/run-schemas';

export { ADMIN_DSN };

/** Fault tests need a server; without USER_ENGINE_LIVE_DSN they are skipped. */
export const describeWithDatabase = ADMIN_DSN ? describe : describe.skip;

/** Where the admin DSN points: the proxy forwards there. */
export function upstreamOf(dsn: string): { host: string; port: number } {
  const url = new URL(dsn);
  return { host: url.hostname || '127.0.0.1', port: Number(url.port || 5432) };
}

export interface Leftovers {
  runSchemas: string[];
  ledgerRows: number;
  /** Sessions whose application_name is the preset's (`user-engine-live:<runId>`). */
  backends: number;
}

export interface FaultsDatabase {
  readonly name: string;
  /** postgres://postgres:<sentinel>@<admin host:port>/<name> */
  readonly dsn: string;
  /** Env of a live child run against `dsn` (or the same database through a proxy). */
  liveEnv(dsn?: string, extra?: Record<string, string>): Record<string, string>;
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;
  plantCanaries(): Promise<void>;
  /** md5 of every canary table's rows, one line per table. */
  canarySnapshot(): Promise<string>;
  /** What runs left behind; backends are given `settleMs` to end (they exit after the socket). */
  leftovers(settleMs?: number): Promise<Leftovers>;
  drop(): Promise<void>;
}

export async function createFaultsDatabase(suffix: string): Promise<FaultsDatabase> {
  if (!ADMIN_DSN) throw new Error('USER_ENGINE_LIVE_DSN is not set');
  if (!/^[a-z0-9_]+$/.test(suffix)) throw new Error(`bad database suffix ${suffix}`);
  const name = `ue_faults_${suffix}`;
  await recreateDatabase(name);
  const url = new URL(ADMIN_DSN);
  url.password = SENTINEL_PASSWORD;
  url.pathname = `/${name}`;
  const dsn = url.toString();
  const check = new Client({ connectionString: dsn, application_name: 'ue-faults-check' });
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
    liveEnv: (target = dsn, extra = {}) => ({
      USER_ENGINE_LIVE_DSN: target,
      USER_ENGINE_LIVE_RESET: name,
      ...extra,
    }),
    query,
    plantCanaries: () => plantCanaries(query),
    canarySnapshot: () => fingerprint(query),
    leftovers: async (settleMs = 2000) => {
      const schemas = await query<{ nspname: string }>(
        `SELECT nspname FROM pg_namespace WHERE starts_with(nspname, 'user_engine_live_') ORDER BY 1`,
      );
      // Rows of both ledger tables (runs and their schemas); 0 when there is no ledger yet.
      const [ledger] = await query<{ n: number | null }>(
        `SELECT CASE WHEN to_regclass('user_engine_live.runs') IS NULL THEN 0 ELSE
           (SELECT count(*) FROM user_engine_live.runs) + (SELECT count(*) FROM user_engine_live.schemas)
         END::int AS n`,
      );
      const ledgerRows = ledger.n ?? 0;
      let backends = await countBackends();
      for (let waited = 0; backends > 0 && waited < settleMs; waited += 50) {
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
      await dropDatabase(name);
    },
  };
}
