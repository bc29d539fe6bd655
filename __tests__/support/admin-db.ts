/**
 * The admin side of the live tests' own databases: every suite that needs a database of its own
 * (e2e, faults, cli) creates and drops it through here, over the admin DSN in
 * USER_ENGINE_LIVE_DSN.
 */
import { Client } from 'pg';

/** The admin DSN, or undefined when live tests are off (or the DSN is `embedded`). */
export const ADMIN_DSN =
  process.env.USER_ENGINE_LIVE_DSN && process.env.USER_ENGINE_LIVE_DSN !== 'embedded'
    ? process.env.USER_ENGINE_LIVE_DSN
    : undefined;

/** Runs `fn` on a superuser session to the admin DSN's database, or to `database` on its server. */
export async function withAdmin<T>(
  fn: (client: Client) => Promise<T>,
  database?: string,
): Promise<T> {
  if (!ADMIN_DSN) throw new Error('USER_ENGINE_LIVE_DSN is not set');
  const url = new URL(ADMIN_DSN);
  if (database !== undefined) url.pathname = `/${encodeURIComponent(database)}`;
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Drops database `name` (ending its sessions) and creates it empty; with `encoding`, one that is
 * not the cluster's default (C collation, from template0).
 */
export async function recreateDatabase(
  name: string,
  { encoding }: { encoding?: 'LATIN1' } = {},
): Promise<void> {
  const withEncoding = encoding
    ? ` ENCODING '${encoding}' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`
    : '';
  await withAdmin(async (admin) => {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${name}"${withEncoding}`);
  });
}

export async function dropDatabase(name: string): Promise<void> {
  await withAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}
