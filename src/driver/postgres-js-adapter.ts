/**
 * postgres.js (`postgres`) behind the port. Like the pg adapter it is handed the module object and
 * describes the little of postgres.js it uses with local types, so nothing here loads the driver.
 */
import type { AdapterConfig, AdapterTransaction, DriverAdapter } from './connection-core';
import { redactSecrets } from './dsn';
import { describeDsnTarget } from './dsn-target';
import { ConnectionLostError, QueryTimeoutError } from './errors';
import { mapDriverError } from './map-error';
import { postgresJsArrayTypes } from './pg-array';
import type { QueryResult } from './port';
import { withoutPgEnvironment } from './without-pg-env';

type Params = readonly (string | null)[];

/** A postgres.js result: an array of rows with the command tag's row count. */
interface PgJsResult extends Array<Record<string, unknown>> {
  count: number | null;
  /** The BackendKeyData the session announced. */
  state?: { pid?: unknown };
}

/** postgres.js queries are lazy: `execute()` sends one now, without waiting for an await. */
interface PgJsQuery extends Promise<PgJsResult | PgJsResult[]> {
  execute(): PgJsQuery;
}

interface PgJsQueryable {
  unsafe(sql: string, params?: Params, options?: { prepare?: boolean }): PgJsQuery;
}

interface PgJsTransactionSql extends PgJsQueryable {
  savepoint<T>(name: string, fn: (sql: PgJsTransactionSql) => Promise<T>): Promise<T>;
}

interface PgJsSql extends PgJsQueryable {
  /** The options every session and query of this instance reads, live (postgres.js keeps one object). */
  options: { prepare: boolean };
  begin<T>(fn: (sql: PgJsTransactionSql) => Promise<T>): Promise<T>;
  /** `timeout` in seconds: then the sessions still busy are destroyed. */
  end(options?: { timeout?: number }): Promise<void>;
}

type PgJsFactory = (options: Record<string, unknown>) => PgJsSql;

/** Parameters arrive as PostgreSQL text (params.ts): postgres.js must pass them on untouched. */
const asText = (value: unknown) => value as string;

/**
 * postgres.js serialises a parameter by the type the server infers for it; for these types that
 * would change text that is already final (see params.ts), so they get identity serialisers and
 * keep postgres.js's own parsers.
 */
const TEXT_IN_TYPES = {
  json: { to: 3802, from: [114, 3802], serialize: asText, parse: (x: string) => JSON.parse(x) },
  boolean: { to: 16, from: [16], serialize: asText, parse: (x: string) => x === 't' },
  date: {
    to: 1184,
    from: [1082, 1114, 1184],
    serialize: asText,
    parse: (x: string) => new Date(x),
  },
  bytea: {
    to: 17,
    from: [17],
    serialize: asText,
    parse: (x: string) => Buffer.from(x.slice(2), 'hex'),
  },
};

function toResult(result: PgJsResult | PgJsResult[]): QueryResult {
  // A multi-statement text (simple protocol) yields one result per statement.
  const last = (
    result.length > 0 && Array.isArray(result[0]) ? result[result.length - 1] : result
  ) as PgJsResult;
  const rows = Array.from(last ?? []);
  return { rows, rowCount: last?.count ?? rows.length };
}

/** CommonJS exports the factory itself; an ESM interop wrapper puts it on `default`. */
function factoryOf(module: unknown): PgJsFactory {
  if (typeof module === 'function') return module as PgJsFactory;
  return (module as { default: PgJsFactory }).default;
}

/** postgres.js's own reconnect backoff (its default), passed so no `PGBACKOFF` can replace it. */
function backoff(retries: number): number {
  return (0.5 + Math.random() / 2) * Math.min(3 ** retries / 100, 20);
}

/**
 * Every option postgres.js would otherwise take from the DSN, a `PG*` variable or its defaults is
 * given explicitly, and the factory gets no URL at all.
 */
