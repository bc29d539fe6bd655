/**
 * The live half of `setup-store`: builds the store inside the test file's sandbox (so its classes,
 * Dates and errors are the ones the test file imports) and loads a provider's store factory through
 * Jest's own module system (so a TypeScript factory works). Loaded only when a run is live.
 */
import { CodedError } from '../../coded-error';
import type { Connection } from '../../driver/port';
import { FACTORY_OPTION } from '../../live/config/options';
import type { RecordCounts, UserEngineStore } from '../../store/contract';
import type { WorkerBridge } from '../handoff';
import type { FreshLiveSchema, FreshLiveStore, LiveContext } from './live-context';
import { bridgeConnection, relay } from '../worker/realm';

type StoreOrPromise = UserEngineStore | Promise<UserEngineStore>;
type CreateStore = (connection: Connection) => StoreOrPromise;
type HookFn = () => Promise<void>;
type Hook = (fn: HookFn, timeout: number) => void;
interface Hooks {
  beforeAll: Hook;
  afterAll: Hook;
}

/** Covers a first connect plus the migrations on a slow CI database. */
const PREPARE_TIMEOUT_MS = 60_000;

export class StoreFactoryError extends CodedError<'store_factory_invalid'> {
  readonly setting = FACTORY_OPTION;
  constructor(message: string) {
    super('store_factory_invalid', message);
  }
}

function pickCreateStore(loaded: unknown, path: string): CreateStore {
  const candidates = [loaded, (loaded as { default?: unknown } | null)?.default];
  for (const candidate of candidates) {
    const fn = (candidate as { createStore?: unknown } | null)?.createStore;
    if (typeof fn === 'function') return fn as CreateStore;
  }
  throw new StoreFactoryError(
    `${FACTORY_OPTION} (${path}) must export a function createStore(connection) returning a store`,
  );
}

/** Jest's (and Node's) refusal to `require` an ES module. */
function isEsmRefusal(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return (
    code === 'ERR_REQUIRE_ESM' ||
    (typeof message === 'string' && message.startsWith('Must use import to load ES Module'))
  );
}

/**
 * An ES module factory (an ESM provider project): imported through Jest's ESM loader, so the
 * store is created asynchronously, in the file's beforeAll, like a factory returning a promise.
 */
function importCreateStore(factoryPath: string): CreateStore {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const importEsm = require('../../../esm-import.js') as (specifier: string) => Promise<unknown>;
  const loading = importEsm(factoryPath).then(
    (loaded) => pickCreateStore(loaded, factoryPath),
    (error: unknown) => {
      throw new StoreFactoryError(
        `${FACTORY_OPTION} (${factoryPath}) is an ES module, and Jest could not import it ` +
          `(${error instanceof Error ? error.message : String(error)}): run Jest with ES ` +
          `modules on (NODE_OPTIONS=--experimental-vm-modules), or give a CommonJS factory`,
      );
    },
  );
  loading.catch(() => undefined); // surfaced by the first createStore call
  return async (connection) => (await loading)(connection);
}

function loadCreateStore(bridge: WorkerBridge): CreateStore {
  // Plain require: inside the sandbox it is Jest's, so the module gets Jest's transform and the
  // same module registry as the test file.
  /* eslint-disable @typescript-eslint/no-require-imports */
  if (bridge.storeFactory === undefined) {
    const postgres = require('../../store/postgres/postgres-store') as {
      createPostgresStore: CreateStore;
    };
    return postgres.createPostgresStore;
  }
  let loaded: unknown;
  try {
    loaded = require(bridge.storeFactory);
  } catch (error) {
    if (isEsmRefusal(error)) return importCreateStore(bridge.storeFactory);
    throw error;
  }
  return pickCreateStore(loaded, bridge.storeFactory);
  /* eslint-enable @typescript-eslint/no-require-imports */
}

function isPromise(value: StoreOrPromise): value is Promise<UserEngineStore> {
  return typeof (value as { then?: unknown }).then === 'function';
}

