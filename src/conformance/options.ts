import { CodedError } from '../coded-error';
import type { UserEngineStore } from '../store/contract';

/** What the store under test can honestly do; specs that need a switched-off one are skipped. */
export interface StoreCapabilities {
  /**
   * Several operations may run at the same time on separate sessions (a pool of more than one
   * connection, or an in-process store that serialises correctly). Off for single-session stores.
   */
  concurrentWriters: boolean;
  /** A nested `transaction()` call is a savepoint that can roll back on its own. */
  savepoints: boolean;
}

export type CapabilityName = keyof StoreCapabilities;

export const CAPABILITY_NAMES: readonly CapabilityName[] = ['concurrentWriters', 'savepoints'];

/**
 * A requirement a spec may declare: a store capability, or `freshStore`, which is met when the
 * provider passes `createFreshStore`.
 */
export type SpecRequirement = CapabilityName | 'freshStore';

/** An empty, unmigrated store and the way to get rid of it (drop its schema, close its pool...). */
export interface FreshStore {
  store: UserEngineStore;
  dispose(): Promise<void>;
}

export interface ConformanceOptions {
  /**
   * Returns the store under test. With `reset`: called once (beforeAll), then `reset` before each
   * test, closed afterAll. Without `reset`: called before each test, closed after it. The suite
   * calls `store.migrate()` on what it gets, so an already migrated store is fine.
   */
  createStore(): UserEngineStore | Promise<UserEngineStore>;
  /** Empties the store (keeps it migrated). */
  reset?(store: UserEngineStore): Promise<void>;
  /**
   * Default `store.close()`; pass a no-op when the store is owned elsewhere (e.g. injected by the
   * Jest preset).
   */
  closeStore?(store: UserEngineStore): Promise<void>;
  /**
   * An empty, UNMIGRATED store for readiness/migration specs. Without it those specs are skipped,
   * naming capability `freshStore`.
   */
  createFreshStore?(): Promise<FreshStore>;
  /** Defaults: all true. */
  capabilities?: Partial<StoreCapabilities>;
  /** Per-test timeout, default 20000. */
  timeoutMs?: number;
}

/** Options with defaults filled in and shapes checked. */
export interface ResolvedOptions {
  createStore(): Promise<UserEngineStore>;
  reset: ((store: UserEngineStore) => Promise<void>) | undefined;
  closeStore(store: UserEngineStore): Promise<void>;
  createFreshStore: (() => Promise<FreshStore>) | undefined;
  capabilities: StoreCapabilities;
  timeoutMs: number;
}

export const DEFAULT_TIMEOUT_MS = 20_000;

/** A mistake in how the suite was called; `setting` names the option at fault. */
export class ConformanceOptionsError extends CodedError<'invalid_conformance_options'> {
  readonly setting: string;
  constructor(setting: string, problem: string) {
    super('invalid_conformance_options', `runStoreConformance: ${setting} ${problem}`);
    this.setting = setting;
  }
}

function optionalFunction(options: object, key: string): void {
  const value = (options as Record<string, unknown>)[key];
  if (value !== undefined && typeof value !== 'function')
    throw new ConformanceOptionsError(`options.${key}`, 'must be a function when given');
}

function resolveCapabilities(value: unknown): StoreCapabilities {
  const capabilities: StoreCapabilities = { concurrentWriters: true, savepoints: true };
  if (value === undefined) return capabilities;
  if (typeof value !== 'object' || value === null)
    throw new ConformanceOptionsError('options.capabilities', 'must be an object');
  for (const [key, flag] of Object.entries(value)) {
    if (!(CAPABILITY_NAMES as readonly string[]).includes(key))
      throw new ConformanceOptionsError(
        `options.capabilities.${key}`,
        `is not a known capability (known: ${CAPABILITY_NAMES.join(', ')})`,
      );
    if (flag === undefined) continue;
    if (typeof flag !== 'boolean')
      throw new ConformanceOptionsError(`options.capabilities.${key}`, 'must be true or false');
    capabilities[key as CapabilityName] = flag;
  }
  return capabilities;
}

export function resolveOptions(name: unknown, options: ConformanceOptions): ResolvedOptions {
  if (typeof name !== 'string' || name.trim() === '')
    throw new ConformanceOptionsError('name', 'must be a non-empty string');
  if (typeof options !== 'object' || options === null)
    throw new ConformanceOptionsError('options', 'must be an object');
  if (typeof options.createStore !== 'function')
    throw new ConformanceOptionsError('options.createStore', 'must be a function');
  optionalFunction(options, 'reset');
  optionalFunction(options, 'closeStore');
  optionalFunction(options, 'createFreshStore');
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (typeof timeoutMs !== 'number' || !Number.isSafeInteger(timeoutMs) || timeoutMs < 1)
    throw new ConformanceOptionsError('options.timeoutMs', 'must be a positive integer');
  const { createStore, reset, closeStore, createFreshStore } = options;
  return {
    createStore: async () => createStore.call(options),
    reset: reset && ((store) => reset.call(options, store)),
    closeStore: closeStore ? (store) => closeStore.call(options, store) : (store) => store.close(),
    createFreshStore: createFreshStore && (() => createFreshStore.call(options)),
    capabilities: resolveCapabilities(options.capabilities),
    timeoutMs,
  };
}
