/**
 * The store's semantics as synchronous functions over a `Tables` view. Inputs arrive already
 * validated; each function checks readiness, then existence and conflicts, and only then writes,
 * so a throw never leaves a partial write behind (and the caller discards the layer anyway).
 */
import { randomUUID } from 'node:crypto';
import type {
  Identity,
  LinkIdentityResult,
  MigrateResult,
  OutboxEvent,
  Readiness,
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
  NotReadyError,
  RevisionConflictError,
} from '../errors';
import * as events from '../events';
import { MIGRATIONS, TARGET_VERSION } from '../migrations';
import {
  compareCodePoints,
  encodeCursor,
  type NormalizedLink,
  type NormalizedListOptions,
  type NormalizedOutboxQuery,
  type NormalizedPatch,
  type NormalizedUpsert,
} from '../validation';
import { codePointOrderKey, smallest } from './ordering';
import {
  identityKey,
  toIdentity,
  toOutboxEvent,
  toUser,
  type Tables,
  type UserRow,
} from './tables';

/** What outlives any transaction: the clock and the outbox sequence, which is never rolled back. */
export interface Engine {
  now(): number;
  nextSequence(): number;
}

function currentVersion(t: Tables): number {
  return t.meta.get('version') ?? 0;
}

function pendingIds(t: Tables): string[] {
  const version = currentVersion(t);
  return MIGRATIONS.filter((m) => m.version > version).map((m) => m.id);
}

function requireReady(t: Tables): void {
  const pending = pendingIds(t);
  if (pending.length > 0) throw new NotReadyError(pending);
}

function emit(t: Tables, engine: Engine, event: events.PendingEvent): void {
  const sequence = engine.nextSequence();
  t.outbox.set(String(sequence), { ...event, sequence, createdAt: engine.now() });
}

function sameData(a: UserRow, b: UserRow): boolean {
  return a.email === b.email && a.displayName === b.displayName && a.status === b.status;
}

/** Writes `after` over `before` as a new revision and records `user.updated`. */
function writeChange(t: Tables, engine: Engine, before: UserRow, changed: UserRow): User {
  const after: UserRow = { ...changed, revision: before.revision + 1, updatedAt: engine.now() };
  if (after.emailKey !== before.emailKey) {
    t.usersByKey.delete(before.emailKey);
    t.usersByKey.set(after.emailKey, after.id);
  }
  t.users.set(after.id, after);
  const user = toUser(after);
  emit(t, engine, events.userUpdated(toUser(before), user));
  return user;
}

export function readiness(t: Tables): Readiness {
  const pending = pendingIds(t);
  return {
    ready: pending.length === 0,
    currentVersion: currentVersion(t),
    targetVersion: TARGET_VERSION,
    pending,
    problems: [],
  };
}

export function migrate(t: Tables): MigrateResult {
  const applied = pendingIds(t);
  if (applied.length > 0) t.meta.set('version', TARGET_VERSION);
  return { applied };
}

function upsertOne(t: Tables, engine: Engine, input: NormalizedUpsert): UpsertUserResult {
  const id = t.usersByKey.get(input.emailKey);
  const before = id === undefined ? undefined : t.users.get(id);
  if (before === undefined) {
    const now = engine.now();
    const row: UserRow = {
      id: randomUUID(),
      email: input.email,
      emailKey: input.emailKey,
      orderKey: codePointOrderKey(input.emailKey),
      displayName: input.displayName,
      status: input.status ?? 'active',
      revision: 1,
      createdAt: now,
      updatedAt: now,
    };
    t.users.set(row.id, row);
    t.usersByKey.set(row.emailKey, row.id);
    const user = toUser(row);
    emit(t, engine, events.userCreated(user));
    return { user, created: true, changed: true };
  }
  const candidate: UserRow = {
    ...before,
    email: input.email,
    displayName: input.displayName,
    status: input.status ?? before.status,
  };
  if (sameData(before, candidate)) return { user: toUser(before), created: false, changed: false };
  return { user: writeChange(t, engine, before, candidate), created: false, changed: true };
}

export function upsertUsers(
  t: Tables,
  engine: Engine,
  inputs: readonly NormalizedUpsert[],
): UpsertUserResult[] {
  requireReady(t);
  return inputs.map((input) => upsertOne(t, engine, input));
}

export function getUser(t: Tables, id: string): User | null {
  requireReady(t);
  const row = t.users.get(id);
  return row === undefined ? null : toUser(row);
}

export function findUserByEmail(t: Tables, emailKey: string): User | null {
  requireReady(t);
  const id = t.usersByKey.get(emailKey);
  return id === undefined ? null : getUser(t, id);
}

