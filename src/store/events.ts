/**
 * Outbox payloads are built here for every store, so that the same change yields the same event
 * whichever store wrote it.
 */
import type { JsonValue, OutboxEventType, User } from './contract';

export interface PendingEvent {
  type: OutboxEventType;
  aggregateId: string;
  payload: { [key: string]: JsonValue };
}

export type UserField = 'email' | 'displayName' | 'status';
export const USER_FIELDS: readonly UserField[] = ['email', 'displayName', 'status'];

function snapshot(user: Pick<User, 'id' | 'email' | 'displayName' | 'status' | 'revision'>) {
  return {
    userId: user.id,
    email: user.email,
    displayName: user.displayName,
    status: user.status,
    revision: user.revision,
  };
}

export function userCreated(user: User): PendingEvent {
  return { type: 'user.created', aggregateId: user.id, payload: snapshot(user) };
}

/** `changes` lists the fields that differ, in the fixed order of USER_FIELDS. */
export function userUpdated(before: User, after: User): PendingEvent {
  const changes = USER_FIELDS.filter((field) => before[field] !== after[field]);
  return { type: 'user.updated', aggregateId: after.id, payload: { ...snapshot(after), changes } };
}

export function userDeleted(user: User): PendingEvent {
  return {
    type: 'user.deleted',
    aggregateId: user.id,
    payload: { userId: user.id, email: user.email },
  };
}

export function identityLinked(userId: string, provider: string, subject: string): PendingEvent {
  return { type: 'identity.linked', aggregateId: userId, payload: { userId, provider, subject } };
}

export function identityUnlinked(userId: string, provider: string, subject: string): PendingEvent {
  return { type: 'identity.unlinked', aggregateId: userId, payload: { userId, provider, subject } };
}
