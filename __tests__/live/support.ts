/**
 * Live-test plumbing for the src/live tests: a private database per test file (other suites run
 * against the same server at the same time), connections through the driver port, and canary
 * fingerprints proving that objects we do not own stay byte-identical.
 */
import { createConnection } from '../../src/driver/create-connection';
import type { Connection, ConnectionOptions, DriverName, Queryable } from '../../src/driver/port';
import { qualifiedName, quoteIdent } from '../../src/live/isolation';
import { ADMIN_DSN } from '../support/admin-db';

export { ADMIN_DSN };
/** `describe` when `USER_ENGINE_LIVE_DSN` is set, else `describe.skip`. */
export const describeLive = ADMIN_DSN ? describe : describe.skip;
export const DRIVERS: DriverName[] = ['pg', 'postgres'];

/** The live DSN pointed at database `name`, created on first use. */
export async function privateDatabase(name: string): Promise<string> {
  if (!ADMIN_DSN) throw new Error('USER_ENGINE_LIVE_DSN is not set');
  const admin = await createConnection(ADMIN_DSN, { max: 1 });
  try {
    const { rows } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rows.length === 0) {
      try {
        await admin.query(`CREATE DATABASE ${quoteIdent(name)}`);
      } catch (error) {
        // Another worker created it in the meantime.
        if (!String(error).includes('42P04') && !String(error).includes('23505')) throw error;
      }
    }
  } finally {
    await admin.close();
  }
  const url = new URL(ADMIN_DSN);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A connection on `dsn`; closed by `closeAll`. */
export function opener(dsn: string): {
  open(options?: ConnectionOptions): Promise<Connection>;
  closeAll(): Promise<void>;
} {
  const opened: Connection[] = [];
  return {
    async open(options: ConnectionOptions = {}) {
      const connection = await createConnection(dsn, { max: 1, ...options });
      opened.push(connection);
      return connection;
    },
    async closeAll() {
      await Promise.all(opened.splice(0).map((c) => c.close().catch(() => undefined)));
    },
  };
}

/** A deferred promise, to hold a transaction open until the test says so. */
export function gate(): { wait: Promise<void>; open(): void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

/** Waits until `predicate` holds (polling), at most `ms`. */
export async function until(predicate: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function schemaExists(q: Queryable, schema: string): Promise<boolean> {
  const { rows } = await q.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
  return rows.length === 1;
}

export async function rowCount(q: Queryable, schema: string, table: string): Promise<number> {
  const { rows } = await q.query<{ n: string }>(
    `SELECT count(*) AS n FROM ${qualifiedName(schema, table)}`,
  );
  return Number(rows[0].n);
}
