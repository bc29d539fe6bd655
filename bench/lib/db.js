/**
 * Where the benchmarks run: a dedicated database `ue_bench` on the server of the admin DSN
 * (USER_ENGINE_LIVE_DSN when it names a server, else the local default). Connections go through
 * the COMPILED package (dist/), the same code a provider runs.
 */
'use strict';
const path = require('path');
const { URL } = require('url');

const REPO = path.resolve(__dirname, '..', '..');
const DIST = path.join(REPO, 'dist');
const DEFAULT_ADMIN_DSN = 'postgres://postgres@127.0.0.1:5432/test';
/** `BENCH_DATABASE` overrides it (e.g. to keep concurrent benchmark runs apart). */
const BENCH_DATABASE = process.env.BENCH_DATABASE || 'ue_bench';

function dist(relative) {
  return require(path.join(DIST, relative));
}

/** The admin DSN: USER_ENGINE_LIVE_DSN unless unset or `embedded` (no server to create a db on). */
function adminDsn() {
  const fromEnv = process.env.USER_ENGINE_LIVE_DSN;
  if (fromEnv && fromEnv.trim() !== '' && fromEnv !== 'embedded') return fromEnv.trim();
  return DEFAULT_ADMIN_DSN;
}

/** The admin DSN with its database swapped for `ue_bench` (URL form only). */
function benchDsn() {
  const admin = adminDsn();
  let url;
  try {
    url = new URL(admin);
  } catch {
    throw new Error(
      'USER_ENGINE_LIVE_DSN must be a postgres:// URL for the benchmarks (they derive the ' +
        `${BENCH_DATABASE} database from it); got a value that is not a URL`,
    );
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new Error(
      `USER_ENGINE_LIVE_DSN must use postgres:// or postgresql://, got ${url.protocol}//`,
    );
  }
  url.pathname = `/${BENCH_DATABASE}`;
  return url.toString();
}

/** Safe to print: the password (if any) replaced by the package's own redaction. */
function redacted(dsn) {
  return dist('driver/dsn.js').redactDsn(dsn);
}

function connect(dsn, options = {}) {
  return dist('driver/create-connection.js').createConnection(dsn, options);
}

/** Creates `ue_bench` unless it exists; the name is ours, so it can be spliced (quoted). */
async function ensureBenchDatabase() {
  const admin = await connect(adminDsn(), { max: 1, driver: 'pg' });
  try {
    const { rows } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [
      BENCH_DATABASE,
    ]);
    if (rows.length === 0) {
      try {
        await admin.query(`CREATE DATABASE "${BENCH_DATABASE}"`);
      } catch (error) {
        // Two benchmark processes racing to create it: the loser finds it there.
        if (!/already exists/.test(String(error && error.message))) throw error;
      }
    }
  } finally {
    await admin.close();
  }
  return benchDsn();
}

async function serverVersion(dsn) {
  const conn = await connect(dsn, { max: 1, driver: 'pg' });
  try {
    const { rows } = await conn.query('SHOW server_version');
    return rows[0].server_version;
  } finally {
    await conn.close();
  }
}

/**
 * Drops what earlier benchmark runs may have left in `ue_bench`: run schemas of crashed runs are
 * collected by the preset itself; these are the schemas the in-process benchmarks create.
 */
async function dropSchema(conn, schema) {
  await conn.query(`DROP SCHEMA IF EXISTS "${schema.replace(/"/g, '""')}" CASCADE`);
}

module.exports = {
  REPO,
  DIST,
  BENCH_DATABASE,
  dist,
  adminDsn,
  benchDsn,
  redacted,
  connect,
  ensureBenchDatabase,
  serverVersion,
  dropSchema,
};
