/**
 * The store's semantics in SQL. Inputs arrive validated; each function reads what the contract's
 * order of checks needs (not_found, then revision, then conflicts), decides in TypeScript with the
 * shared helpers, and writes with one statement that carries its own event and re-checks what it
 * decided on (a revision, a key, an owner). When a concurrent writer got there first the
 * statement writes nothing and the function decides again from fresh data. A batch upsert is the
 * exception to "decides in TypeScript": it reads, decides and writes in one statement, so that a
 * batch of any size costs one round trip (see statements.upsertUsersBatch).
 */
import { DatabaseError } from '../../driver/errors';
import type { QueryParam, QueryResult } from '../../driver/port';
import type {
  Identity,
  LinkIdentityResult,
  OutboxEvent,
  RecordCounts,
  UpdateUserResult,
  UpsertUserResult,
  User,
  UserPage,
} from '../contract';
import {
  DuplicateEmailError,
  IdentityConflictError,
  NotFoundError,
  RevisionConflictError,
} from '../errors';
import * as events from '../events';
import {
  encodeCursor,
  type NormalizedLink,
  type NormalizedListOptions,
  type NormalizedOutboxQuery,
  type NormalizedPatch,
  type NormalizedUpsert,
} from '../validation';
import {
  toIdentity,
  toOutboxEvent,
  toUser,
  type IdentityRow,
  type OutboxRow,
  type UserRow,
} from './rows';
import type { StoreStatements } from './statements';

/** Where an operation runs: the pool (each statement its own transaction) or one transaction. */
export interface Db {
  readonly inTransaction: boolean;
  query<Row = Record<string, unknown>>(
    text: string,
    params?: readonly QueryParam[],
  ): Promise<QueryResult<Row>>;
}

/**
 * Each lost race means another writer made progress, so this bound is only reached by a caller
 * whose transaction cannot see that progress (REPEATABLE READ or stricter).
 */
const MAX_ATTEMPTS = 50;

function gaveUp(operation: string): Error {
  return new Error(
    `${operation}: gave up after ${MAX_ATTEMPTS} attempts racing concurrent writers; is the transaction isolation level stricter than READ COMMITTED?`,
  );
}

function payloadOf(event: events.PendingEvent): string {
  return JSON.stringify(event.payload);
}

function first<Row>(result: QueryResult<Row>): Row | undefined {
  return result.rows[0];
}

export async function getUser(db: Db, sql: StoreStatements, id: string): Promise<User | null> {
  const row = first(await db.query<UserRow>(sql.getUser, [id]));
  return row ? toUser(row) : null;
}

export async function findUserByEmail(
  db: Db,
  sql: StoreStatements,
  emailKey: string,
): Promise<User | null> {
  const row = first(await db.query<UserRow>(sql.findUserByKey, [emailKey]));
  return row ? toUser(row) : null;
}

export async function findUserByIdentity(
  db: Db,
  sql: StoreStatements,
  provider: string,
  subject: string,
): Promise<User | null> {
  const row = first(await db.query<UserRow>(sql.findUserByIdentity, [provider, subject]));
  return row ? toUser(row) : null;
}

export async function listUsers(
  db: Db,
  sql: StoreStatements,
  { limit, afterKey }: NormalizedListOptions,
): Promise<UserPage> {
  // One more than a page tells whether a next page exists.
  const { rows } =
    afterKey === null
      ? await db.query<UserRow>(sql.listUsersFirst, [limit + 1])
      : await db.query<UserRow>(sql.listUsersAfter, [afterKey, limit + 1]);
  const items = rows.slice(0, limit).map(toUser);
  const next = rows.length > limit ? encodeCursor(items[items.length - 1].emailKey) : null;
  return { items, next };
}

interface BatchRow extends UserRow {
  /** The input's 1-based position in the batch sent. */
  ord: number | string;
  op: 'insert' | 'update' | 'same';
}

function statusParam(input: NormalizedUpsert): string | null {
  return input.status ?? null;
}

/**
 * Every input in one statement (read, plan, write, events; see statements.upsertUsersBatch),
 * whatever the batch size. Inside a transaction the read locks the existing rows, so only inserts
 * can race; outside one, updates are compare-and-set. Inputs that lost a race are sent again and
 * planned from fresh data.
 */
export async function upsertUsers(
  db: Db,
  sql: StoreStatements,
  inputs: readonly NormalizedUpsert[],
): Promise<UpsertUserResult[]> {
  const results: UpsertUserResult[] = new Array(inputs.length);
  let open = inputs.map((input, index) => ({ input, index }));
  const statement = db.inTransaction ? sql.upsertUsersLocked : sql.upsertUsersUnlocked;
  for (let attempt = 0; ; attempt++) {
    if (attempt === MAX_ATTEMPTS) throw gaveUp('upsertUsers');
    // Runs even for an empty batch: an unmigrated store must answer not_ready all the same.
    const { rows } = await db.query<BatchRow>(statement, [
      open.map(({ input }) => input.email),
      open.map(({ input }) => input.emailKey),
      open.map(({ input }) => input.displayName),
      open.map(({ input }) => statusParam(input)),
    ]);
    const answered: boolean[] = new Array(open.length).fill(false);
    for (const row of rows) {
      const position = Number(row.ord) - 1;
      answered[position] = true;
      results[open[position].index] = {
        user: toUser(row),
        created: row.op === 'insert',
        changed: row.op !== 'same',
      };
    }
    open = open.filter((_, position) => !answered[position]);
    if (open.length === 0) return results;
  }
}

