/**
 * The hand-overs between a Jest worker's environment (outside the sandbox) and each test file's
 * sandbox: the bridge (worker -> sandbox) and the live-test count (sandbox -> worker). Globals
 * only, no runtime import: `setup-store` loads this module into every test file's sandbox, also on
 * the skip path, where each module loaded per file costs Jest about half a millisecond.
 */
import type { Connection } from '../../driver/port';
import type { UserEngineStore } from '../../store/contract';
import type { LiveContext } from '../test/live-context';

// ---- worker -> sandbox: the bridge --------------------------------------------------------
// From the test environment (outside the sandbox, one per worker process) to `setup-store`
// (inside each test file's sandbox).

export const BRIDGE_KEY: unique symbol = Symbol.for('@user-engine/jest-live:bridge');

/**
 * Where the worker's pool is and what it is bound to, as the test file will see it. The pool's
 * parameters are adopted into the pool's realm.
 */
export interface WorkerBridge extends Pick<
  LiveContext,
  'connection' | 'schema' | 'runId' | 'workerId' | 'serverVersion' | 'redactedDsn'
> {
  /** Absolute path of the provider's store factory module; undefined = built-in Postgres store. */
  readonly storeFactory: string | undefined;
  /**
   * A new, empty, unmigrated fresh schema of this run with its own small pool bound to it
   * (parameters adopted into the pool's realm). `dispose` closes the pool, drops the schema and
   * deletes its ledger row; the file's end closes pools left open, the run's end drops schemas.
   */
  openFreshSchema(): Promise<FreshSchema>;
  /** Once per worker: `store.migrate()`. Then, once per file: empty the schema. */
  prepare(store: UserEngineStore): Promise<void>;
  reset(): Promise<void>;
}

export interface FreshSchema {
  readonly connection: Connection;
  readonly schema: string;
  dispose(): Promise<void>;
}

type BridgeHolder = { [BRIDGE_KEY]?: WorkerBridge };

export function readBridge(global: object): WorkerBridge | undefined {
  return (global as BridgeHolder)[BRIDGE_KEY];
}

export function writeBridge(global: object, bridge: WorkerBridge | undefined): void {
  (global as BridgeHolder)[BRIDGE_KEY] = bridge;
}

// ---- sandbox -> worker: live tests started in this file ------------------------------------
// `describeLive` counts (a `beforeEach` of the live block, inside the sandbox); the environment
// reads the count at the file's end (outside it).

const COUNT_KEY = Symbol.for('@user-engine/jest-live:live-tests');

type CountHolder = { [COUNT_KEY]?: number };

export function countLiveTest(global: object): void {
  const holder = global as CountHolder;
  holder[COUNT_KEY] = (holder[COUNT_KEY] ?? 0) + 1;
}

export function liveTestCount(global: object): number {
  return (global as CountHolder)[COUNT_KEY] ?? 0;
}
