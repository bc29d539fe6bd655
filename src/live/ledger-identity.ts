/**
 * Whether the `user_engine_live` schema is a ledger this package created: the marker comment on
 * the schema and both tables, the exact column layout, row-level security on. Catalog reads only
 * (no privilege on the schema needed, no lock on the tables), so it runs before any write and in
 * the doctor's read-only transaction.
 */
import { jsonColumn } from './json-column';
import type { Queryable } from '../driver/port';
import { quoteLiteral } from '../driver/session-settings';
import { quoteIdent } from './isolation';
import { LEDGER_LAYOUT, LEDGER_MARKER, LEDGER_SCHEMA, RUNS_TABLE, SCHEMAS_TABLE } from './ledger';

export type LedgerState =
  | { kind: 'absent' }
  | {
      kind: 'ours';
      /** Role owning the ledger schema (the one that created it). */
      owner: string;
      /** Privileges the current role lacks on it (empty when none), e.g. `USAGE ON SCHEMA ...`. */
      missing: string[];
    }
  | {
      kind: 'foreign';
      /** The object that does not match, e.g. `table "user_engine_live"."runs"`. */
      object: string;
      problem: string;
      owner: string;
    };

interface TableFacts {
  relname: string;
  relkind: string;
  comment: string | null;
  rls: boolean;
  columns: string | null;
  can_select: boolean;
  can_insert: boolean;
  can_update: boolean;
  can_delete: boolean;
}

function layoutText(table: string): string {
  return (LEDGER_LAYOUT[table] ?? []).map(([name, type]) => `${name} ${type}`).join(', ');
}

export interface LedgerFacts {
  owner: string;
  comment: string | null;
  usage: boolean;
  tables: TableFacts[] | string | null;
}

/**
 * A scalar subquery: the ledger schema's facts and its two tables' as one `json` value, NULL when
 * the schema is absent; so the preflight reads them in its own statement. No parameters: the
 * names are this package's constants.
 */
export const LEDGER_FACTS = `(SELECT row_to_json(ledger) FROM (
     SELECT pg_get_userbyid(n.nspowner) AS owner, obj_description(n.oid, 'pg_namespace') AS comment,
            has_schema_privilege(n.oid, 'USAGE') AS usage,
            (SELECT coalesce(json_agg(json_build_object(
                'relname', c.relname, 'relkind', c.relkind::text,
                'comment', obj_description(c.oid, 'pg_class'), 'rls', c.relrowsecurity,
                'columns', (SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum)
                              FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
                'can_select', has_table_privilege(c.oid, 'SELECT'),
                'can_insert', has_table_privilege(c.oid, 'INSERT'),
                'can_update', has_table_privilege(c.oid, 'UPDATE'),
                'can_delete', has_table_privilege(c.oid, 'DELETE'))), '[]')
             FROM pg_class c WHERE c.relnamespace = n.oid
               AND c.relname IN (${quoteLiteral(RUNS_TABLE)}, ${quoteLiteral(SCHEMAS_TABLE)})) AS tables
     FROM pg_namespace n WHERE n.nspname = ${quoteLiteral(LEDGER_SCHEMA)}) AS ledger)`;

export async function inspectLedger(q: Queryable): Promise<LedgerState> {
  const { rows } = await q.query<{ ledger: LedgerFacts | string | null }>(
    `SELECT ${LEDGER_FACTS} AS ledger`,
  );
  return ledgerStateOf(rows[0].ledger);
}

/** What `LEDGER_FACTS` read, judged. */
export function ledgerStateOf(value: LedgerFacts | string | null): LedgerState {
  const schema = jsonColumn<LedgerFacts | null>(value, null);
  if (schema === null) return { kind: 'absent' };
  const schemaName = `schema ${quoteIdent(LEDGER_SCHEMA)}`;
  if (schema.comment !== LEDGER_MARKER) {
    return {
      kind: 'foreign',
      object: schemaName,
      owner: schema.owner,
      problem:
        schema.comment === null
          ? 'has no comment, so it was not created by @user-engine/jest-live'
          : `has the comment ${JSON.stringify(schema.comment.slice(0, 80))}, not ${JSON.stringify(LEDGER_MARKER)}`,
    };
  }
  const tables = jsonColumn<TableFacts[]>(schema.tables, []);
  const missing: string[] = [];
  if (!schema.usage) missing.push(`USAGE ON SCHEMA ${quoteIdent(LEDGER_SCHEMA)}`);
  for (const table of [RUNS_TABLE, SCHEMAS_TABLE]) {
    const object = `table ${quoteIdent(LEDGER_SCHEMA)}.${quoteIdent(table)}`;
    const facts = tables.find((t) => t.relname === table);
    const foreign = (problem: string): LedgerState => ({
      kind: 'foreign',
      object,
      owner: schema.owner,
      problem,
    });
    if (!facts) return foreign('is missing from the ledger schema');
    if (facts.relkind !== 'r') return foreign(`is not a plain table (relkind ${facts.relkind})`);
    if (facts.comment !== LEDGER_MARKER) return foreign('does not carry the ledger marker comment');
    if (facts.columns !== layoutText(table)) {
      return foreign(`has columns (${facts.columns ?? ''}), expected (${layoutText(table)})`);
    }
    if (!facts.rls) return foreign('does not have row-level security enabled');
    const lacking = (['select', 'insert', 'update', 'delete'] as const).filter(
      (p) => !facts[`can_${p}`],
    );
    if (lacking.length > 0) {
      missing.push(`${lacking.map((p) => p.toUpperCase()).join(', ')} ON ${object.slice(6)}`);
    }
  }
  return { kind: 'ours', owner: schema.owner, missing };
}

/** The sentence that names a foreign ledger and what to do about it. */
export function describeForeignLedger(state: Extract<LedgerState, { kind: 'foreign' }>): string {
  return (
    `${state.object} (owner ${quoteIdent(state.owner)}) ${state.problem}: it is not a ledger of ` +
    `@user-engine/jest-live, so nothing was written and it was not changed. The preset keeps its ` +
    `run ledger in schema ${quoteIdent(LEDGER_SCHEMA)}; rename or drop that schema ` +
    `(ALTER SCHEMA ${quoteIdent(LEDGER_SCHEMA)} RENAME TO ...), or use another database`
  );
}

/** The sentence naming privileges the role lacks on an existing ledger, with the GRANTs. */
export function describeMissingLedgerPrivileges(
  role: string,
  state: Extract<LedgerState, { kind: 'ours' }>,
): string {
  const grants = state.missing.map((p) => `GRANT ${p} TO ${quoteIdent(role)};`).join(' ');
  return (
    `role ${quoteIdent(role)} lacks ${state.missing.join(' and ')} on the run ledger ` +
    `(created by role ${quoteIdent(state.owner)}, which grants them to PUBLIC unless revoked): ` +
    `as ${quoteIdent(state.owner)} or an admin run: ${grants}`
  );
}
