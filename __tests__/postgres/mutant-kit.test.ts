/**
 * The mutant kit's Postgres half: small subclasses of PostgresUserEngineStore, each with one
 * plausible adapter mistake, against a live database (skipped without USER_ENGINE_LIVE_DSN).
 * Each runs only the specs named as catching it (a schema per spec makes the whole suite too slow
 * to repeat per mutant), and the unmodified store passes those same specs, so the failure is the
 * mutant's doing.
 */
import type { ContractId } from '../../src/conformance/spec';
import type {
  ListUsersOptions,
  OutboxEvent,
  OutboxQuery,
  UpsertUserInput,
  UpsertUserResult,
  User,
  UserPage,
} from '../../src/store/contract';
import type { Connection } from '../../src/driver';
import { encodeCursor } from '../../src/store/validation';
import { PostgresUserEngineStore } from '../../src/store/postgres/postgres-store';
import { runSuite, type OpenStore } from '../conformance/mutant-kit/run-suite';
import { adminConnection, createTestSchema, describeLive } from './support';

/** Caches getUser on the root store; writes through a transaction handle never invalidate it. */
class CachingStore extends PostgresUserEngineStore {
  readonly #cache = new Map<string, User | null>();

  override async getUser(id: string): Promise<User | null> {
    const key = id.toLowerCase();
    if (!this.#cache.has(key)) this.#cache.set(key, await super.getUser(id));
    const user = this.#cache.get(key) ?? null;
    return (
      user && { ...user, createdAt: new Date(user.createdAt), updatedAt: new Date(user.updatedAt) }
    );
  }

  override async updateUser(...args: Parameters<PostgresUserEngineStore['updateUser']>) {
    this.#cache.clear();
    return super.updateUser(...args);
  }
}

/** The batch path forgets the status the single path honours. */
class BatchWithoutStatusStore extends PostgresUserEngineStore {
  override async upsertUsers(inputs: readonly UpsertUserInput[]): Promise<UpsertUserResult[]> {
    return super.upsertUsers(inputs.map(({ email, displayName }) => ({ email, displayName })));
  }
}

/** `afterSequence` read as "from", not "after". */
class InclusiveOutboxStore extends PostgresUserEngineStore {
  override async outboxEvents(query: OutboxQuery = {}): Promise<OutboxEvent[]> {
    const after = query.afterSequence ?? 0;
    return super.outboxEvents({ ...query, afterSequence: after > 0 ? after - 1 : after });
  }
}

/** A full page always gets a next cursor, even when it ends at the last user. */
class FullPageNextStore extends PostgresUserEngineStore {
  override async listUsers(options: ListUsersOptions = {}): Promise<UserPage> {
    const page = await super.listUsers(options);
    const limit = options.limit ?? 50;
    if (page.next !== null || page.items.length < limit) return page;
    return { ...page, next: encodeCursor(page.items[page.items.length - 1].emailKey) };
  }
}

interface PostgresMutant {
  breaks: ContractId;
  store: new (connection: Connection) => PostgresUserEngineStore;
  caughtBy: string;
}

const MUTANTS: PostgresMutant[] = [
  {
    breaks: 'C-read-1',
    store: CachingStore,
    caughtBy:
      'every rule on every path > a read before a write through a transaction does not hide the committed write',
  },
  {
    breaks: 'C-batch-1',
    store: BatchWithoutStatusStore,
    caughtBy:
      'every rule on every path > a batch honours an explicit status, trims and folds like a single upsert',
  },
  {
    breaks: 'C-outbox-1',
    store: InclusiveOutboxStore,
    caughtBy: 'outbox > afterSequence returns only later events',
  },
  {
    breaks: 'C-list-2',
    store: FullPageNextStore,
    caughtBy: 'list & pagination > next is null when a page ends exactly at the last user',
  },
];

describeLive('mutant kit: broken PostgresUserEngineStore subclasses (live, pg)', () => {
  let admin: Connection;
  const only = new Set(MUTANTS.map((m) => m.caughtBy));
  const options = { timeoutMs: 20_000, stopAfter: Infinity, only };

  beforeAll(async () => {
    admin = await adminConnection('pg');
  });
  afterAll(async () => admin.close());

  const open =
    (Store: PostgresMutant['store']): OpenStore =>
    async () => {
      const schema = await createTestSchema(admin, { max: 2 });
      const store = new Store(schema.connection);
      return {
        store,
        async dispose() {
          await store.close();
          await schema.drop();
        },
      };
    };

  test('control: the unmodified store passes every spec the mutants are caught by', async () => {
    const outcome = await runSuite(open(PostgresUserEngineStore), options);
    expect(outcome.failed).toEqual([]);
    expect(outcome.ran).toBe(only.size);
  }, 120_000);

  test.each(MUTANTS.map((m) => [`${m.breaks}: ${m.store.name}`, m] as const))(
    '%s fails the suite, caught by the named spec',
    async (_, m) => {
      const outcome = await runSuite(open(m.store), options);
      expect(outcome.failed.map((f) => f.spec)).toContain(m.caughtBy);
    },
    120_000,
  );
});
