/**
 * node-postgres (`pg`) behind the port. The module object is handed in by the loader, so nothing
 * here loads pg; the `import type` lines vanish from the compiled JavaScript.
 */
import { createHash } from 'node:crypto';
import type {
  Client,
  ClientConfig,
  Pool,
  PoolClient,
  PoolConfig,
  QueryResult as PgQueryResult,
} from 'pg';
import type { AdapterConfig, AdapterTransaction, DriverAdapter } from './connection-core';
import { describeDsnTarget, type DsnTarget } from './dsn-target';
import { redactSecrets } from './dsn';
import { ConnectionLostError, DatabaseError, QueryTimeoutError } from './errors';
import { mapDriverError, type ErrorPhase } from './map-error';
import type { QueryResult } from './port';
import { hidePgEnvironment } from './without-pg-env';

export type { AdapterConfig } from './connection-core';

interface PgModule {
  Pool: new (config: PoolConfig) => Pool;
  Client: new (config: ClientConfig) => Client;
}

type Params = readonly (string | null)[];

/**
 * The password as pg asks for it at authentication. A function, so that pg never falls back to
 * `PGPASSWORD` or `~/.pgpass` when the DSN has none: the server asking for one is then a clear
 * failure naming the DSN as the only source.
 */
function passwordSource(target: DsnTarget): () => string {
  return () => {
    if (target.password !== undefined) return target.password;
    throw new Error(
      `the server asked for a password and the DSN has none (PGPASSWORD and ~/.pgpass are never read): put it in the DSN as postgres://${target.user}:PASSWORD@…`,
    );
  };
}

/**
 * pg's Client with its configuration built while no `PG*` variable is visible (see
 * without-pg-env.ts): every value below is then the only one.
 */
function sealedClient(pg: PgModule): new (config: ClientConfig) => Client {
  return class SealedClient extends pg.Client {
    constructor(config: ClientConfig) {
      // A super call cannot sit in a callback: hide, construct, restore.
      const restore = hidePgEnvironment();
      try {
        super(config);
      } finally {
        restore();
      }
    }
  };
}

function poolConfig(pg: PgModule, config: AdapterConfig): PoolConfig {
  const { target } = config;
  return {
    Client: sealedClient(pg),
    host: target.host,
    port: target.port,
    user: target.user,
    database: target.database,
    password: passwordSource(target),
    ssl: config.tls,
    // pg's own default; explicit so that neither PGCLIENT_ENCODING nor a later default applies.
    client_encoding: 'UTF8',
    ...(config.startupOptions !== undefined ? { options: config.startupOptions } : {}),
    ...(config.applicationName !== undefined ? { application_name: config.applicationName } : {}),
    max: config.max,
    connectionTimeoutMillis: config.connectTimeoutMs,
    // A warm session is worth keeping (catalog caches, the compiled reset function): the pool
    // never ends one for idleness, as pg's default 10 s idle timeout would.
    idleTimeoutMillis: 0,
  } as unknown as PoolConfig;
}

/** pg answers a multi-statement text (simple protocol) with one result per statement. */
function lastResult(result: PgQueryResult | PgQueryResult[]): QueryResult {
  const last = Array.isArray(result) ? result[result.length - 1] : result;
  const rows = (last?.rows ?? []) as Record<string, unknown>[];
  return { rows, rowCount: last?.rowCount ?? rows.length };
}

/** pg has no public way to drop one session's socket; `connection.stream` is stable since 2012. */
function destroySocket(client: PoolClient): void {
  (
    client as unknown as { connection?: { stream?: { destroy(): void } } }
  ).connection?.stream?.destroy();
}

function ignore(): void {
  // An error on an idle or checked-out client is also reported to the statement that meets it.
}

