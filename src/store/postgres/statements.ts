/**
 * Every data statement of the store. Writes that record an event do it in the same statement (a
 * data-modifying CTE), so a write is never committed without its event nor an event without its
 * write, inside a transaction or not. Payloads are built in TypeScript by events.ts and bound as
 * jsonb; each event CTE only fires when the write it belongs to returned a row.
 *
 * Timestamps are statement_timestamp(): server time, and unlike now() it moves on within a
 * transaction, so a user updated in a long transaction is never updated "before" it was created.
 */
import { USER_COLUMNS, userColumns } from './rows';

const USERS = 'user_engine_users';
const IDENTITIES = 'user_engine_identities';
const OUTBOX = 'user_engine_outbox';

/** An event CTE: one outbox row per row of `source`, with the bound type, aggregate and payload. */
function eventFrom(source: string, type: string, aggregateId: string, payload: string): string {
  return `INSERT INTO ${OUTBOX} (type, aggregate_id, payload, created_at)
    SELECT ${type}::text, ${aggregateId}::uuid, ${payload}::jsonb, statement_timestamp() FROM ${source}`;
}

export const GET_USER = `SELECT ${USER_COLUMNS} FROM ${USERS} WHERE id = $1::uuid`;

export const FIND_USER_BY_KEY = `SELECT ${USER_COLUMNS} FROM ${USERS} WHERE email_key = $1::text`;

export const FIND_USER_BY_IDENTITY = `SELECT ${userColumns('u')}
  FROM ${IDENTITIES} i JOIN ${USERS} u ON u.id = i.user_id
  WHERE i.provider = $1::text AND i.subject = $2::text`;

/** email_key is COLLATE "C": comparison and order are by code point in any database locale. */
export const LIST_USERS_FIRST = `SELECT ${USER_COLUMNS} FROM ${USERS}
  ORDER BY email_key COLLATE "C" LIMIT $1::int`;

export const LIST_USERS_AFTER = `SELECT ${USER_COLUMNS} FROM ${USERS}
  WHERE email_key COLLATE "C" > $1::text
  ORDER BY email_key COLLATE "C" LIMIT $2::int`;

/**
 * The users holding the given keys, one row per key in input order (user columns NULL when the
 * key is free), each with a fresh server-made id for the insert the caller may plan. With `lock`
 * (inside a transaction), the existing rows are locked FOR UPDATE in key order, so concurrent
 * batches over the same keys queue instead of deadlocking.
 */
export function usersByKeys(lock: boolean): string {
  return `WITH existing AS MATERIALIZED (
    SELECT ${USER_COLUMNS} FROM ${USERS}
    WHERE email_key = ANY($1::text[])
    ORDER BY email_key COLLATE "C"${lock ? '\n    FOR UPDATE' : ''}
  )
  SELECT k.ord, gen_random_uuid()::text AS fresh_id, ${userColumns('e')}
  FROM unnest($1::text[]) WITH ORDINALITY AS k(key, ord)
  LEFT JOIN existing e ON e.email_key = k.key
  ORDER BY k.ord`;
}

/**
 * Applies a planned batch in one statement. Inserts take the planned id and skip a key another
 * session inserted meanwhile (ON CONFLICT DO NOTHING); updates are compare-and-set on the revision
 * the plan was made from. Only rows actually written get their event, in input order; the caller
 * re-plans the inputs that did not come back.
 */
