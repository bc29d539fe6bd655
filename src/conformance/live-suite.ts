/**
 * The one line a provider's test file needs to prove its store live:
 *
 *   runStoreConformance('MyStore', ({ connection }) => new MyStore(connection));
 *
 * Inside `describeLive` (skipped, with the live reason, when live tests are off; a failure under
 * USER_ENGINE_LIVE_REQUIRED=1 when the preset's environment is not active). The factory builds the
 * store under test on this worker's schema once per file, emptied before every test; the
 * readiness/migration specs get stores from the same factory on fresh, unmigrated schemas. Every
 * store it builds is closed by the suite, every fresh schema dropped. The lower-level
 * `runStoreConformance(name, options)` stays for stores outside the preset.
 */
import type { Connection, DriverName } from '../driver/port';
import { describeLive } from '../jest/test/describe-live';
import type { LiveContext } from '../jest/test/live-context';
import { readRunState } from '../jest/handoff';
import type { UserEngineStore } from '../store/contract';
import { ConformanceOptionsError, type StoreCapabilities } from './options';
import { jestSuiteApi, registerConformance, type SuiteApi } from './register';

/** What the factory gets: enough to use the preset's pool, or to open a client of its own. */
export interface LiveStoreFactoryArgs {
  /** A pool bound (search_path) to `schema`; owned by the preset, do not close it. */
  readonly connection: Connection;
  /**
   * The run's DSN, password included (USER_ENGINE_LIVE_DSN, or the embedded server's), for an
   * adapter that opens its own client: set its search_path to `schema`, and close it in the
   * store's `close()`. Never print it.
   */
  readonly dsn: string;
  /** The schema the store must live in (the worker's, or a fresh unmigrated one). */
  readonly schema: string;
  /** The driver the preset uses (`pg` or `postgres`). */
  readonly driver: DriverName;
}

/**
 * Builds a store on the given schema. Declare what the store cannot honestly do on the factory
 * itself (`factory.capabilities = { concurrentWriters: false }`); the specs needing it are then
 * reported as skipped with that reason. Default: every capability on.
 */
export interface LiveStoreFactory {
  (args: LiveStoreFactoryArgs): UserEngineStore | Promise<UserEngineStore>;
  capabilities?: Partial<StoreCapabilities>;
}

/** The DSN this worker's run uses: the user's, or the embedded server's from the run state. */
function runDsn(): string {
  const dsn = process.env.USER_ENGINE_LIVE_DSN ?? '';
  if (dsn !== 'embedded') return dsn;
  return readRunState(process.env)?.embeddedDsn ?? '';
}

/**
 * Jest's API with the suite's own top-level block flattened away: `describeLive(name)` already is
 * that block, so the groups sit directly under it.
 */
function underLiveBlock(api: SuiteApi): SuiteApi {
  let top = true;
  return {
    ...api,
    describe: (name, fn) => {
      if (!top) return api.describe(name, fn);
      top = false;
      fn();
    },
  };
}

function registerLive(name: string, factory: LiveStoreFactory, live: LiveContext): void {
  const args = (connection: Connection, schema: string): LiveStoreFactoryArgs => ({
    connection,
    dsn: runDsn(),
    schema,
    driver: connection.driver,
  });
  registerConformance(
    name,
    {
      createStore: () => factory(args(live.connection, live.schema)),
      reset: () => live.reset(),
      closeStore: (store) => store.close(),
      createFreshStore: async () => {
        const fresh = await live.openFreshSchema();
        let store: UserEngineStore;
        try {
          store = await factory(args(fresh.connection, fresh.schema));
        } catch (error) {
          await fresh.dispose();
          throw error;
        }
        return {
          store,
          dispose: async () => {
            try {
              await store.close();
            } finally {
              await fresh.dispose();
            }
          },
        };
      },
      capabilities: factory.capabilities,
    },
    underLiveBlock(jestSuiteApi),
  );
}

/** `runStoreConformance(name, factory)`: the shared suite, live, on the store the factory builds. */
export function runLiveStoreConformance(name: string, factory: LiveStoreFactory): void {
  if (typeof factory !== 'function') {
    throw new ConformanceOptionsError(
      'factory',
      'must be a function ({ connection, dsn, schema, driver }) => store',
    );
  }
  describeLive(name, (live) => registerLive(name, factory, live));
}
