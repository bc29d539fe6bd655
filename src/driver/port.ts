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

export interface Queryable {
  query<Row = Record<string, unknown>>(
    sql: string,
    params?: readonly QueryParam[],
  ): Promise<QueryResult<Row>>;
}

export interface TransactionScope extends Queryable {
  /** Runs `fn` inside a savepoint; a throw rolls back to it and rethrows. */
  savepoint<T>(fn: (scope: TransactionScope) => Promise<T>): Promise<T>;
}

export interface Connection extends Queryable {
  readonly driver: DriverName;
  /** The schema every session of this pool is bound to via search_path, if any. */
  readonly schema: string | undefined;
  /** One session, BEGIN..COMMIT; a throw issues ROLLBACK and rethrows. */
  transaction<T>(fn: (scope: TransactionScope) => Promise<T>): Promise<T>;
  /** Ends every session of the pool; further calls reject. */
  close(): Promise<void>;
}

export interface ConnectionOptions {
  /** Default: `USER_ENGINE_LIVE_DRIVER`-independent: the first installed of pg, postgres. */
  driver?: DriverName;
  /** Bind every session to this schema (search_path set at connect time). */
  schema?: string;
  /** Default 5000. */
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
