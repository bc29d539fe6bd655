/**
 * The user-engine store contract. Every store (the in-memory reference, the Postgres adapter, a
 * provider's own) implements `UserEngineStore` with exactly these semantics; the shared
 * conformance suite is their executable proof. Prose version: docs/store-contract.md.
 */

export type UserStatus = 'active' | 'suspended';

export interface User {
  /** UUID, lower-case, assigned by the store. */
  id: string;
  /** The email as given, trimmed. */
  email: string;
  /** The uniqueness key: `email` with ASCII A-Z folded to a-z; nothing else folded. */
  emailKey: string;
  displayName: string;
  status: UserStatus;
  /** 1 on creation, +1 on every change that writes. */
  revision: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface UpsertUserInput {
  email: string;
  displayName: string;
  /** Omitted: `active` on creation, unchanged on update. */
  status?: UserStatus;
}

export interface UpsertUserResult {
  user: User;
  /** A new key: the user was inserted. */
  created: boolean;
  /** Something was written (always true when `created`). */
  changed: boolean;
}

export interface UserPatch {
  email?: string;
  displayName?: string;
  status?: UserStatus;
}

export interface UpdateUserOptions {
  expectedRevision: number;
}

export interface UpdateUserResult {
  user: User;
  changed: boolean;
}

export interface ListUsersOptions {
  /** 1..500, default 50. */
  limit?: number;
  /** The opaque `next` cursor of a previous page. */
  after?: string | null;
}

export interface UserPage {
  items: User[];
  /** Cursor for the following page, `null` on the last page. */
  next: string | null;
}

export interface Identity {
  userId: string;
  provider: string;
  subject: string;
  linkedAt: Date;
}

export interface LinkIdentityInput {
  userId: string;
  provider: string;
  subject: string;
}

export interface LinkIdentityResult {
  identity: Identity;
  /** False when the same pair was already linked to the same user (a no-op). */
  linked: boolean;
}

export type OutboxEventType =
  'user.created' | 'user.updated' | 'user.deleted' | 'identity.linked' | 'identity.unlinked';

export type JsonValue =
  string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface OutboxEvent {
  /** Strictly increasing; gaps allowed (a rolled-back transaction may consume numbers). */
  sequence: number;
  type: OutboxEventType;
  /** The user's id for every event type. */
  aggregateId: string;
  payload: { [key: string]: JsonValue };
  createdAt: Date;
}

export interface OutboxQuery {
  /** Only events with a greater sequence; default 0. */
  afterSequence?: number;
  /** 1..1000, default 100. */
  limit?: number;
}

export interface Readiness {
  ready: boolean;
  /** Highest applied migration version, 0 when none. */
  currentVersion: number;
  targetVersion: number;
  /** Migration ids (`0001_create_users`, ...) not yet applied, in order. */
  pending: string[];
  /** Human-readable problems, e.g. a checksum mismatch of an applied migration. */
  problems: string[];
}

export interface MigrateResult {
  /** Migration ids applied by this call; empty when already up to date. */
  applied: string[];
}

export const MANAGED_TABLES = [
  'user_engine_users',
  'user_engine_identities',
  'user_engine_outbox',
] as const;
export type ManagedTable = (typeof MANAGED_TABLES)[number];
export type RecordCounts = Record<ManagedTable, number>;

export interface UserEngineStore {
  readiness(): Promise<Readiness>;
  migrate(): Promise<MigrateResult>;

  upsertUser(input: UpsertUserInput): Promise<UpsertUserResult>;
  upsertUsers(inputs: readonly UpsertUserInput[]): Promise<UpsertUserResult[]>;
  getUser(id: string): Promise<User | null>;
  findUserByEmail(email: string): Promise<User | null>;
  updateUser(id: string, patch: UserPatch, options: UpdateUserOptions): Promise<UpdateUserResult>;
  deleteUser(id: string): Promise<boolean>;
  listUsers(options?: ListUsersOptions): Promise<UserPage>;

  linkIdentity(input: LinkIdentityInput): Promise<LinkIdentityResult>;
  unlinkIdentity(provider: string, subject: string): Promise<boolean>;
  findUserByIdentity(provider: string, subject: string): Promise<User | null>;
  listIdentities(userId: string): Promise<Identity[]>;

  outboxEvents(query?: OutboxQuery): Promise<OutboxEvent[]>;
  recordCounts(): Promise<RecordCounts>;

  /**
   * Runs `fn` with a store bound to one transaction. A throw rolls back every write and event
   * and rethrows; a nested call is a savepoint. The bound store is unusable once `fn` settles.
   */
  transaction<T>(fn: (tx: UserEngineStore) => Promise<T>): Promise<T>;

  close(): Promise<void>;
}
