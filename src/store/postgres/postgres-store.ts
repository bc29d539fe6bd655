/**
 * The contract over PostgreSQL, speaking only through the driver port (never pg or postgres.js
 * directly). Validation comes from validation.ts and payloads from events.ts, as in the in-memory
 * reference store; this file only decides where each call runs: on the pool, in the store's own
 * transaction, or in a caller's transaction or savepoint. Every statement names its tables
 * `"schema"."table"` in the schema resolved once per store (store-schema.ts), never through the
 * session's search_path.
 */
import { DatabaseError } from '../../driver/errors';
import type { Connection, Queryable, QueryOptions, TransactionScope } from '../../driver/port';
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
import { InvalidInputError, NotReadyError, TransactionFinishedError } from '../errors';
import { MIGRATIONS } from '../migrations';
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
import { PostgresStoreClosedError } from './errors';
import { migrate, readiness } from './migrator';
import * as ops from './operations';
import { buildStatements, type StoreStatements } from './statements';
import { StoreSchemaResolver } from './store-schema';

export {
  InvalidStoreSchemaError,
  MigrationStateError,
  PostgresStoreClosedError,
  StoreSchemaUnresolvedError,
  UnsupportedServerVersionError,
} from './errors';

export interface PostgresStoreOptions {
  /**
   * The store's close() also closes the connection. Default false: whoever opened the connection
   * (the Jest preset, say) closes it.
   */
  ownsConnection?: boolean;
  /**
   * The schema holding the store's tables; every statement names it explicitly. Default:
   * `connection.schema`, else the server's `current_schema()` asked once at first use. Set it
   * whenever a pooler sits in between: a transaction-mode PgBouncer drops the search_path a
   * connection asks for, so current_schema() there is the server's default (often `public`).
   */
  schema?: string;
}

/**
 * A missing table of ours (42P01) or a missing schema (3F000: every statement names only the
 * store's schema) means the schema is not migrated, or lost a table since.
 */
function isMissingTable(error: unknown): boolean {
  return (
    error instanceof DatabaseError &&
    ((error.sqlState === '42P01' && error.message.includes('user_engine_')) ||
      error.sqlState === '3F000')
  );
}

/** Deadlocks and serialization failures of the store's own transactions are safe to retry. */
function isRetryable(error: unknown): boolean {
  return (
    error instanceof DatabaseError && (error.sqlState === '40P01' || error.sqlState === '40001')
  );
}

const OWN_TRANSACTION_ATTEMPTS = 3;

interface Root {
  readonly connection: Connection;
  assertOpen(): void;
  /** The store's statements, its schema resolved and the set built on first use only. */
  statements(): Promise<StoreStatements>;
}

/** Where a store's calls run. */
interface Scope {
  readonly db: ops.Db;
  statements(): Promise<StoreStatements>;
  assertUsable(): void;
  /** Runs `fn` atomically: in a new transaction at the root, in place inside one. */
  atomic<T>(fn: (db: ops.Db) => Promise<T>): Promise<T>;
  /** A transaction at the root, a savepoint inside one. */
  transaction<T>(fn: (child: Scope) => Promise<T>): Promise<T>;
}

/**
 * The store's parameterised statements are its hot ones: a few constant texts per schema, run for
 * every call. The pool keeps them as named prepared statements where that is safe (see the
 * driver's `QueryOptions.prepare`); texts without parameters (migrations, multi-statement) never.
 */
const HOT: QueryOptions = { prepare: true };

/** Turns "relation user_engine_... does not exist" into not_ready with the pending ids. */
function dbOver(queryable: Queryable, inTransaction: boolean, root: Root): ops.Db {
  return {
    inTransaction,
    async query(text, params) {
      try {
        return await queryable.query(text, params, params && params.length > 0 ? HOT : undefined);
      } catch (error) {
        if (!isMissingTable(error)) throw error;
        // Asked on the pool: a caller's transaction is aborted by the error above.
        const pending = await readiness(root.connection, await root.statements()).then(
          (state) => state.pending,
          () => MIGRATIONS.map((m) => m.id),
        );
        throw new NotReadyError(pending);
      }
    },
  };
}