interface UserWithClash extends UserRow {
  clash: boolean;
}

function isUniqueViolation(error: unknown): boolean {
  return error instanceof DatabaseError && error.sqlState === '23505';
}

export async function updateUser(
  db: Db,
  sql: StoreStatements,
  id: string,
  patch: NormalizedPatch,
  expectedRevision: number,
): Promise<UpdateUserResult> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const newKey = patch.email?.emailKey ?? null;
    const row = first(await db.query<UserWithClash>(sql.userForUpdate, [id, newKey]));
    if (row === undefined) throw new NotFoundError('user', id);
    const before = toUser(row);
    if (before.revision !== expectedRevision)
      throw new RevisionConflictError(id, expectedRevision, before.revision);
    if (newKey !== null && newKey !== before.emailKey && row.clash)
      throw new DuplicateEmailError(newKey);
    const after: User = {
      ...before,
      email: patch.email?.email ?? before.email,
      emailKey: newKey ?? before.emailKey,
      displayName: patch.displayName ?? before.displayName,
      status: patch.status ?? before.status,
      revision: before.revision + 1,
    };
    if (
      after.email === before.email &&
      after.displayName === before.displayName &&
      after.status === before.status
    )
      return { user: before, changed: false };
    const event = events.userUpdated(before, after);
    let updated: UserRow | undefined;
    try {
      updated = first(
        await db.query<UserRow>(sql.updateUser, [
          id,
          expectedRevision,
          after.email,
          after.emailKey,
          after.displayName,
          after.status,
          event.type,
          event.aggregateId,
          payloadOf(event),
        ]),
      );
    } catch (error) {
      // Another session took the key between the read and this write.
      if (isUniqueViolation(error)) throw new DuplicateEmailError(after.emailKey);
      throw error;
    }
    if (updated) return { user: toUser(updated), changed: true };
    // The row changed or went away since the read: the next read says which.
  }
  throw gaveUp('updateUser');
}

export async function deleteUser(db: Db, sql: StoreStatements, id: string): Promise<boolean> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const row = first(await db.query<UserRow>(sql.getUser, [id]));
    if (row === undefined) return false;
    const user = toUser(row);
    const event = events.userDeleted(user);
    const { rows } = await db.query(sql.deleteUser, [
      id,
      user.revision,
      event.type,
      event.aggregateId,
      payloadOf(event),
    ]);
    if (rows.length > 0) return true;
  }
  throw gaveUp('deleteUser');
}

interface LinkRow extends Partial<IdentityRow> {
  owner_exists: boolean;
}

export async function linkIdentity(
  db: Db,
  sql: StoreStatements,
  link: NormalizedLink,
): Promise<LinkIdentityResult> {
  const { userId, provider, subject } = link;
  const event = events.identityLinked(userId, provider, subject);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    let row: LinkRow | undefined;
    try {
      row = first(
        await db.query<LinkRow>(sql.linkIdentity, [
          userId,
          provider,
          subject,
          event.type,
          event.aggregateId,
          payloadOf(event),
        ]),
      );
    } catch (error) {
      // The owner vanished between its check and the foreign key's.
      if (error instanceof DatabaseError && error.sqlState === '23503')
        throw new NotFoundError('user', userId);
      throw error;
    }
    if (!row?.owner_exists) throw new NotFoundError('user', userId);
    if (row.user_id) return { identity: toIdentity(row as IdentityRow), linked: true };
    const existing = first(await db.query<IdentityRow>(sql.getIdentity, [provider, subject]));
    if (existing === undefined) continue; // unlinked meanwhile: try again
    if (existing.user_id !== userId) throw new IdentityConflictError(provider, subject);
    return { identity: toIdentity(existing), linked: false };
  }
  throw gaveUp('linkIdentity');
}

export async function unlinkIdentity(
  db: Db,
  sql: StoreStatements,
  provider: string,
  subject: string,
): Promise<boolean> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const existing = first(await db.query<IdentityRow>(sql.getIdentity, [provider, subject]));
    if (existing === undefined) return false;
    const event = events.identityUnlinked(existing.user_id, provider, subject);
    const { rows } = await db.query(sql.unlinkIdentity, [
      provider,
      subject,
      existing.user_id,
      event.type,
      event.aggregateId,
      payloadOf(event),
    ]);
    if (rows.length > 0) return true;
  }
  throw gaveUp('unlinkIdentity');
}

export async function listIdentities(
  db: Db,
  sql: StoreStatements,
  userId: string,
): Promise<Identity[]> {
  return (await db.query<IdentityRow>(sql.listIdentities, [userId])).rows.map(toIdentity);
}

export async function outboxEvents(
  db: Db,
  sql: StoreStatements,
  { afterSequence, limit }: NormalizedOutboxQuery,
): Promise<OutboxEvent[]> {
  return (await db.query<OutboxRow>(sql.outboxEvents, [afterSequence, limit])).rows.map(
    toOutboxEvent,
  );
}

export async function recordCounts(db: Db, sql: StoreStatements): Promise<RecordCounts> {
  const row = (await db.query<Record<string, string | number>>(sql.recordCounts)).rows[0];
  return {
    user_engine_users: Number(row.users),
    user_engine_identities: Number(row.identities),
    user_engine_outbox: Number(row.outbox),
  };
}
