/**
 * The hand-over from the test environment (outside the sandbox, one per worker process) to
 * `setup-store` (inside each test file's sandbox). Keyed by a registered symbol, which is the same
 * in every realm.
 */
import type { Connection } from '../driver/port';
import type { UserEngineStore } from '../store/contract';

export const BRIDGE_KEY: unique symbol = Symbol.for('@user-engine/jest-live:bridge');

export interface WorkerBridge {
  /** The worker's pool, bound to `schema`; parameters are adopted into the pool's realm. */
  readonly connection: Connection;
  readonly schema: string;
  readonly runId: string;
  readonly workerId: string;
  readonly serverVersion: string;
  readonly redactedDsn: string;
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
