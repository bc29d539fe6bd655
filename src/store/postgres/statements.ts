/**
 * Every data statement of the store. Writes that record an event do it in the same statement (a
 * data-modifying CTE), so a write is never committed without its event nor an event without its
 * write, inside a transaction or not. Payloads are built in TypeScript by events.ts and bound as
 * jsonb (the batch upsert builds them in SQL, see upsertUsersBatch); each event CTE only fires when
 * the write it belongs to returned a row.
 *
 * Timestamps are statement_timestamp(): server time, and unlike now() it moves on within a
 * transaction, so a user updated in a long transaction is never updated "before" it was created.
 *
 * Every table is schema-qualified and quoted (never found through search_path, which a
 * transaction-mode pooler may drop). The text depends on the schema only, so a store builds its
 * set once (buildStatements) and sends the same text on every call.
 */
import { USER_COLUMNS, userColumns } from './rows';
import { LEDGER_TABLE } from './schema';
import { qualifiedName } from './store-schema';

/** Every statement the store sends, with its tables in one schema. */
export interface StoreStatements {
  /** The schema the statements name (unquoted); bound as a parameter in catalog lookups. */
  readonly schema: string;
  readonly getUser: string;
  readonly findUserByKey: string;
  readonly findUserByIdentity: string;
  readonly listUsersFirst: string;
  readonly listUsersAfter: string;
  /** upsertUsersBatch inside a transaction (locks rows read) and outside one. */
  readonly upsertUsersLocked: string;
  readonly upsertUsersUnlocked: string;
  readonly userForUpdate: string;
  readonly updateUser: string;
  readonly deleteUser: string;
  readonly linkIdentity: string;
  readonly getIdentity: string;
  readonly unlinkIdentity: string;
  readonly listIdentities: string;
  readonly outboxEvents: string;
  readonly recordCounts: string;
  /** The migrations ledger, schema-qualified. */
  readonly ledger: string;
  readonly createLedger: string;
  readonly readLedger: string;
  readonly recordMigration: string;
}

