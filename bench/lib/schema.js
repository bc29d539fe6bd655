/**
 * A migrated schema for the in-process benchmarks, created with the package's own store
 * migrations, and fast bulk loading of the managed tables with `INSERT ... SELECT generate_series`.
 */
'use strict';
const { connect, dist, dropSchema } = require('./db');

function quote(name) {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Creates `schema` afresh (dropping a leftover) and migrates it; returns a pool bound to it. */
async function migratedSchema(dsn, schema, { driver = 'pg', max = 1 } = {}) {
  const admin = await connect(dsn, { max: 1, driver: 'pg' });
  try {
    await dropSchema(admin, schema);
    await admin.query(`CREATE SCHEMA ${quote(schema)}`);
  } finally {
    await admin.close();
  }
  const conn = await connect(dsn, { schema, max, driver });
  const { createPostgresStore } = dist('store/postgres/postgres-store.js');
  await createPostgresStore(conn).migrate();
  return conn;
}

/** `"schema"."table"` for the three managed tables, children first (TRUNCATE order is free). */
function managedTables(schema) {
  const { MANAGED_TABLES } = dist('store/contract.js');
  return MANAGED_TABLES.map((table) => `${quote(schema)}.${quote(table)}`);
}

/**
 * Loads `perTable` rows into EACH managed table: users, one identity per user, one outbox event
 * per user. Three statements, all server-side (generate_series), so loading stays cheap.
 */
async function loadRows(conn, schema, perTable) {
  if (perTable === 0) return;
  const [users, identities, outbox] = managedTables(schema);
  await conn.query(
    `INSERT INTO ${users} (id, email, email_key, display_name, status)
     SELECT gen_random_uuid(), 'user' || g || '@example.com', 'user' || g || '@example.com',
       'User ' || g, 'active'
     FROM generate_series(1, $1::int) AS g`,
    [perTable],
  );
  await conn.query(
    `INSERT INTO ${identities} (provider, subject, user_id)
     SELECT 'github', 'subject-' || email_key, id FROM ${users}`,
  );
  await conn.query(
    `INSERT INTO ${outbox} (type, aggregate_id, payload)
     SELECT 'user.created', id, jsonb_build_object('email', email, 'displayName', display_name)
     FROM ${users}`,
  );
}

async function rowCounts(conn, schema) {
  const [users, identities, outbox] = managedTables(schema);
  const { rows } = await conn.query(
    `SELECT (SELECT count(*) FROM ${users})::int AS users,
            (SELECT count(*) FROM ${identities})::int AS identities,
            (SELECT count(*) FROM ${outbox})::int AS outbox`,
  );
  return rows[0];
}

module.exports = { quote, migratedSchema, managedTables, loadRows, rowCounts };
