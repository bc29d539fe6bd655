/**
 * Provider canaries: objects a provider owns next to a live run, which every run must leave
 * byte-identical. Tables named like the store's in `public` (with rows), a schema that only looks
 * like a run schema, an unrelated schema, and a view. `fingerprint` hashes their rows and their
 * definitions, so any write, ALTER, DROP or CASCADE into them changes it.
 */
import { createHash } from 'crypto';

/** Any way of running SQL on the database (a pg Client, an E2eDatabase, a TLS server, …). */
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