function transactionScope(scope: TransactionScope, root: Root): Scope & { finish(): void } {
  let finished = false;
  const self: Scope & { finish(): void } = {
    db: dbOver(scope, true, root),
    statements: () => root.statements(),
    finish() {
      finished = true;
    },
    assertUsable() {
      root.assertOpen();
      if (finished) throw new TransactionFinishedError();
    },
    atomic: (fn) => fn(self.db),
    async transaction(fn) {
      const result = await scope.savepoint((savepoint) =>
        runIn(transactionScope(savepoint, root), fn),
      );
      // The enclosing transaction may have settled while the savepoint ran.
      self.assertUsable();
      return result;
    },
  };
  return self;
}

async function runIn<T>(
  scope: Scope & { finish(): void },
  fn: (child: Scope) => Promise<T>,
): Promise<T> {
  try {
    return await fn(scope);
  } finally {
    scope.finish();
  }
}

function rootScope(root: Root): Scope {
  const { connection } = root;
  return {
    db: dbOver(connection, false, root),
    statements: () => root.statements(),
    assertUsable: () => root.assertOpen(),
    async atomic(fn) {
      // Resolved before a session is taken: on a one-session pool the lookup would wait forever.
      await root.statements();
      for (let attempt = 1; ; attempt++) {
        try {
          return await connection.transaction((tx) => fn(dbOver(tx, true, root)));
        } catch (error) {
          if (attempt >= OWN_TRANSACTION_ATTEMPTS || !isRetryable(error)) throw error;
        }
      }
    },
    async transaction(fn) {
      await root.statements(); // as in atomic(): never while holding the pool's session
      return connection.transaction((tx) => runIn(transactionScope(tx, root), fn));
    },
  };
}

/** The contract's methods over one scope: the root store, a transaction or a savepoint. */
class ScopedPostgresStore implements UserEngineStore {
  readonly #scope: Scope;

  constructor(scope: Scope) {
    this.#scope = scope;
  }