function clientOptions(config: AdapterConfig): Record<string, unknown> {
  const { target } = config;
  const socket = target.host.startsWith('/');
  const connection: Record<string, string> = {};
  // postgres.js announces itself as "postgres.js" unless told otherwise; pg sends no name.
  connection.application_name = config.applicationName ?? '';
  if (config.startupOptions !== undefined) connection.options = config.startupOptions;
  return {
    // Arrays: postgres.js would split a string on `,` and `:`, breaking IPv6 addresses.
    host: [target.host],
    port: [target.port],
    ...(socket ? { path: `${target.host}/.s.PGSQL.${target.port}` } : {}),
    database: target.database,
    user: target.user,
    // A function, so that postgres.js never falls back to PGPASSWORD. It must not throw: postgres.js
    // would leave the rejection unhandled and the connect hanging. Without a password in the DSN
    // the server's refusal (28P01) is reported with a hint (map-error.ts).
    pass: () => target.password ?? '',
    ssl: config.tls,
    sslnegotiation: null,
    max: config.max,
    connect_timeout: config.connectTimeoutMs / 1000,
    // A warm session is worth keeping (catalog caches, the compiled reset function): never end
    // one for idleness or age.
    idle_timeout: 0,
    max_lifetime: 0,
    max_pipeline: 100,
    backoff,
    keep_alive: 60,
    // Unnamed statements, as pg sends them, until the port asks for a named one (it does so only
    // where the topology allows: see allowsNamedStatements); run() then switches this on. Until
    // then postgres.js's own statements (BEGIN, SAVEPOINT) are unnamed too, so a transaction
    // pooler (which cannot track named statements) sees nothing to break.
    prepare: false,
    debug: false,
    publications: 'alltables',
    target_session_attrs: null,
    onnotice: () => undefined,
    connection,
    types: { ...TEXT_IN_TYPES, ...postgresJsArrayTypes() },
    // Its type query after startup rejects unhandled when a stalled connect is abandoned;
    // the arrays it would have taught postgres.js are parsed by pg-array.ts instead.
    fetch_types: false,
  };
}

