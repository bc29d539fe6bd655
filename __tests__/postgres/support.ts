/**
 * Live-test plumbing: tests run against USER_ENGINE_LIVE_DSN when it is set and are skipped
 * otherwise, so `npm test` stays green without a server. Every schema made here is `ue_test_*`
 * (the preset owns `user_engine_live_*`) and is dropped by whoever made it.
 */
import { randomBytes } from 'node:crypto';
import { createConnection, quoteIdentifier } from '../../src/driver';
import type { Connection, ConnectionOptions, DriverName } from '../../src/driver';
import { ADMIN_DSN } from '../support/admin-db';

export { ADMIN_DSN };

/** `describe` with a server, `describe.skip` without one. */
export const describeLive: jest.Describe = ADMIN_DSN ? describe : describe.skip;

export function liveDsn(): string {
  if (!ADMIN_DSN) throw new Error('USER_ENGINE_LIVE_DSN is not set');
  return ADMIN_DSN;
}

export function randomSchemaName(): string {
  return `ue_test_${randomBytes(6).toString('hex')}`;
}

/** A pool on the live database bound to nothing in particular, for DDL. */
export function adminConnection(driver: DriverName): Promise<Connection> {
  return createConnection(liveDsn(), { driver, max: 1 });
}

export interface TestSchema {
  schema: string;
  /** A pool whose sessions all have search_path = the schema. */
  connection: Connection;
  /** Closes the pool, then drops the schema. */
  drop(): Promise<void>;
}

export async function createTestSchema(
  admin: Connection,
  options: Omit<ConnectionOptions, 'schema'> = {},
): Promise<TestSchema> {
  const schema = randomSchemaName();
  await admin.query(`CREATE SCHEMA ${quoteIdentifier(schema)}`);
  let connection: Connection;
  try {
    connection = await createConnection(liveDsn(), { driver: admin.driver, ...options, schema });
  } catch (error) {
    await admin.query(`DROP SCHEMA ${quoteIdentifier(schema)} CASCADE`);
    throw error;
  }
  return {
    schema,
    connection,
    async drop() {
      await connection.close();
      await admin.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`);
    },
  };
}

/** Empties the store's tables, keeping the schema migrated. */
export async function deleteAllRows(connection: Connection): Promise<void> {
  await connection.query(
    'DELETE FROM user_engine_identities; DELETE FROM user_engine_users; DELETE FROM user_engine_outbox',
  );
}