  /** As in the reference store: an unusable handle first, then bad input, then the database. */
  #validate<T>(check: () => T): T {
    this.#scope.assertUsable();
    return check();
  }

  get #db(): ops.Db {
    return this.#scope.db;
  }

  #statements(): Promise<StoreStatements> {
    return this.#scope.statements();
  }

  async readiness(): Promise<Readiness> {
    this.#scope.assertUsable();
    return readiness(this.#db, await this.#statements());
  }

  async migrate(): Promise<MigrateResult> {
    this.#scope.assertUsable();
    return migrate(
      this.#db,
      await this.#statements(),
      (fn) => this.#scope.atomic(fn),
      !this.#db.inTransaction,
    );
  }

  async upsertUser(input: UpsertUserInput): Promise<UpsertUserResult> {
    const normalized = this.#validate(() => normalizeUpsert(input));
    const [result] = await ops.upsertUsers(this.#db, await this.#statements(), [normalized]);
    return result;
  }

  async upsertUsers(inputs: readonly UpsertUserInput[]): Promise<UpsertUserResult[]> {
    const normalized = this.#validate(() => normalizeUpsertBatch(inputs));
    // One input is atomic on its own (one statement); a batch needs a transaction.
    const sql = await this.#statements();
    if (normalized.length <= 1) return ops.upsertUsers(this.#db, sql, normalized);
    return this.#scope.atomic((db) => ops.upsertUsers(db, sql, normalized));
  }

  async getUser(id: string): Promise<User | null> {
    const userId = this.#validate(() => normalizeId(id));
    return ops.getUser(this.#db, await this.#statements(), userId);
  }

  async findUserByEmail(email: string): Promise<User | null> {
    const { emailKey } = this.#validate(() => normalizeEmail(email));
    return ops.findUserByEmail(this.#db, await this.#statements(), emailKey);
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
    return ops.updateUser(this.#db, await this.#statements(), userId, normalized, expected);
  }

  async deleteUser(id: string): Promise<boolean> {
    const userId = this.#validate(() => normalizeId(id));
    return ops.deleteUser(this.#db, await this.#statements(), userId);
  }

  async listUsers(options?: ListUsersOptions): Promise<UserPage> {
    const normalized = this.#validate(() => normalizeListOptions(options));
    return ops.listUsers(this.#db, await this.#statements(), normalized);
  }

  async linkIdentity(input: LinkIdentityInput): Promise<LinkIdentityResult> {
    const link = this.#validate(() => normalizeLink(input));
    return ops.linkIdentity(this.#db, await this.#statements(), link);
  }

  async unlinkIdentity(provider: string, subject: string): Promise<boolean> {
    const [p, s] = this.#validate(
      () => [normalizeProvider(provider), normalizeSubject(subject)] as const,
    );
    return ops.unlinkIdentity(this.#db, await this.#statements(), p, s);
  }

  async findUserByIdentity(provider: string, subject: string): Promise<User | null> {
    const [p, s] = this.#validate(
      () => [normalizeProvider(provider), normalizeSubject(subject)] as const,
    );
    return ops.findUserByIdentity(this.#db, await this.#statements(), p, s);
  }

  async listIdentities(userId: string): Promise<Identity[]> {
    const id = this.#validate(() => normalizeId(userId, 'userId'));
    return ops.listIdentities(this.#db, await this.#statements(), id);
  }

  async outboxEvents(query?: OutboxQuery): Promise<OutboxEvent[]> {
    const normalized = this.#validate(() => normalizeOutboxQuery(query));
    return ops.outboxEvents(this.#db, await this.#statements(), normalized);
  }

  async recordCounts(): Promise<RecordCounts> {
    this.#scope.assertUsable();
    return ops.recordCounts(this.#db, await this.#statements());
  }

  async transaction<T>(fn: (tx: UserEngineStore) => Promise<T>): Promise<T> {
    this.#validate(() => {
      if (typeof fn !== 'function') throw new InvalidInputError('fn', 'not_a_function');
    });
    return this.#scope.transaction((child) => fn(new ScopedPostgresStore(child)));
  }

  /** Inside a transaction: a no-op on a live handle (the transaction goes on). */
  async close(): Promise<void> {
    this.#scope.assertUsable();
  }
}

export class PostgresUserEngineStore extends ScopedPostgresStore {
  readonly #connection: Connection;
  readonly #ownsConnection: boolean;
  readonly #state: { closed: boolean };

  constructor(connection: Connection, options: PostgresStoreOptions = {}) {
    if (
      typeof connection !== 'object' ||
      connection === null ||
      typeof connection.query !== 'function'
    )
      throw new TypeError('PostgresUserEngineStore: connection must be a driver-port Connection');
    const state = { closed: false };
    const resolver = new StoreSchemaResolver(connection, options.schema);
    // Built once per store: the same text on every call (see statements.ts).
    let statements: Promise<StoreStatements> | undefined;
    super(
      rootScope({
        connection,
        assertOpen() {
          if (state.closed) throw new PostgresStoreClosedError();
        },
        statements() {
          statements ??= resolver.resolve().then(
            (schema) => buildStatements(schema.name),
            (error: unknown) => {
              statements = undefined; // a schema created meanwhile is found on the next call
              throw error;
            },
          );
          return statements;
        },
      }),
    );
    this.#connection = connection;
    this.#ownsConnection = options.ownsConnection ?? false;
    this.#state = state;
  }

  override async close(): Promise<void> {
    if (this.#state.closed) return;
    this.#state.closed = true;
    if (this.#ownsConnection) await this.#connection.close();
  }
}

/** The Jest preset's default `storeFactory.createStore(connection)`: the preset owns the pool. */
export function createPostgresStore(connection: Connection): UserEngineStore {
  return new PostgresUserEngineStore(connection);
}
