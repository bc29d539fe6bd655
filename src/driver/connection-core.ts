/**
 * What both adapters share: the closed and finished guards, parameter text conversion and the
 * `onQuery` trace of data statements. An adapter only runs statements on its driver and maps the
 * driver's errors; everything a caller can observe about the port's behaviour is decided here.
 */
import { ConnectionClosedError, DriverError } from './errors';
import { toTextParams } from './params';
import type { Connection, DriverName, QueryParam, QueryResult, TransactionScope } from './port';

/** Parameters reach an adapter already in PostgreSQL text form (see params.ts). */
export interface AdapterQueryable {
  query(sql: string, params: readonly (string | null)[]): Promise<QueryResult>;
}

export interface AdapterTransaction extends AdapterQueryable {
  /** SAVEPOINT, `fn`, RELEASE; on a throw ROLLBACK TO and RELEASE, then rethrow `fn`'s error. */
  savepoint<T>(fn: (tx: AdapterTransaction) => Promise<T>): Promise<T>;
}

/**
 * Errors an adapter rejects with are already the port's (see map-error.ts), except those thrown
 * by `fn`, which must come back unchanged.
 */
export interface DriverAdapter extends AdapterQueryable {
  readonly driver: DriverName;
  /** BEGIN, `fn`, COMMIT on one session; ROLLBACK and rethrow when `fn` throws. */
  transaction<T>(fn: (tx: AdapterTransaction) => Promise<T>): Promise<T>;
  /** Ends every session; resolves once their sockets are gone. */
  /** Sessions still busy after `graceMs` are destroyed. */
  end(graceMs?: number): Promise<void>;
}

export type Trace = (sql: string) => void;

/** The `onQuery` hook made safe to call: a throwing hook must not break what it observes. */
export function traceOf(onQuery: ((sql: string) => void) | undefined): Trace {
  if (!onQuery) return () => undefined;
  return (sql) => {
    try {
      onQuery(sql);
    } catch {
      // Diagnostics are best effort.
    }
  };
}

/** A transaction or savepoint handle, dead once the callback that received it settles. */
class Scope implements TransactionScope {
  readonly #tx: AdapterTransaction;
  readonly #connection: PortConnection;
  #finished = false;

  constructor(tx: AdapterTransaction, connection: PortConnection) {
    this.#tx = tx;
    this.#connection = connection;
  }

  finish(): void {
    this.#finished = true;
  }

  #assertUsable(): void {
    this.#connection.assertOpen();
    if (this.#finished)
      throw new DriverError('connection_closed', 'this transaction scope has already finished');
  }

  async query<Row = Record<string, unknown>>(
    sql: string,
    params?: readonly QueryParam[],
  ): Promise<QueryResult<Row>> {
    this.#assertUsable();
    const text = toTextParams(params);
    this.#connection.trace(sql);
    return (await this.#tx.query(sql, text)) as QueryResult<Row>;
  }

  async savepoint<T>(fn: (scope: TransactionScope) => Promise<T>): Promise<T> {
    this.#assertUsable();
    return this.#tx.savepoint((tx) => runScoped(tx, this.#connection, fn));
  }
}

async function runScoped<T>(
  tx: AdapterTransaction,
  connection: PortConnection,
  fn: (scope: TransactionScope) => Promise<T>,
): Promise<T> {
  const scope = new Scope(tx, connection);
  try {
    return await fn(scope);
  } finally {
    scope.finish();
  }
}

export class PortConnection implements Connection {
  readonly driver: DriverName;
  readonly schema: string | undefined;
  readonly trace: Trace;
  readonly #adapter: DriverAdapter;
  #closing: Promise<void> | undefined;

  /** `trace` must be the one the adapter uses for its own BEGIN/COMMIT/SAVEPOINT statements. */
  constructor(adapter: DriverAdapter, schema: string | undefined, trace: Trace) {
    this.driver = adapter.driver;
    this.schema = schema;
    this.trace = trace;
    this.#adapter = adapter;
  }

  assertOpen(): void {
    if (this.#closing) throw new ConnectionClosedError();
  }

  async query<Row = Record<string, unknown>>(
    sql: string,
    params?: readonly QueryParam[],
  ): Promise<QueryResult<Row>> {
    this.assertOpen();
    const text = toTextParams(params);
    this.trace(sql);
    return (await this.#adapter.query(sql, text)) as QueryResult<Row>;
  }

  async transaction<T>(fn: (scope: TransactionScope) => Promise<T>): Promise<T> {
    this.assertOpen();
    if (typeof fn !== 'function') throw new TypeError('transaction(fn): fn must be a function');
    return this.#adapter.transaction((tx) => runScoped(tx, this, fn));
  }

  close(graceMs = 500): Promise<void> {
    this.#closing ??= this.#adapter.end(graceMs);
    return this.#closing;
  }
}
