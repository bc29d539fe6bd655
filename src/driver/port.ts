/**
 * The driver port: the only way any part of this package talks to PostgreSQL. Deliberately as
 * narrow as a Kysely driver: parameterised queries, transactions with savepoints, close.
 */

export type DriverName = 'pg' | 'postgres';
export const DRIVER_NAMES: readonly DriverName[] = ['pg', 'postgres'];

/** Parameters are sent as text or arrays bound as `$1..$n`; strings are never spliced into SQL. */
export type QueryParam =
  string | number | boolean | null | Date | readonly (string | number | boolean | null)[];

export interface QueryResult<Row = Record<string, unknown>> {
  rows: Row[];
  /** Rows affected by INSERT/UPDATE/DELETE, rows returned by SELECT. */
  rowCount: number;
}

export interface QueryOptions {
  /**
   * A statement run many times with the same text (the store's own): the pool may keep it as a
   * named prepared statement, planned once per session. Only honoured where the pool's topology
   * proves the session is ours (no pooler, session binding): a transaction pooler (PgBouncer
   * before 1.21) would send it to a session that never saw it. Elsewhere it is sent unnamed.
   */
  prepare?: boolean;
}

export interface Queryable {
  query<Row = Record<string, unknown>>(
    sql: string,
    params?: readonly QueryParam[],
    options?: QueryOptions,
  ): Promise<QueryResult<Row>>;
}

export interface TransactionScope extends Queryable {
  /** Runs `fn` inside a savepoint; a throw rolls back to it and rethrows. */
  savepoint<T>(fn: (scope: TransactionScope) => Promise<T>): Promise<T>;
}

/** Whether a pooler sits between this package and PostgreSQL, as seen from the first session. */
export type PoolerPresence = 'none' | 'detected';
/**
 * What became of the `options` startup parameter (schema, settings): `not-sent` when nothing is
 * bound; `refused` when the pooler rejected it (PgBouncer without `ignore_startup_parameters =
 * options`) and the pool connected without it.
 */
export type StartupOptionsFate = 'honoured' | 'dropped' | 'refused' | 'not-sent';
/**
 * `session`: every session starts with the settings (startup packet), no statement is added.
 * `per-transaction`: every transaction starts with `SET LOCAL` of them, and a lone `query()` runs
 * in such a transaction, so they hold whichever server session a pooler picks.
 */
export type Binding = 'session' | 'per-transaction';

export interface Topology {
  pooler: PoolerPresence;
  startupOptions: StartupOptionsFate;
  binding: Binding;
  /** One line: what was measured (process ids, the probe setting) and what was concluded. */
  evidence: string;
}

export interface Connection extends Queryable {
  readonly driver: DriverName;
  /** The schema every statement of this pool is bound to via search_path, if any. */
  readonly schema: string | undefined;
  /** One session, BEGIN..COMMIT; a throw issues ROLLBACK and rethrows. */
  transaction<T>(fn: (scope: TransactionScope) => Promise<T>): Promise<T>;
  /** Ends every session of the pool; further calls reject. */
  close(): Promise<void>;
}

/** What `createConnection` returns: a pool whose binding has been measured and decided. */
export interface BoundConnection extends Connection {
  /** The settings (`ConnectionOptions.sessionSettings`) every statement runs with. */
  readonly sessionSettings: Readonly<Record<string, string>>;
  /** How the schema and settings are made to hold, decided when the pool was opened. */
  readonly topology: Topology;
}

export interface ConnectionOptions {
  /** Default: `USER_ENGINE_LIVE_DRIVER`-independent: the first installed of pg, postgres. */
  driver?: DriverName;
  /**
   * Bind every statement to this schema: unqualified names resolve in it (search_path), on a
   * direct session through the startup packet, behind a pooler through SET LOCAL per transaction.
   */
  schema?: string;
  /**
   * Settings (GUC name → value) every statement runs with, bound like `schema`: e.g.
   * `{ lock_timeout: '5s', idle_in_transaction_session_timeout: '60s' }`. Names are checked;
   * `search_path`, `statement_timeout` and `application_name` have their own options.
   */
  sessionSettings?: Readonly<Record<string, string>>;
  /** Default: the DSN's `connect_timeout` (seconds), else 5000. */
  connectTimeoutMs?: number;
  /** Pool size; default 4. */
  max?: number;
  /** Per-statement bound in ms (statement_timeout), 0 = none; default 0. */
  statementTimeoutMs?: number;
  /** Called with the text of every statement sent (for diagnostics). */
  onQuery?: (sql: string) => void;
  /** application_name reported to the server. */
  applicationName?: string;
}