export function buildStatements(schema: string): StoreStatements {
  const USERS = qualifiedName(schema, 'user_engine_users');
  const IDENTITIES = qualifiedName(schema, 'user_engine_identities');
  const OUTBOX = qualifiedName(schema, 'user_engine_outbox');
  const LEDGER = qualifiedName(schema, LEDGER_TABLE);

  /** An event CTE: one outbox row per row of `source`, with the bound type, aggregate and payload. */
  function eventFrom(source: string, type: string, aggregateId: string, payload: string): string {
    return `INSERT INTO ${OUTBOX} (type, aggregate_id, payload, created_at)
    SELECT ${type}::text, ${aggregateId}::uuid, ${payload}::jsonb, statement_timestamp() FROM ${source}`;
  }

  const GET_USER = `SELECT ${USER_COLUMNS} FROM ${USERS} WHERE id = $1::uuid`;

  const FIND_USER_BY_KEY = `SELECT ${USER_COLUMNS} FROM ${USERS} WHERE email_key = $1::text`;

  const FIND_USER_BY_IDENTITY = `SELECT ${userColumns('u')}
  FROM ${IDENTITIES} i JOIN ${USERS} u ON u.id = i.user_id
  WHERE i.provider = $1::text AND i.subject = $2::text`;

  /** email_key is COLLATE "C": comparison and order are by code point in any database locale. */
  const LIST_USERS_FIRST = `SELECT ${USER_COLUMNS} FROM ${USERS}
  ORDER BY email_key COLLATE "C" LIMIT $1::int`;

  const LIST_USERS_AFTER = `SELECT ${USER_COLUMNS} FROM ${USERS}
  WHERE email_key COLLATE "C" > $1::text
  ORDER BY email_key COLLATE "C" LIMIT $2::int`;

  /**
   * A whole upsert batch in one statement: read, decide, write and record events, so a batch costs
   * one round trip whatever its size. Inputs are `$1` emails, `$2` keys, `$3` display names and `$4`
   * statuses (NULL: keep the stored one, 'active' for a new user), in input order.
   *
   * `planned` looks each key up with a LATERAL index probe, inputs sorted by key; with `lock` (inside
   * a transaction) each row found is locked FOR UPDATE as it is read, so locks are taken in key order
   * and concurrent batches over the same keys queue instead of deadlocking. Why not simpler SQL:
   * `email_key = ANY($2)` became a sequential scan testing every row against all keys when the
   * planner believed the table small (seconds for 10,000), and joins between CTEs were estimated at
   * millions of rows, pushing the plan over jit_above_cost (~1.2 s of JIT per call); written inserts
   * are therefore matched with a semi-join (`IN`), which cannot be estimated above its input.
   * Each input is then planned as in the contract: a free key is an insert (a key another session
   * inserted meanwhile is skipped by ON CONFLICT DO NOTHING), same data writes nothing, anything else
   * is a compare-and-set update on the revision read. Text is compared COLLATE "C", i.e. exactly,
   * as the contract compares strings.
   *
   * Event payloads are built here as events.ts builds them (userCreated / userUpdated, `changes` in
   * the order email, displayName, status); jsonb normalises key order, and the differential test
   * holds the two to the same output. Only rows actually written get an event, in input order.
   *
   * Returns one row per input that was written or left unchanged, with its input position `ord`
   * (1-based) and `op`; an input that lost a race returns no row and the caller plans it again.
   */
  function upsertUsersBatch(lock: boolean): string {
    return `WITH planned AS MATERIALIZED (
    SELECT i.ord::int AS ord, i.email, i.email_key, i.display_name,
      coalesce(i.status, e.status, 'active') AS status, coalesce(e.id, gen_random_uuid()) AS id,
      e.revision AS old_revision, e.created_at AS old_created_at, e.updated_at AS old_updated_at,
      CASE
        WHEN e.id IS NULL THEN 'insert'
        WHEN e.email COLLATE "C" = i.email AND e.display_name COLLATE "C" = i.display_name
          AND e.status = coalesce(i.status, e.status) THEN 'same'
        ELSE 'update'
      END AS op,
      array_remove(ARRAY[
        CASE WHEN e.email COLLATE "C" <> i.email THEN 'email' END,
        CASE WHEN e.display_name COLLATE "C" <> i.display_name THEN 'displayName' END,
        CASE WHEN e.status <> coalesce(i.status, e.status) THEN 'status' END
      ], NULL) AS changes
    FROM (
      SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
        WITH ORDINALITY AS t(email, email_key, display_name, status, ord)
      ORDER BY email_key COLLATE "C"
    ) i
    LEFT JOIN LATERAL (
      SELECT ${userColumns('e')} FROM ${USERS} e
      WHERE e.email_key = i.email_key${lock ? '\n      FOR UPDATE' : ''}
    ) e ON true
  ),
  inserted AS (
    INSERT INTO ${USERS} AS u
      (id, email, email_key, display_name, status, revision, created_at, updated_at)
    SELECT p.id, p.email, p.email_key, p.display_name, p.status, 1, statement_timestamp(),
      statement_timestamp()
    FROM planned p WHERE p.op = 'insert'
    ORDER BY p.email_key COLLATE "C"
    ON CONFLICT (email_key) DO NOTHING
    RETURNING u.id
  ),
  updated AS (
    UPDATE ${USERS} AS u
    SET email = p.email, display_name = p.display_name, status = p.status,
      revision = p.old_revision + 1, updated_at = statement_timestamp()
    FROM planned p
    WHERE p.op = 'update' AND u.id = p.id AND u.revision = p.old_revision
    RETURNING p.ord, p.op, p.changes, ${userColumns('u')}
  ),
  written AS (
    SELECT p.ord, p.op, p.changes, p.id, p.email, p.email_key, p.display_name, p.status,
      1 AS revision, statement_timestamp() AS created_at, statement_timestamp() AS updated_at
    FROM planned p WHERE p.op = 'insert' AND p.id IN (SELECT id FROM inserted)
    UNION ALL
    SELECT * FROM updated
  ),
  events AS (
    INSERT INTO ${OUTBOX} (type, aggregate_id, payload, created_at)
    SELECT CASE w.op WHEN 'insert' THEN 'user.created' ELSE 'user.updated' END, w.id,
      jsonb_build_object('userId', w.id, 'email', w.email, 'displayName', w.display_name,
        'status', w.status, 'revision', w.revision)
        || CASE w.op WHEN 'insert' THEN '{}'::jsonb
          ELSE jsonb_build_object('changes', to_jsonb(w.changes)) END,
      statement_timestamp()
    FROM written w
    ORDER BY w.ord
  )
  SELECT ord, op, ${USER_COLUMNS} FROM written
  UNION ALL
  SELECT ord, op, id, email, email_key, display_name, status, old_revision, old_created_at,
    old_updated_at
  FROM planned WHERE op = 'same'`;
  }

  /** The user, and whether `$2` (a new email key, or NULL) belongs to someone else. */
  const USER_FOR_UPDATE = `SELECT ${USER_COLUMNS},
    EXISTS (SELECT 1 FROM ${USERS} c WHERE c.email_key = $2::text AND c.id <> u.id) AS clash
  FROM ${USERS} u WHERE u.id = $1::uuid`;

  /** Compare-and-set on (id, revision); the event rides along only if the row was written. */
  const UPDATE_USER = `WITH updated AS (
    UPDATE ${USERS}
    SET email = $3::text, email_key = $4::text, display_name = $5::text, status = $6::text,
      revision = revision + 1, updated_at = statement_timestamp()
    WHERE id = $1::uuid AND revision = $2::int
    RETURNING ${USER_COLUMNS}
  ),
  event AS (${eventFrom('updated', '$7', '$8', '$9')})
  SELECT ${USER_COLUMNS} FROM updated`;

  /** Deletes the user at the revision its event was built from; identities go by ON DELETE CASCADE. */
  const DELETE_USER = `WITH deleted AS (
    DELETE FROM ${USERS} WHERE id = $1::uuid AND revision = $2::int RETURNING id
  ),
  event AS (${eventFrom('deleted', '$3', '$4', '$5')})
  SELECT id FROM deleted`;

  /**
   * Links unless the pair exists (the unique constraint decides, never a prior read). The owner is
   * locked FOR KEY SHARE so that it cannot be deleted between the check and the insert.
   */
  const LINK_IDENTITY = `WITH owner AS (
    SELECT id FROM ${USERS} WHERE id = $1::uuid FOR KEY SHARE
  ),
  linked AS (
    INSERT INTO ${IDENTITIES} AS i (provider, subject, user_id, linked_at)
    SELECT $2::text, $3::text, owner.id, statement_timestamp() FROM owner
    ON CONFLICT (provider, subject) DO NOTHING
    RETURNING i.user_id, i.provider, i.subject, i.linked_at
  ),
  event AS (${eventFrom('linked', '$4', '$5', '$6')})
  SELECT EXISTS (SELECT 1 FROM owner) AS owner_exists, l.user_id, l.provider, l.subject,
    l.linked_at
  FROM (SELECT 1) AS one LEFT JOIN linked l ON true`;

  const GET_IDENTITY = `SELECT user_id, provider, subject, linked_at FROM ${IDENTITIES}
  WHERE provider = $1::text AND subject = $2::text`;

  /** Unlinks the pair only while it still belongs to the user its event names. */
  const UNLINK_IDENTITY = `WITH deleted AS (
    DELETE FROM ${IDENTITIES}
    WHERE provider = $1::text AND subject = $2::text AND user_id = $3::uuid
    RETURNING user_id
  ),
  event AS (${eventFrom('deleted', '$4', '$5', '$6')})
  SELECT user_id FROM deleted`;

  const LIST_IDENTITIES = `SELECT user_id, provider, subject, linked_at FROM ${IDENTITIES}
  WHERE user_id = $1::uuid ORDER BY provider COLLATE "C", subject COLLATE "C"`;

  const OUTBOX_EVENTS = `SELECT sequence, type, aggregate_id, payload, created_at
  FROM ${OUTBOX} WHERE sequence > $1::bigint ORDER BY sequence LIMIT $2::int`;

  const RECORD_COUNTS = `SELECT (SELECT count(*) FROM ${USERS}) AS users,
    (SELECT count(*) FROM ${IDENTITIES}) AS identities,
    (SELECT count(*) FROM ${OUTBOX}) AS outbox`;

  return Object.freeze({
    schema,
    getUser: GET_USER,
    findUserByKey: FIND_USER_BY_KEY,
    findUserByIdentity: FIND_USER_BY_IDENTITY,
    listUsersFirst: LIST_USERS_FIRST,
    listUsersAfter: LIST_USERS_AFTER,
    upsertUsersLocked: upsertUsersBatch(true),
    upsertUsersUnlocked: upsertUsersBatch(false),
    userForUpdate: USER_FOR_UPDATE,
    updateUser: UPDATE_USER,
    deleteUser: DELETE_USER,
    linkIdentity: LINK_IDENTITY,
    getIdentity: GET_IDENTITY,
    unlinkIdentity: UNLINK_IDENTITY,
    listIdentities: LIST_IDENTITIES,
    outboxEvents: OUTBOX_EVENTS,
    recordCounts: RECORD_COUNTS,
    ledger: LEDGER,
    createLedger: `CREATE TABLE IF NOT EXISTS ${LEDGER} (
  version integer PRIMARY KEY,
  name text NOT NULL,
  checksum text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`,
    readLedger: `SELECT version, name, checksum FROM ${LEDGER} ORDER BY version`,
    recordMigration: `INSERT INTO ${LEDGER} (version, name, checksum) VALUES ($1, $2, $3)`,
  });
}
