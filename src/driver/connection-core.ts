/**
 * What both adapters share: the closed and finished guards, parameter text conversion and the
 * `onQuery` trace of data statements. An adapter only runs statements on its driver and maps the
 * driver's errors; everything a caller can observe about the port's behaviour is decided here.
 */
import type { DsnTarget } from './dsn-target';
import { ConnectionClosedError, DriverError } from './errors';
import { toTextParams } from './params';
import type {
  BoundConnection,
  DriverName,
  QueryOptions,
  QueryParam,
  QueryResult,
  Topology,
  TransactionScope,
} from './port';
import type { TlsSettings } from './tls';
import { allowsNamedStatements } from './topology';

/** How statements are bound to the pool's settings; decided after the first session (topology.ts). */
export interface TransactionBinding {
  /**
   * `SET LOCAL …` statements every transaction starts with, and a lone statement is wrapped in a
   * transaction for; undefined while the session itself holds the settings.
   */
  prelude: string | undefined;
}

/** Everything an adapter passes to its driver: explicit values only, never the DSN text. */
export interface AdapterConfig {
  target: DsnTarget;
  tls: TlsSettings;
  /** The `options` startup parameter, or undefined to send none. */
  startupOptions: string | undefined;
  applicationName: string | undefined;
  /** For the client-side deadline; the server-side bound travels with the other settings. */
  statementTimeoutMs: number;
  max: number;
  connectTimeoutMs: number;
  /** Called with BEGIN/COMMIT/ROLLBACK/SAVEPOINT/SET LOCAL statements the adapter sends itself. */
  trace: Trace;
  binding: TransactionBinding;
}

/** What one session reports about itself, for topology detection. */
export interface SessionProbe {
  /** The process id the session's BackendKeyData announced; a pooler sends its own. */
  backendKeyPid: number | undefined;
  row: Record<string, unknown>;
}

/** Parameters reach an adapter already in PostgreSQL text form (see params.ts). */
export interface AdapterQueryable {
  /** `named`: send it as a named prepared statement (already decided safe by the port). */
  query(sql: string, params: readonly (string | null)[], named?: boolean): Promise<QueryResult>;
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
  /** Runs `sql` (no parameters) on one session, outside any binding, and says what it announced. */
  probeSession(sql: string): Promise<SessionProbe>;
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
    options?: QueryOptions,
  ): Promise<QueryResult<Row>> {
    this.#assertUsable();
    const text = toTextParams(params);
    this.#connection.trace(sql);
    return (await this.#tx.query(sql, text, this.#connection.named(options))) as QueryResult<Row>;
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

export class PortConnection implements BoundConnection {
  readonly driver: DriverName;
  readonly schema: string | undefined;
  readonly sessionSettings: Readonly<Record<string, string>>;
  readonly trace: Trace;
  readonly #adapter: DriverAdapter;
  #topology: Topology | undefined;
  #namedStatements = false;
  #closing: Promise<void> | undefined;

  /** `trace` must be the one the adapter uses for its own BEGIN/COMMIT/SAVEPOINT statements. */
  constructor(
    adapter: DriverAdapter,
    schema: string | undefined,
    sessionSettings: Readonly<Record<string, string>>,
    trace: Trace,
  ) {
    this.driver = adapter.driver;
    this.schema = schema;
    this.sessionSettings = sessionSettings;
    this.trace = trace;
    this.#adapter = adapter;
  }

  get topology(): Topology {
    if (!this.#topology) throw new Error('topology is known once createConnection has resolved');
    return this.#topology;
  }

  /** Set once by createConnection, after probing the first session. */
  setTopology(topology: Topology): void {
    this.#topology = Object.freeze({ ...topology });
    this.#namedStatements = allowsNamedStatements(topology);
  }

  /** Whether a statement asked to be prepared is sent as a named statement on this pool. */
  named(options: QueryOptions | undefined): boolean {
    return this.#namedStatements && options?.prepare === true;
  }

  probeSession(sql: string): Promise<SessionProbe> {
    this.assertOpen();
    return this.#adapter.probeSession(sql);
  }

  assertOpen(): void {
    if (this.#closing) throw new ConnectionClosedError();
  }

  async query<Row = Record<string, unknown>>(
    sql: string,
    params?: readonly QueryParam[],
    options?: QueryOptions,
  ): Promise<QueryResult<Row>> {
    this.assertOpen();
    const text = toTextParams(params);
    this.trace(sql);
    return (await this.#adapter.query(sql, text, this.named(options))) as QueryResult<Row>;
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
