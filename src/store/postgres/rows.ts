/**
 * Rows as the drivers return them, and their conversion to contract values. pg and postgres.js
 * both hand back bigint and count(*) as strings; every number is converted here.
 */
import type {
  Identity,
  JsonValue,
  OutboxEvent,
  OutboxEventType,
  User,
  UserStatus,
} from '../contract';

const USER_COLUMN_NAMES = [
  'id',
  'email',
  'email_key',
  'display_name',
  'status',
  'revision',
  'created_at',
  'updated_at',
];

/** The select list of a user row, qualified by `alias` when given. */
export function userColumns(alias?: string): string {
  return USER_COLUMN_NAMES.map((c) => (alias ? `${alias}.${c}` : c)).join(', ');
}

export const USER_COLUMNS = userColumns();

export interface UserRow {
  id: string;
  email: string;
  email_key: string;
  display_name: string;
  status: string;
  revision: number | string;
  created_at: Date | string;
  updated_at: Date | string;
}

export interface IdentityRow {
  user_id: string;
  provider: string;
  subject: string;
  linked_at: Date | string;
}

export interface OutboxRow {
  sequence: number | string;
  type: string;
  aggregate_id: string;
  payload: { [key: string]: JsonValue };
  created_at: Date | string;
}

function toDate(value: Date | string): Date {
  return value instanceof Date ? new Date(value.getTime()) : new Date(value);
}

export function toUser(row: UserRow): User {
  return {
    id: row.id,
    email: row.email,
    emailKey: row.email_key,
    displayName: row.display_name,
    status: row.status as UserStatus,
    revision: Number(row.revision),
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
  };
}

export function toIdentity(row: IdentityRow): Identity {
  return {
    userId: row.user_id,
    provider: row.provider,
    subject: row.subject,
    linkedAt: toDate(row.linked_at),
  };
}

export function toOutboxEvent(row: OutboxRow): OutboxEvent {
  return {
    sequence: Number(row.sequence),
    type: row.type as OutboxEventType,
    aggregateId: row.aggregate_id,
    payload: row.payload,
    createdAt: toDate(row.created_at),
  };
}
