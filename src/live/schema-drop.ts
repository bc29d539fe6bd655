/**
 * Dropping one run schema without ever cascading into objects outside it. In the caller's
 * transaction: lock every relation inside the schema (so no view or foreign key over it can be
 * added meanwhile), look in `pg_depend` for objects OUTSIDE the schema that depend on objects
 * inside it (views, foreign keys, columns of its row types, functions over its types, ...), and
 * drop only when there are none. `DROP SCHEMA ... CASCADE` then reaches nothing but the
 * schema's own contents.
 */
import type { Queryable } from '../driver/port';
import { quoteLiteral } from '../driver/session-settings';
import { quoteIdent } from './isolation';

export type SchemaDrop =
  | { kind: 'dropped' }
  /** The schema does not exist (its ledger row outlived it). */
  | { kind: 'absent' }
  /** Objects outside the schema depend on it: left in place, named here. */
  | { kind: 'kept'; dependents: string[] }
  /** Owned by a role the current one is not a member of: DROP would fail, so it is skipped. */
  | { kind: 'foreign-owner'; owner: string };

/**
 * Where a dependent object lives: its namespace, found through the object that carries it
 * (a view's rewrite rule through the view, a trigger, default or policy through its table).
 * NULL for objects without a namespace (publications, casts, ...): those count as outside.
 */
const DEPENDENT_NAMESPACE = `CASE d.classid
    WHEN 'pg_class'::regclass THEN (SELECT relnamespace FROM pg_class WHERE oid = d.objid)
    WHEN 'pg_type'::regclass THEN (SELECT typnamespace FROM pg_type WHERE oid = d.objid)
    WHEN 'pg_proc'::regclass THEN (SELECT pronamespace FROM pg_proc WHERE oid = d.objid)
    WHEN 'pg_constraint'::regclass THEN (SELECT connamespace FROM pg_constraint WHERE oid = d.objid)
    WHEN 'pg_operator'::regclass THEN (SELECT oprnamespace FROM pg_operator WHERE oid = d.objid)
    WHEN 'pg_rewrite'::regclass THEN (SELECT c.relnamespace FROM pg_rewrite r
      JOIN pg_class c ON c.oid = r.ev_class WHERE r.oid = d.objid)
    WHEN 'pg_trigger'::regclass THEN (SELECT c.relnamespace FROM pg_trigger t
      JOIN pg_class c ON c.oid = t.tgrelid WHERE t.oid = d.objid)
    WHEN 'pg_attrdef'::regclass THEN (SELECT c.relnamespace FROM pg_attrdef a
      JOIN pg_class c ON c.oid = a.adrelid WHERE a.oid = d.objid)
    WHEN 'pg_policy'::regclass THEN (SELECT c.relnamespace FROM pg_policy p
      JOIN pg_class c ON c.oid = p.polrelid WHERE p.oid = d.objid)
  END`;

/** A view is named as the view, not as its `_RETURN` rule. */
const DEPENDENT_NAME = `CASE WHEN d.classid = 'pg_rewrite'::regclass
    THEN pg_describe_object('pg_class'::regclass,
      (SELECT ev_class FROM pg_rewrite WHERE oid = d.objid), 0)
    ELSE pg_describe_object(d.classid, d.objid, d.objsubid) END`;

/**
 * Objects outside `schema` that depend on objects inside it, each as
 * `<dependent> (depends on <object inside>)`, sorted. Catalog reads only.
 */
