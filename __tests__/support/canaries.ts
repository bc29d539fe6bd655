/**
 * Provider canaries: objects a provider owns next to a live run, which every run must leave
 * byte-identical. Tables named like the store's in `public` (with rows), a schema that only looks
 * like a run schema, an unrelated schema, and a view. `fingerprint` hashes their rows and their
 * definitions, so any write, ALTER, DROP or CASCADE into them changes it.
 *
 * The bait tables at the end are the other kind: planted idempotently in the long-lived private
 * databases of the src/live suites, with names chosen to bait an ownership mistake.
 */
import { createHash } from 'crypto';
import type { QueryParam, Queryable } from '../../src/driver/port';
import { qualifiedName, quoteIdent } from '../../src/live/isolation';

/** Any way of running SQL on the database (a pg Client, a TestDatabase, a TLS server, …). */
export type Query = <Row = Record<string, unknown>>(
  sql: string,
  params?: unknown[],
) => Promise<Row[]>;

export const CANARY_SQL = `
  CREATE TABLE public.user_engine_users (id int PRIMARY KEY, email text NOT NULL UNIQUE);
  INSERT INTO public.user_engine_users VALUES (1, 'provider-owned@example.org'), (2, 'it''s "Zoë"');
  CREATE TABLE public.user_engine_outbox (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id int REFERENCES public.user_engine_users (id), payload jsonb NOT NULL DEFAULT '{}');
  INSERT INTO public.user_engine_outbox (user_id, payload) VALUES (1, '{"kind": "provider"}');
  CREATE VIEW public.user_engine_user_emails AS SELECT id, lower(email) AS email FROM public.user_engine_users;
  CREATE SCHEMA user_engine_live_x;
  CREATE TABLE user_engine_live_x.keep (k text PRIMARY KEY, v bytea);
  INSERT INTO user_engine_live_x.keep VALUES ('looks like a run schema, is not one', '\\x00ff10');
  CREATE SCHEMA provider_billing;
  CREATE TABLE provider_billing.invoices (id int PRIMARY KEY, cents bigint NOT NULL CHECK (cents >= 0));
  INSERT INTO provider_billing.invoices VALUES (7, 1999), (8, 0);
`;

/** Schemas whose every object is a canary. */
const CANARY_SCHEMAS = ['user_engine_live_x', 'provider_billing'];
/** Canaries that share a schema (public) with things that are none of our business. */
const CANARY_PUBLIC = ['user_engine_users', 'user_engine_outbox', 'user_engine_user_emails'];

export async function plantCanaries(query: Query): Promise<void> {
  await query(CANARY_SQL);
}

/**
 * One line per canary relation: its kind, owner, columns, constraints, indexes, view definition and
 * the md5 of its rows (tables and views). A relation that disappears drops its line; a new one in
 * a canary schema adds one.
 */
export async function fingerprint(query: Query): Promise<string> {
  const relations = await query<{ oid: number; name: string; kind: string; owner: string }>(
    `SELECT c.oid::int AS oid, format('%I.%I', n.nspname, c.relname) AS name,
            c.relkind::text AS kind, pg_get_userbyid(c.relowner) AS owner
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'v', 'p', 'f', 'm')
        AND (n.nspname = ANY ($1) OR (n.nspname = 'public' AND c.relname = ANY ($2)))
      ORDER BY 2`,
    [CANARY_SCHEMAS, CANARY_PUBLIC],
  );
  const lines: string[] = [];
  for (const relation of relations) {
    const [shape] = await query<{
      columns: string;
      constraints: string;
      indexes: string;
      view: string;
    }>(
      `SELECT
         (SELECT string_agg(format('%s %s %s %s', attname, format_type(atttypid, atttypmod),
                   attnotnull, pg_get_expr(d.adbin, d.adrelid)), ', ' ORDER BY attnum)
            FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
           WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped) AS columns,
         (SELECT string_agg(conname || ' ' || pg_get_constraintdef(oid), ', ' ORDER BY conname)
            FROM pg_constraint WHERE conrelid = $1) AS constraints,
         (SELECT string_agg(pg_get_indexdef(indexrelid), ', ' ORDER BY indexrelid::regclass::text)
            FROM pg_index WHERE indrelid = $1) AS indexes,
         pg_get_viewdef($1) AS view`,
      [relation.oid],
    );
    const [rows] = await query<{ n: number; md5: string }>(
      `SELECT count(*)::int AS n, md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS md5
         FROM ${relation.name} t`,
    );
    const definition = JSON.stringify([relation.kind, relation.owner, shape]);
    lines.push(`${relation.name} rows=${rows.n}:${rows.md5} definition=${md5Of(definition)}`);
  }
  if (lines.length === 0) throw new Error('no canaries in this database: plantCanaries() first');
  return lines.join('\n');
}

const md5Of = (text: string) => createHash('md5').update(text).digest('hex');

/** A `Query` over a connection of the driver port. */
export function rowsOf(connection: Queryable): Query {
  return async <Row>(sql: string, params?: unknown[]) =>
    (await connection.query<Row>(sql, params as QueryParam[] | undefined)).rows;
}

/** Bait tables: objects a provider owns that no live operation may touch. */
export const BAIT_TABLES: readonly [schema: string, table: string][] = [
  ['public', 'user_engine_users'],
  ['public', 'user_engine_audit'],
  ['user_engine_live_x', 'user_engine_users'],
  ['user_engineXlive_abc', 'user_engine_users'],
  // Named exactly like a run schema, but never listed in the ledger.
  ['user_engine_live_zzzzzzzzzz_1', 'user_engine_users'],
];

/** Creates the bait tables with 25 rows each; idempotent, for databases that outlive a run. */
export async function plantBaitTables(query: Query): Promise<void> {
  for (const [schema, table] of BAIT_TABLES) {
    const name = qualifiedName(schema, table);
    await query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    await query(`CREATE TABLE IF NOT EXISTS ${name} (id int PRIMARY KEY, note text)`);
    await query(
      `INSERT INTO ${name} SELECT g, 'canary ' || g FROM generate_series(1, 25) g
       ON CONFLICT (id) DO NOTHING`,
    );
  }
}

/** md5 of every bait table's rows and columns, plus its relfilenode (TRUNCATE changes it). */
export async function baitFingerprint(query: Query): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [schema, table] of BAIT_TABLES) {
    const name = qualifiedName(schema, table);
    const [row] = await query<{ data: string; columns: string; filenode: string }>(
      `SELECT
         (SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM ${name} t) AS data,
         (SELECT md5(string_agg(attname || ':' || format_type(atttypid, atttypmod), ',' ORDER BY attnum))
            FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped) AS columns,
         (SELECT relfilenode::text FROM pg_class WHERE oid = to_regclass($1)) AS filenode`,
      [name],
    );
    out[name] = `${row.data}/${row.columns}/${row.filenode}`;
  }
  return out;
}