export function createPostgresJsAdapter(module: unknown, config: AdapterConfig): DriverAdapter {
  const open = () => withoutPgEnvironment(() => factoryOf(module)(clientOptions(config)));
  let sql = open();
  const context = { target: config.target };
  const { trace } = config;

  /** Whether any session died under a statement (see end()). */
  let lostSeen = false;

  function failed(error: unknown): unknown {
    const mapped = mapDriverError(error, 'use', context);
    if (mapped instanceof ConnectionLostError) lostSeen = true;
    return mapped;
  }

  const { statementTimeoutMs: limit, binding } = config;
  const answerWithinMs = limit + 500;

  /** statement_timeout is the server's: it cannot fire when the server or network is silent. */
  async function withDeadline<T>(pending: Promise<T>): Promise<T> {
    if (limit <= 0) return pending;
    pending.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        // postgres.js cannot destroy one session: retire the pool, later calls get a new one.
        const dead = sql;
        sql = open();
        dead.end({ timeout: 0 }).catch(() => undefined);
        const where = describeDsnTarget(config.target);
        const text = `no answer from PostgreSQL at ${where} within ${answerWithinMs} ms (statementTimeoutMs + 500 ms); the session was closed`;
        reject(new QueryTimeoutError(redactSecrets(text, [config.target.password])));
      }, answerWithinMs);
    });
    try {
      return await Promise.race([pending, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  async function run(
    on: PgJsQueryable,
    text: string,
    params: Params,
    named = false,
  ): Promise<QueryResult> {
    // Only ever reached with `named` on a pool whose sessions are provably ours.
    if (named) sql.options.prepare = true;
    try {
      const pending = on.unsafe(text, params, { prepare: named });
      return toResult(await withDeadline(pending));
    } catch (error) {
      throw failed(error);
    }
  }

  /**
   * One transaction's bookkeeping. `lost`: its session died. postgres.js would then send ROLLBACK
   * (or ROLLBACK TO) on the dead connection as soon as the callback it runs settles, and writing
   * to that connection's discarded socket throws from a timer, crashing the process. So once the
   * session is known lost, the callbacks handed to postgres.js never settle: the transaction still
   * rejects (postgres.js races it against the connection's close), and nothing more is sent.
   */
  interface TransactionState {
    savepoints: number;
    settled: boolean;
    lost: boolean;
  }

  function settleUnlessLost<T>(state: TransactionState, body: Promise<T>): Promise<T> {
    const never = () => new Promise<never>(() => undefined);
    return body.then(
      (value) => (state.lost ? never() : value),
      (error: unknown) => (state.lost ? never() : Promise.reject(error)),
    );
  }

  async function runIn(
    state: TransactionState,
    tsql: PgJsQueryable,
    text: string,
    params: Params,
    named = false,
  ) {
    // The session may be back in the pool, or dead, once the transaction settled.
    if (state.settled || state.lost)
      throw new ConnectionLostError('the transaction this statement belongs to has ended');
    try {
      return await run(tsql, text, params, named);
    } catch (error) {
      if (error instanceof ConnectionLostError) state.lost = true;
      throw error;
    }
  }

  /**
   * postgres.js names savepoints `s<n>_<name>`, n counting from 0 across the whole transaction;
   * every savepoint goes through here, so this counter mirrors it and can RELEASE by name.
   */
  function transactionOn(tsql: PgJsTransactionSql, state: TransactionState): AdapterTransaction {
    async function release(name: string): Promise<void> {
      trace(`RELEASE SAVEPOINT ${name}`);
      await runIn(state, tsql, `RELEASE SAVEPOINT ${name}`, []);
    }
    return {
      query: (text, params, named) => runIn(state, tsql, text, params, named),
      async savepoint(fn) {
        if (state.settled || state.lost)
          throw new ConnectionLostError('the transaction this savepoint belongs to has ended');
        const name = `s${state.savepoints++}_ue`;
        trace(`SAVEPOINT ${name}`);
        let result;
        try {
          result = await tsql.savepoint('ue', (inner) =>
            settleUnlessLost(
              state,
              fn(transactionOn(inner, state)).catch((error: unknown) => {
                trace(`ROLLBACK TO SAVEPOINT ${name}`);
                throw error;
              }),
            ),
          );
        } catch (error) {
          // Best effort: if RELEASE fails too, the session is gone and the caller learns it next.
          if (!state.settled && !state.lost) await release(name).catch(() => undefined);
          throw error;
        }
        await release(name);
        return result;
      },
    };
  }

  /**
   * Behind a transaction pooler each transaction starts with `SET LOCAL` of the settings. It is
   * sent at once, pipelined ahead of the callback's first statement on the same session (no round
   * trip of its own); its failure, if any, is the one reported.
   */
  function bindTransaction(tsql: PgJsQueryable, state: TransactionState) {
    if (!binding.prelude) return undefined;
    trace(binding.prelude);
    const pending = tsql.unsafe(binding.prelude, [], { prepare: false });
    pending.execute();
    const bound = runIn(state, { unsafe: () => pending }, binding.prelude, []);
    bound.catch(() => undefined);
    return bound;
  }

  async function transaction<T>(fn: (tx: AdapterTransaction) => Promise<T>): Promise<T> {
    const state: TransactionState = { savepoints: 0, settled: false, lost: false };
    let fnError: { error: unknown } | undefined;
    trace('BEGIN');
    try {
      return await sql.begin((tsql) => {
        const bound = bindTransaction(tsql, state);
        const body = fn(transactionOn(tsql, state));
        const checked = bound
          ? body.then(
              async (result) => (await bound, result),
              async (error: unknown) => {
                await bound;
                throw error;
              },
            )
          : body;
        return settleUnlessLost(
          state,
          checked.then(
            (result) => {
              trace('COMMIT');
              return result;
            },
            (error: unknown) => {
              fnError = { error };
              trace('ROLLBACK');
              throw error;
            },
          ),
        );
      });
    } catch (error) {
      if (fnError && fnError.error === error) throw error;
      const mapped = failed(error);
      if (mapped instanceof ConnectionLostError) state.lost = true;
      throw mapped;
    } finally {
      state.settled = true;
    }
  }

  return {
    driver: 'postgres',

    // A lone statement behind a transaction pooler: bound by a transaction of its own.
    query: (text, params, named) =>
      binding.prelude
        ? transaction((tx) => tx.query(text, params, named))
        : run(sql, text, params, named),

    transaction,

    async probeSession(text) {
      let result: PgJsResult | PgJsResult[];
      try {
        result = await withDeadline(sql.unsafe(text, [], { prepare: false }));
      } catch (error) {
        throw failed(error);
      }
      const single = (Array.isArray(result[0]) ? result[0] : result) as PgJsResult;
      const pid = single.state?.pid;
      return { backendKeyPid: typeof pid === 'number' ? pid : undefined, row: single[0] ?? {} };
    },

    async end(graceMs?: number) {
      // postgres.js 3.4 never finishes end() for a connection that died with a statement in
      // flight: it keeps waiting for that statement's reply. After such a loss the graceful end
      // gets a short grace before the sessions are destroyed; otherwise in-flight statements get
      // a generous one.
      // createConnection's failure path passes 0: nothing in flight is worth waiting for.
      await sql.end({ timeout: graceMs !== undefined ? graceMs / 1000 : lostSeen ? 1 : 30 });
    },
  };
}
