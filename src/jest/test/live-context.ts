/**
 * What a test file sees as `globalThis.userEngineLive`. Types only: importing this module loads
 * nothing at run time.
 */
import type { Connection } from '../../driver/port';
import type { RecordCounts, UserEngineStore } from '../../store/contract';

/** Live tests run: a migrated store in this worker's own schema, emptied at the start of the file. */
export interface LiveContext {
  readonly enabled: true;
  /** The store under test, built by `storeFactory` (default: the built-in Postgres store). */
  readonly store: UserEngineStore;
  /** A pool bound (search_path) to `schema`; owned by the preset, do not close it. */
  readonly connection: Connection;
  /** `user_engine_live_<runId>_<workerId>`: this worker's schema, dropped after the run. */
  readonly schema: string;
  readonly runId: string;
  readonly workerId: string;
  /** e.g. `15.4`. */
  readonly serverVersion: string;
  /** The DSN with its password replaced by `***`. */
  readonly redactedDsn: string;
  /**
   * A new store (same `storeFactory`) in a new EMPTY, UNMIGRATED schema of this run
   * (`<schema>_f<n>`), for readiness/migration tests: pass `createFreshStore: () =>
   * live.createFreshStore()` to `runStoreConformance`. `dispose()` closes the store and drops the
   * schema; whatever is not disposed is closed when the file ends and dropped when the run ends.
   */
  createFreshStore(): Promise<FreshLiveStore>;
  /**
   * A new EMPTY, UNMIGRATED schema of this run (`<schema>_f<n>`) with a small pool bound to it,
   * for a store the preset does not build itself (the factory of the one-line
   * `runStoreConformance`). `dispose()` closes the pool and drops the schema; a pool left open is
   * closed when the file ends, its schema dropped when the run ends.
   */
  openFreshSchema(): Promise<FreshLiveSchema>;
  /** Empties the managed tables of `schema` (keeps the migrations). */
  reset(): Promise<void>;
  recordCounts(): Promise<RecordCounts>;
}

/** A store in its own fresh schema, and the way to get rid of both. */
export interface FreshLiveStore {
  readonly store: UserEngineStore;
  /** `user_engine_live_<runId>_<workerId>_f<n>`. */
  readonly schema: string;
  dispose(): Promise<void>;
}

/** A fresh schema of the run and a pool bound to it (owned by the preset; `dispose` frees both). */
export interface FreshLiveSchema {
  readonly connection: Connection;
  /** `user_engine_live_<runId>_<workerId>_f<n>`. */
  readonly schema: string;
  dispose(): Promise<void>;
}

/** Live tests are skipped; `reason` says why (e.g. USER_ENGINE_LIVE_DSN is not set). */
export interface DisabledLive {
  readonly enabled: false;
  readonly reason: string;
}

export type UserEngineLiveGlobal = LiveContext | DisabledLive;

declare global {
  /** Injected by the `@user-engine/jest-live` test environment; undefined without the preset. */
  var userEngineLive: UserEngineLiveGlobal | undefined;
}