export async function findForeignDependents(q: Queryable, schema: string): Promise<string[]> {
  const { rows } = await q.query<{ entry: string }>(
    `WITH ours AS (SELECT oid FROM pg_namespace WHERE nspname = $1),
     inside AS (
       SELECT 'pg_namespace'::regclass AS classid, oid AS objid FROM ours
       UNION ALL SELECT 'pg_class'::regclass, c.oid FROM pg_class c JOIN ours ON c.relnamespace = ours.oid
       UNION ALL SELECT 'pg_type'::regclass, t.oid FROM pg_type t JOIN ours ON t.typnamespace = ours.oid
       UNION ALL SELECT 'pg_proc'::regclass, p.oid FROM pg_proc p JOIN ours ON p.pronamespace = ours.oid
       UNION ALL SELECT 'pg_constraint'::regclass, k.oid FROM pg_constraint k JOIN ours ON k.connamespace = ours.oid
     )
     SELECT DISTINCT ${DEPENDENT_NAME} || ' (depends on '
              || pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid) || ')' AS entry
     FROM pg_depend d JOIN inside i ON d.refclassid = i.classid AND d.refobjid = i.objid
     WHERE d.deptype IN ('n', 'a')
       AND (${DEPENDENT_NAMESPACE}) IS DISTINCT FROM (SELECT oid FROM ours)
     ORDER BY 1`,
    [schema],
  );
  return rows.map((r) => r.entry);
}

/** Who owns a run schema, as `dropRunSchema` needs to know before dropping it. */
export interface SchemaFacts {
  owner: string;
  /** The current role is a member of the owner (DROP would be allowed). */
  mine: boolean;
}

/** The columns of `SchemaFacts` (`nsp_owner` for `owner`) for a namespace `n` in the FROM list. */
export const SCHEMA_FACTS_COLUMNS = `pg_get_userbyid(n.nspowner) AS nsp_owner,
  pg_has_role(n.nspowner, 'MEMBER') AS mine`;

async function readSchemaFacts(q: Queryable, schema: string): Promise<SchemaFacts | undefined> {
  const { rows } = await q.query<{ nsp_owner: string; mine: boolean }>(
    `SELECT ${SCHEMA_FACTS_COLUMNS} FROM pg_namespace n WHERE n.nspname = $1`,
    [schema],
  );
  const row = rows[0];
  return row && { owner: row.nsp_owner, mine: row.mine };
}

/**
 * One statement that lists the tables, views and the like inside `schema` and locks each in
 * ACCESS EXCLUSIVE mode, in creation order: read and locked together, so the list is as fresh
 * as the lock (LOCK TABLE takes no parameters, hence a DO block; `schema` is a quoted literal).
 */
function lockRelationsStatement(schema: string): string {
  return `DO $user_engine_lock$
DECLARE
  r text;
BEGIN
  FOR r IN SELECT format('%I.%I', n.nspname, c.relname)
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = ${quoteLiteral(schema)} AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
           ORDER BY c.oid LOOP
    EXECUTE 'LOCK TABLE ' || r || ' IN ACCESS EXCLUSIVE MODE';
  END LOOP;
END
$user_engine_lock$`;
}

/**
 * Drops `schema` inside the caller's transaction `tx` (which must bound lock waits), unless it is
 * absent, owned by a role the current one cannot act for, or depended on from outside. `facts`:
 * its owner as the caller has just read it in the same transaction (`null`: the schema is
 * absent), which spares reading it again.
 */
export async function dropRunSchema(
  tx: Queryable,
  schema: string,
  facts?: SchemaFacts | null,
): Promise<SchemaDrop> {
  const known = facts === undefined ? await readSchemaFacts(tx, schema) : facts;
  if (!known) return { kind: 'absent' };
  if (!known.mine) return { kind: 'foreign-owner', owner: known.owner };
  await tx.query(lockRelationsStatement(schema));
  const dependents = await findForeignDependents(tx, schema);
  if (dependents.length > 0) return { kind: 'kept', dependents };
  await tx.query(`DROP SCHEMA ${quoteIdent(schema)} CASCADE`);
  return { kind: 'dropped' };
}

/** One line for the run output, `gc` and `doctor` about a schema left because of dependents. */
export function describeKept(schema: string, dependents: readonly string[]): string {
  return (
    `schema ${quoteIdent(schema)} was NOT dropped: objects outside it depend on it ` +
    `(${dependents.join('; ')}); DROP ... CASCADE would have removed them too. Remove or ` +
    `repoint those objects, then run \`user-engine-live gc\``
  );
}