export function createPgAdapter(pgModule: unknown, config: AdapterConfig): DriverAdapter {
  const pool = new (pgModule as PgModule).Pool(poolConfig(pgModule as PgModule, config));
  // Without a listener, a server that drops an idle session would crash the process.
  pool.on('error', ignore);
  const context = { target: config.target };
  const fail = (error: unknown, phase: ErrorPhase) => mapDriverError(error, phase, context);

  const checkedOut = new Set<PoolClient>();

  async function acquire(): Promise<PoolClient> {
    let client: PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw fail(error, 'connect');
    }
    client.on('error', ignore);
    checkedOut.add(client);
    return client;
  }

  /** Gives the client back, or destroys it when its session can no longer be trusted. */
  function release(client: PoolClient, broken: boolean): void {
    checkedOut.delete(client);
    client.removeListener('error', ignore);
    client.release(broken ? true : undefined);
  }

  const { statementTimeoutMs, binding } = config;
  const answerWithinMs = statementTimeoutMs + 500;

  /** One name per statement text, the same in every session of the pool. */
  const statementNames = new Map<string, string>();
  function statementName(sql: string): string {
    let name = statementNames.get(sql);
    if (name === undefined) {
      name = `ue_${createHash('sha1').update(sql).digest('hex').slice(0, 24)}`;
      statementNames.set(sql, name);
    }
    return name;
  }

  async function send(client: PoolClient, sql: string, params: Params, named = false) {
    let timedOut = false;
    // statement_timeout is the server's: it cannot fire when the server or network is silent.
    const timer =
      statementTimeoutMs > 0
        ? setTimeout(() => {
            timedOut = true;
            destroySocket(client);
          }, answerWithinMs)
        : undefined;
    try {
      return named
        ? await client.query({ name: statementName(sql), text: sql, values: [...params] })
        : await client.query(sql, params as (string | null)[]);
    } catch (error) {
      if (timedOut) {
        const where = describeDsnTarget(config.target);
        const text = `no answer from PostgreSQL at ${where} within ${answerWithinMs} ms (statementTimeoutMs + 500 ms); the session was closed`;
        throw new QueryTimeoutError(redactSecrets(text, [config.target.password]));
      }
      throw fail(error, 'use');
    } finally {
      clearTimeout(timer);
    }
  }

  async function run(
    client: PoolClient,
    sql: string,
    params: Params,
    named = false,
  ): Promise<QueryResult> {
    return lastResult(await send(client, sql, params, named));
  }

  /** Returns the command tag: COMMIT of an aborted transaction answers ROLLBACK. */
  async function control(client: PoolClient, sql: string): Promise<string> {
    config.trace(sql);
    return (await send(client, sql, [])).command;
  }

  /**
   * One level of a transaction. The first statement error of the level is kept: if the caller
   * swallowed it and carried on, COMMIT would silently roll back, and this error is reported
   * instead (as postgres.js does).
   */
  function transactionOn(client: PoolClient, counter = { savepoints: 0 }) {
    const level = { firstError: undefined as unknown };
    const tx: AdapterTransaction = {
      async query(sql, params, named) {
        try {
          return await run(client, sql, params, named);
        } catch (error) {
          level.firstError ??= error;
          throw error;
        }
      },
      async savepoint(fn) {
        const name = `ue_sp_${++counter.savepoints}`;
        await control(client, `SAVEPOINT ${name}`);
        let result;
        try {
          result = await fn(transactionOn(client, counter).tx);
        } catch (error) {
          await control(client, `ROLLBACK TO SAVEPOINT ${name}`);
          await control(client, `RELEASE SAVEPOINT ${name}`);
          throw error;
        }
        await control(client, `RELEASE SAVEPOINT ${name}`);
        return result;
      },
    };
    return { tx, level };
  }

  async function transaction<T>(fn: (tx: AdapterTransaction) => Promise<T>): Promise<T> {
    const client = await acquire();
    let broken = false;
    try {
      // Behind a transaction pooler the settings ride on BEGIN: one round trip, as before.
      await control(client, binding.prelude ? `BEGIN; ${binding.prelude}` : 'BEGIN');
      const { tx, level } = transactionOn(client);
      let result;
      try {
        result = await fn(tx);
      } catch (error) {
        // fn's error is the one to report; a failed ROLLBACK only means the session is gone.
        broken = !(await control(client, 'ROLLBACK').then(
          () => true,
          () => false,
        ));
        throw error;
      }
      if ((await control(client, 'COMMIT')) === 'ROLLBACK')
        throw (
          level.firstError ??
          new DatabaseError('25P02', 'COMMIT rolled back: an earlier statement failed')
        );
      return result;
    } catch (error) {
      broken ||= error instanceof ConnectionLostError || error instanceof QueryTimeoutError;
      throw error;
    } finally {
      release(client, broken);
    }
  }

  return {
    driver: 'pg',

    async probeSession(sql) {
      const client = await acquire();
      let broken = false;
      try {
        const { rows } = await run(client, sql, []);
        const pid = (client as unknown as { processID?: unknown }).processID;
        return {
          backendKeyPid: typeof pid === 'number' ? pid : undefined,
          row: rows[0] ?? {},
        };
      } catch (error) {
        broken = error instanceof ConnectionLostError || error instanceof QueryTimeoutError;
        throw error;
      } finally {
        release(client, broken);
      }
    },

    async query(sql, params, named) {
      // A lone statement behind a transaction pooler: bound by a transaction of its own.
      if (binding.prelude) return transaction((tx) => tx.query(sql, params, named));
      const client = await acquire();
      let broken = false;
      try {
        return await run(client, sql, params, named);
      } catch (error) {
        broken = error instanceof ConnectionLostError || error instanceof QueryTimeoutError;
        throw error;
      } finally {
        release(client, broken);
      }
    },

    transaction,

    async end(graceMs = 500) {
      const ending = pool.end();
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), graceMs);
      });
      const ended = await Promise.race([ending.then(() => true), grace]);
      clearTimeout(timer);
      if (ended) return;
      // pool.end() waits for checked-out clients; one stuck on a silent server never returns.
      for (const client of checkedOut) destroySocket(client);
      await ending;
    },
  };
}