export function updateUser(
  t: Tables,
  engine: Engine,
  id: string,
  patch: NormalizedPatch,
  expectedRevision: number,
): UpdateUserResult {
  requireReady(t);
  const before = t.users.get(id);
  if (before === undefined) throw new NotFoundError('user', id);
  if (before.revision !== expectedRevision)
    throw new RevisionConflictError(id, expectedRevision, before.revision);
  const email = patch.email ?? before;
  if (email.emailKey !== before.emailKey && t.usersByKey.has(email.emailKey))
    throw new DuplicateEmailError(email.emailKey);
  const candidate: UserRow = {
    ...before,
    email: email.email,
    emailKey: email.emailKey,
    orderKey: codePointOrderKey(email.emailKey),
    displayName: patch.displayName ?? before.displayName,
    status: patch.status ?? before.status,
  };
  if (sameData(before, candidate)) return { user: toUser(before), changed: false };
  return { user: writeChange(t, engine, before, candidate), changed: true };
}

export function deleteUser(t: Tables, engine: Engine, id: string): boolean {
  requireReady(t);
  const row = t.users.get(id);
  if (row === undefined) return false;
  // Identities go with their user, as ON DELETE CASCADE would; only user.deleted is recorded.
  const owned: string[] = [];
  for (const [key, identity] of t.identities.entries()) if (identity.userId === id) owned.push(key);
  for (const key of owned) t.identities.delete(key);
  t.users.delete(id);
  t.usersByKey.delete(row.emailKey);
  emit(t, engine, events.userDeleted(toUser(row)));
  return true;
}

export function listUsers(t: Tables, options: NormalizedListOptions): UserPage {
  requireReady(t);
  const { afterKey, limit } = options;
  const after = afterKey === null ? null : codePointOrderKey(afterKey);
  const candidates = function* () {
    for (const [, row] of t.users.entries()) if (after === null || row.orderKey > after) yield row;
  };
  // One more than a page tells whether a next page exists.
  const rows = smallest(candidates(), limit + 1, (a, b) => a.orderKey < b.orderKey);
  const page = rows.slice(0, limit);
  const next = rows.length > limit ? encodeCursor(page[page.length - 1].emailKey) : null;
  return { items: page.map(toUser), next };
}

export function linkIdentity(t: Tables, engine: Engine, link: NormalizedLink): LinkIdentityResult {
  requireReady(t);
  const { userId, provider, subject } = link;
  if (!t.users.has(userId)) throw new NotFoundError('user', userId);
  const key = identityKey(provider, subject);
  const existing = t.identities.get(key);
  if (existing !== undefined) {
    if (existing.userId !== userId) throw new IdentityConflictError(provider, subject);
    return { identity: toIdentity(existing), linked: false };
  }
  const row = { userId, provider, subject, linkedAt: engine.now() };
  t.identities.set(key, row);
  emit(t, engine, events.identityLinked(userId, provider, subject));
  return { identity: toIdentity(row), linked: true };
}

export function unlinkIdentity(
  t: Tables,
  engine: Engine,
  provider: string,
  subject: string,
): boolean {
  requireReady(t);
  const key = identityKey(provider, subject);
  const existing = t.identities.get(key);
  if (existing === undefined) return false;
  t.identities.delete(key);
  emit(t, engine, events.identityUnlinked(existing.userId, provider, subject));
  return true;
}

export function findUserByIdentity(t: Tables, provider: string, subject: string): User | null {
  requireReady(t);
  const identity = t.identities.get(identityKey(provider, subject));
  return identity === undefined ? null : getUser(t, identity.userId);
}

export function listIdentities(t: Tables, userId: string): Identity[] {
  requireReady(t);
  const rows = [];
  for (const [, row] of t.identities.entries()) if (row.userId === userId) rows.push(row);
  rows.sort(
    (a, b) => compareCodePoints(a.provider, b.provider) || compareCodePoints(a.subject, b.subject),
  );
  return rows.map(toIdentity);
}

export function outboxEvents(t: Tables, query: NormalizedOutboxQuery): OutboxEvent[] {
  requireReady(t);
  const candidates = function* () {
    for (const [, row] of t.outbox.entries()) if (row.sequence > query.afterSequence) yield row;
  };
  return smallest(candidates(), query.limit, (a, b) => a.sequence < b.sequence).map(toOutboxEvent);
}

export function recordCounts(t: Tables): RecordCounts {
  requireReady(t);
  return {
    user_engine_users: t.users.size,
    user_engine_identities: t.identities.size,
    user_engine_outbox: t.outbox.size,
  };
}