/**
 * `live.createFreshStore`: a store from the same factory, on a pool bound to a new fresh schema.
 * Stores not disposed of by the file are closed after it (their pools by the environment, their
 * schemas when the run ends).
 */
function freshStores(bridge: WorkerBridge, createStore: CreateStore) {
  const open = new Set<UserEngineStore>();
  async function create(): Promise<FreshLiveStore> {
    const fresh = await relay(() => bridge.openFreshSchema());
    let store: UserEngineStore;
    try {
      store = await createStore(bridgeConnection(fresh.connection, 'sandbox'));
    } catch (error) {
      await relay(() => fresh.dispose()).catch(() => undefined);
      throw error;
    }
    open.add(store);
    let disposing: Promise<void> | undefined;
    const dispose = async (): Promise<void> => {
      open.delete(store);
      try {
        await store.close();
      } finally {
        await relay(() => fresh.dispose());
      }
    };
    return { store, schema: fresh.schema, dispose: () => (disposing ??= dispose()) };
  }
  async function closeLeftovers(): Promise<void> {
    const stores = [...open];
    open.clear();
    const results = await Promise.allSettled(stores.map((store) => store.close()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
  return { create, closeLeftovers };
}

/** `live.openFreshSchema`: the bridge's fresh schema, its pool's results adopted into this realm. */
async function openFreshSchema(bridge: WorkerBridge): Promise<FreshLiveSchema> {
  const fresh = await relay(() => bridge.openFreshSchema());
  let disposing: Promise<void> | undefined;
  return {
    connection: bridgeConnection(fresh.connection, 'sandbox'),
    schema: fresh.schema,
    dispose: () => (disposing ??= relay(() => fresh.dispose())),
  };
}

function buildLiveContext(bridge: WorkerBridge, hooks: Hooks): LiveContext {
  const connection = bridgeConnection(bridge.connection, 'sandbox');
  const createStore = loadCreateStore(bridge);
  const fresh = freshStores(bridge, createStore);
  const created = createStore(connection);
  let store: UserEngineStore | undefined;
  if (isPromise(created)) {
    // Awaited in beforeAll; until then a rejection must not count as unhandled.
    created.catch(() => undefined);
  } else {
    store = created;
  }

  hooks.beforeAll(async () => {
    store ??= await created;
    const ready = store;
    await relay(() => bridge.prepare(ready));
  }, PREPARE_TIMEOUT_MS);
  // The store is the file's; the pool under it is the worker's (its close() is not forwarded).
  hooks.afterAll(async () => {
    try {
      await fresh.closeLeftovers();
    } finally {
      await store?.close();
    }
  }, PREPARE_TIMEOUT_MS);

  const live: LiveContext = {
    enabled: true,
    get store(): UserEngineStore {
      if (!store) {
        throw new StoreFactoryError(
          `the store from ${FACTORY_OPTION} is still being created (createStore returned a promise); use it inside a test or hook`,
        );
      }
      return store;
    },
    connection,
    schema: bridge.schema,
    runId: bridge.runId,
    workerId: bridge.workerId,
    serverVersion: bridge.serverVersion,
    redactedDsn: bridge.redactedDsn,
    createFreshStore: () => fresh.create(),
    openFreshSchema: () => openFreshSchema(bridge),
    reset: () => relay(() => bridge.reset()),
    recordCounts: (): Promise<RecordCounts> => live.store.recordCounts(),
  };
  return live;
}

/** Installs `userEngineLive` on the sandbox's global for this test file. */
export function installLiveContext(bridge: WorkerBridge, global: typeof globalThis): void {
  const hooks = global as Partial<Hooks>;
  if (typeof hooks.beforeAll !== 'function' || typeof hooks.afterAll !== 'function') {
    throw new Error('@user-engine/jest-live setup-store must run as a setupFilesAfterEnv entry');
  }
  global.userEngineLive = buildLiveContext(bridge, hooks as Hooks);
}
