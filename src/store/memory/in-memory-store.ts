/**
 * The reference store: the executable definition of the contract's semantics, with no database.
 * Every input check comes from validation.ts and every outbox payload from events.ts, so a
 * Postgres store built on the same helpers rejects and records exactly the same things.
 */
import type {
  Identity,
  LinkIdentityInput,
  LinkIdentityResult,
  ListUsersOptions,
  MigrateResult,
  OutboxEvent,
  OutboxQuery,
  Readiness,
  RecordCounts,
  UpdateUserOptions,
  UpdateUserResult,
  UpsertUserInput,
  UpsertUserResult,
  User,
  UserEngineStore,
  UserPage,
  UserPatch,
} from '../contract';
import { InvalidInputError } from '../errors';
import {
  normalizeEmail,
  normalizeId,
  normalizeLink,
  normalizeListOptions,
  normalizeOutboxQuery,
  normalizePatch,
  normalizeProvider,
  normalizeRevision,
  normalizeSubject,
  normalizeUpsert,
  normalizeUpsertBatch,
} from '../validation';
import * as ops from './operations';
import { RootScope, type Scope } from './scope';

export { InMemoryStoreClosedError } from './scope';

export interface InMemoryStoreOptions {
  /** Source of createdAt/updatedAt/linkedAt; defaults to the wall clock. */
  clock?: () => Date;
}

/** The contract's methods over one scope: the root store, a transaction or a savepoint. */
class ScopedStore implements UserEngineStore {
  readonly #scope: Scope;

  constructor(scope: Scope) {
    this.#scope = scope;
  }

  /** An unusable handle is reported before bad input, bad input before anything else. */
  #validate<T>(check: () => T): T {
    this.#scope.assertUsable();
    return check();
  }

  async readiness(): Promise<Readiness> {
    return this.#scope.read(ops.readiness);
  }

  async migrate(): Promise<MigrateResult> {
    return this.#scope.write(ops.migrate);
  }

  async upsertUser(input: UpsertUserInput): Promise<UpsertUserResult> {
    const normalized = this.#validate(() => normalizeUpsert(input));
    const [result] = await this.#scope.write((t, e) => ops.upsertUsers(t, e, [normalized]));
    return result;
  }

  async upsertUsers(inputs: readonly UpsertUserInput[]): Promise<UpsertUserResult[]> {
    const normalized = this.#validate(() => normalizeUpsertBatch(inputs));
    return this.#scope.write((t, e) => ops.upsertUsers(t, e, normalized));
  }

  async getUser(id: string): Promise<User | null> {
    const userId = this.#validate(() => normalizeId(id));
    return this.#scope.read((t) => ops.getUser(t, userId));
  }

  async findUserByEmail(email: string): Promise<User | null> {
    const { emailKey } = this.#validate(() => normalizeEmail(email));
    return this.#scope.read((t) => ops.findUserByEmail(t, emailKey));
  }

  async updateUser(
    id: string,
    patch: UserPatch,
    options: UpdateUserOptions,
  ): Promise<UpdateUserResult> {
    const [userId, normalized, expected] = this.#validate(
      () =>
        [
          normalizeId(id),
          normalizePatch(patch),
          normalizeRevision((options as Partial<UpdateUserOptions> | undefined)?.expectedRevision),
        ] as const,
    );
    return this.#scope.write((t, e) => ops.updateUser(t, e, userId, normalized, expected));
  }

  async deleteUser(id: string): Promise<boolean> {
    const userId = this.#validate(() => normalizeId(id));
    return this.#scope.write((t, e) => ops.deleteUser(t, e, userId));
  }

  async listUsers(options?: ListUsersOptions): Promise<UserPage> {
    const normalized = this.#validate(() => normalizeListOptions(options));
    return this.#scope.read((t) => ops.listUsers(t, normalized));
  }

  async linkIdentity(input: LinkIdentityInput): Promise<LinkIdentityResult> {
    const link = this.#validate(() => normalizeLink(input));
    return this.#scope.write((t, e) => ops.linkIdentity(t, e, link));
  }

  async unlinkIdentity(provider: string, subject: string): Promise<boolean> {
    const [p, s] = this.#validate(
      () => [normalizeProvider(provider), normalizeSubject(subject)] as const,
    );
    return this.#scope.write((t, e) => ops.unlinkIdentity(t, e, p, s));
  }

  async findUserByIdentity(provider: string, subject: string): Promise<User | null> {
    const [p, s] = this.#validate(
      () => [normalizeProvider(provider), normalizeSubject(subject)] as const,
    );
    return this.#scope.read((t) => ops.findUserByIdentity(t, p, s));
  }

  async listIdentities(userId: string): Promise<Identity[]> {
    const id = this.#validate(() => normalizeId(userId, 'userId'));
    return this.#scope.read((t) => ops.listIdentities(t, id));
  }

  async outboxEvents(query?: OutboxQuery): Promise<OutboxEvent[]> {
    const normalized = this.#validate(() => normalizeOutboxQuery(query));
    return this.#scope.read((t) => ops.outboxEvents(t, normalized));
  }

  async recordCounts(): Promise<RecordCounts> {
    return this.#scope.read(ops.recordCounts);
  }

  async transaction<T>(fn: (tx: UserEngineStore) => Promise<T>): Promise<T> {
    this.#validate(() => {
      if (typeof fn !== 'function') throw new InvalidInputError('fn', 'not_a_function');
    });
    return this.#scope.transaction((child) => fn(new ScopedStore(child)));
  }

  async close(): Promise<void> {
    return this.#scope.close();
  }
}

/**
 * Writes are serialized by one store-wide lock, held for the whole of a `transaction`: a writer
 * outside a running transaction waits for it, as it would behind PostgreSQL's row locks. Readers
 * never wait and see only committed data.
 */
export class InMemoryUserEngineStore extends ScopedStore {
  constructor(options: InMemoryStoreOptions = {}) {
    const clock = options.clock ?? (() => new Date());
    let sequence = 0;
    super(
      new RootScope({
        now: () => clock().getTime(),
        // Never rolled back, like a PostgreSQL sequence: aborted writes leave gaps.
        nextSequence: () => ++sequence,
      }),
    );
  }
}
