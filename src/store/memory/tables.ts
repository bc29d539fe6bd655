/**
 * The in-memory store's data: immutable rows in layered tables, and the conversions that hand
 * callers fresh copies (so nothing a caller holds can reach into the store).
 */
import type {
  Identity,
  JsonValue,
  OutboxEvent,
  OutboxEventType,
  User,
  UserStatus,
} from '../contract';
import { Layer, type Table } from './layered-table';

/** Timestamps are kept as epoch milliseconds so that no Date object is ever shared. */
export interface UserRow {
  readonly id: string;
  readonly email: string;
  readonly emailKey: string;
  /** `codePointOrderKey(emailKey)`: what list order compares. */
  readonly orderKey: string;
  readonly displayName: string;
  readonly status: UserStatus;
  readonly revision: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface IdentityRow {
  readonly userId: string;
  readonly provider: string;
  readonly subject: string;
  readonly linkedAt: number;
}

export interface OutboxRow {
  readonly sequence: number;
  readonly type: OutboxEventType;
  readonly aggregateId: string;
  readonly payload: { readonly [key: string]: JsonValue };
  readonly createdAt: number;
}

export interface Tables {
  /** `version`: the highest applied migration; absent means 0. */
  readonly meta: Table<number>;
  /** By user id. */
  readonly users: Table<UserRow>;
  /** emailKey -> user id: the unique index on the key. */
  readonly usersByKey: Table<string>;
  /** By `identityKey(provider, subject)`. */
  readonly identities: Table<IdentityRow>;
  /** By `String(sequence)`. */
  readonly outbox: Table<OutboxRow>;
}

export interface TablesLayer extends Tables {
  commit(): void;
}

export function createTables(): Tables {
  return {
    meta: new Map(),
    users: new Map(),
    usersByKey: new Map(),
    identities: new Map(),
    outbox: new Map(),
  };
}

export function layerOver(parent: Tables): TablesLayer {
  const meta = new Layer(parent.meta);
  const users = new Layer(parent.users);
  const usersByKey = new Layer(parent.usersByKey);
  const identities = new Layer(parent.identities);
  const outbox = new Layer(parent.outbox);
  return {
    meta,
    users,
    usersByKey,
    identities,
    outbox,
    commit() {
      for (const layer of [meta, users, usersByKey, identities, outbox]) layer.commit();
    },
  };
}

/** Providers match [a-z0-9._-], so the first '/' always ends the provider. */
export function identityKey(provider: string, subject: string): string {
  return `${provider}/${subject}`;
}

export function toUser(row: UserRow): User {
  return {
    id: row.id,
    email: row.email,
    emailKey: row.emailKey,
    displayName: row.displayName,
    status: row.status,
    revision: row.revision,
    createdAt: new Date(row.createdAt),
    updatedAt: new Date(row.updatedAt),
  };
}

export function toIdentity(row: IdentityRow): Identity {
  return {
    userId: row.userId,
    provider: row.provider,
    subject: row.subject,
    linkedAt: new Date(row.linkedAt),
  };
}

export function toOutboxEvent(row: OutboxRow): OutboxEvent {
  return {
    sequence: row.sequence,
    type: row.type,
    aggregateId: row.aggregateId,
    payload: structuredClone(row.payload) as { [key: string]: JsonValue },
    createdAt: new Date(row.createdAt),
  };
}