export const WRITE_USERS = `WITH input AS (
    SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[],
      $7::int[], $8::text[], $9::jsonb[])
      WITH ORDINALITY AS t(op, id, email, email_key, display_name, status, revision, event_type,
        payload, ord)
  ),
  inserted AS (
    INSERT INTO ${USERS} AS u
      (id, email, email_key, display_name, status, revision, created_at, updated_at)
    SELECT i.id, i.email, i.email_key, i.display_name, i.status, 1, statement_timestamp(),
      statement_timestamp()
    FROM input i WHERE i.op = 'insert'
    ORDER BY i.email_key COLLATE "C"
    ON CONFLICT (email_key) DO NOTHING
    RETURNING ${USER_COLUMNS}
  ),
  updated AS (
    UPDATE ${USERS} AS u
    SET email = i.email, display_name = i.display_name, status = i.status,
      revision = i.revision, updated_at = statement_timestamp()
    FROM input i
    WHERE i.op = 'update' AND u.id = i.id AND u.revision = i.revision - 1
    RETURNING ${userColumns('u')}
  ),
  written AS (SELECT * FROM inserted UNION ALL SELECT * FROM updated),
  events AS (
    INSERT INTO ${OUTBOX} (type, aggregate_id, payload, created_at)
    SELECT i.event_type, i.id, i.payload, statement_timestamp()
    FROM input i WHERE i.id IN (SELECT id FROM written)
    ORDER BY i.ord
  )
  SELECT ${USER_COLUMNS} FROM written`;

/** The user, and whether `$2` (a new email key, or NULL) belongs to someone else. */
export const USER_FOR_UPDATE = `SELECT ${USER_COLUMNS},
    EXISTS (SELECT 1 FROM ${USERS} c WHERE c.email_key = $2::text AND c.id <> u.id) AS clash
  FROM ${USERS} u WHERE u.id = $1::uuid`;

/** Compare-and-set on (id, revision); the event rides along only if the row was written. */
export const UPDATE_USER = `WITH updated AS (
    UPDATE ${USERS}
    SET email = $3::text, email_key = $4::text, display_name = $5::text, status = $6::text,
      revision = revision + 1, updated_at = statement_timestamp()
    WHERE id = $1::uuid AND revision = $2::int
    RETURNING ${USER_COLUMNS}
  ),
  event AS (${eventFrom('updated', '$7', '$8', '$9')})
  SELECT ${USER_COLUMNS} FROM updated`;

/** Deletes the user at the revision its event was built from; identities go by ON DELETE CASCADE. */
export const DELETE_USER = `WITH deleted AS (
    DELETE FROM ${USERS} WHERE id = $1::uuid AND revision = $2::int RETURNING id
  ),
  event AS (${eventFrom('deleted', '$3', '$4', '$5')})
  SELECT id FROM deleted`;

/**
 * Links unless the pair exists (the unique constraint decides, never a prior read). The owner is
 * locked FOR KEY SHARE so that it cannot be deleted between the check and the insert.
 */
export const LINK_IDENTITY = `WITH owner AS (
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

export const GET_IDENTITY = `SELECT user_id, provider, subject, linked_at FROM ${IDENTITIES}
  WHERE provider = $1::text AND subject = $2::text`;

/** Unlinks the pair only while it still belongs to the user its event names. */
export const UNLINK_IDENTITY = `WITH deleted AS (
    DELETE FROM ${IDENTITIES}
    WHERE provider = $1::text AND subject = $2::text AND user_id = $3::uuid
    RETURNING user_id
  ),
  event AS (${eventFrom('deleted', '$4', '$5', '$6')})
  SELECT user_id FROM deleted`;

export const LIST_IDENTITIES = `SELECT user_id, provider, subject, linked_at FROM ${IDENTITIES}
  WHERE user_id = $1::uuid ORDER BY provider COLLATE "C", subject COLLATE "C"`;

export const OUTBOX_EVENTS = `SELECT sequence, type, aggregate_id, payload, created_at
  FROM ${OUTBOX} WHERE sequence > $1::bigint ORDER BY sequence LIMIT $2::int`;

export const RECORD_COUNTS = `SELECT (SELECT count(*) FROM ${USERS}) AS users,
    (SELECT count(*) FROM ${IDENTITIES}) AS identities,
    (SELECT count(*) FROM ${OUTBOX}) AS outbox`;
