/**
 * The checks made on the admin connection before anything is written: the server is the
 * acknowledged database (a proxy or service file could route elsewhere) and new enough.
 */
import type { Queryable } from '../driver/port';
import { MIN_SERVER_VERSION_NUM } from '../store/postgres/schema';
import { ENV } from './config/env';
import { LivePresetError } from './preset-errors';

// The floor is the store schema's own (gen_random_uuid() is built in from PostgreSQL 13 on).
export { MIN_SERVER_VERSION_NUM };

export interface ServerFacts {
  database: string;
  /** `server_version_num`, e.g. 150004. */
  versionNum: number;
  /** `server_version`, e.g. `15.4 (Debian 15.4-1)`. */
  version: string;
}

/** The columns `serverFactsOf` reads, for a statement of its own or another's (the preflight's). */
export const SERVER_FACTS_COLUMNS = `current_database() AS database,
  current_setting('server_version_num') AS server_version_num,
  current_setting('server_version') AS server_version`;

export interface ServerFactsRecord {
  database: string;
  server_version_num: string;
  server_version: string;
}

export function serverFactsOf(row: ServerFactsRecord): ServerFacts {
  return {
    database: row.database,
    versionNum: Number(row.server_version_num),
    version: row.server_version,
  };
}

export async function readServerFacts(connection: Queryable): Promise<ServerFacts> {
  const { rows } = await connection.query<ServerFactsRecord>(`SELECT ${SERVER_FACTS_COLUMNS}`);
  return serverFactsOf(rows[0]);
}

/** Undefined when the run may go ahead; otherwise the reason it must not. */
export function checkServer(facts: ServerFacts, acknowledged: string): LivePresetError | undefined {
  if (facts.database !== acknowledged) {
    return new LivePresetError(
      'reset_database_mismatch',
      `${ENV.reset}=${JSON.stringify(acknowledged)} but the server connected to database ` +
        `${JSON.stringify(facts.database)}: nothing was written. Point USER_ENGINE_LIVE_DSN at ` +
        `the acknowledged database, or set ${ENV.reset}=${facts.database} if that database may ` +
        `have user_engine_live_* schemas created and dropped`,
      ENV.reset,
    );
  }
  if (!(facts.versionNum >= MIN_SERVER_VERSION_NUM)) {
    return new LivePresetError(
      'server_too_old',
      `PostgreSQL ${facts.version} is too old: the live store needs 13 or newer ` +
        `(server_version_num ${facts.versionNum} < ${MIN_SERVER_VERSION_NUM}); nothing was written`,
    );
  }
  return undefined;
}
