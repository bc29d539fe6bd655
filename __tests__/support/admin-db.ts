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

/**
 * The password a test puts into the DSNs it hands to drivers and child runs, and checks is never
 * printed: the admin DSN's own when it has one (a server with password auth, such as the embedded
 * one `npm test` starts), else the suite's `sentinel` (trust auth ignores it).
 */
export function secretFor(sentinel: string): string {
  const dsn = process.env.USER_ENGINE_LIVE_DSN;
  if (!dsn || dsn === 'embedded') return sentinel;
  try {
    return decodeURIComponent(new URL(dsn).password) || sentinel;
  } catch {
    return sentinel;
  }
}

export async function withAdmin<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  if (!ADMIN_DSN) throw new Error('USER_ENGINE_LIVE_DSN is not set');
  const client = new Client({ connectionString: ADMIN_DSN });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Drops database `name` (ending its sessions) and creates it empty. */
export async function recreateDatabase(name: string): Promise<void> {
  await withAdmin(async (admin) => {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${name}"`);
  });
}

export async function dropDatabase(name: string): Promise<void> {
  await withAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}
