/**
 * The one entry point that opens a pool: checks the options, loads the driver, binds every session
 * to the requested settings and proves the target answers before handing the pool out.
 */
import { randomBytes } from 'node:crypto';
import { PortConnection, traceOf, type AdapterConfig, type DriverAdapter } from './connection-core';
import { redactSecrets } from './dsn';
import { describeDsnTarget, parseDsn, type DsnTarget } from './dsn-target';
import { ConnectionFailedError } from './errors';
import { loadDriver, nodeDriverLoader, type DriverLoader } from './load-driver';
import { mapDriverError } from './map-error';
import { createPgAdapter } from './pg-adapter';
import type { BoundConnection, ConnectionOptions, DriverName } from './port';
import { createPostgresJsAdapter } from './postgres-js-adapter';
import {
  parseStartupOptions,
  quoteIdentifier,
  startupOptions,
  validateSessionSettings,
  type SessionSettings,
} from './session-settings';
import { resolveTls } from './tls';
import { decideTopology, planBinding, TOPOLOGY_PROBE_SQL, type BindingPlan } from './topology';

export const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
export const DEFAULT_POOL_MAX = 4;

/** PgBouncer's answer to an `options` startup parameter not in `ignore_startup_parameters`. */
const OPTIONS_REFUSED = /unsupported startup parameter:? "?options/i;

const ADAPTERS: Record<DriverName, (module: unknown, config: AdapterConfig) => DriverAdapter> = {
  pg: createPgAdapter,
  postgres: createPostgresJsAdapter,
};

function positiveInteger(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)
    throw new TypeError(`options.${name} must be a positive integer, got ${String(value)}`);
  return value;
}

function sessionSettings(options: ConnectionOptions, target: DsnTarget): SessionSettings {
  const { schema, statementTimeoutMs = 0, applicationName } = options;
  if (
    schema !== undefined &&
    (typeof schema !== 'string' || schema === '' || schema.includes('\0'))
  )
    throw new TypeError('options.schema must be a non-empty string without NUL characters');
  if (!Number.isSafeInteger(statementTimeoutMs) || statementTimeoutMs < 0)
    throw new TypeError(
      `options.statementTimeoutMs must be a non-negative integer, got ${String(statementTimeoutMs)}`,
    );
  if (applicationName !== undefined && typeof applicationName !== 'string')
    throw new TypeError('options.applicationName must be a string');
  return {
    searchPath: schema === undefined ? undefined : quoteIdentifier(schema),
    statementTimeoutMs,
    applicationName,
    // The DSN's settings first: the options' own win over a name set in both.
    settings: {
      ...parseStartupOptions(target.options),
      ...validateSessionSettings(options.sessionSettings),
    },
  };
}

/**
 * The first statement opens a session (any failure here is a failed connect) and measures the
 * topology, which decides how the settings are bound from then on.
 */
async function verify(
  connection: PortConnection,
  adapterConfig: AdapterConfig,
  plan: BindingPlan,
  connectTimeoutMs: number,
  startupOptionsSent: string | undefined,
): Promise<void> {
  const { target } = adapterConfig;
  // Bounds what the drivers' own connect timeouts do not: a server silent after the startup,
  // postgres.js reconnecting forever to a server that closes every new connection.
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const where = describeDsnTarget(target);
      const text = `could not connect to PostgreSQL at ${where}: no ready session within connectTimeoutMs (${connectTimeoutMs} ms)`;
      reject(new ConnectionFailedError(redactSecrets(text, [target.password])));
    }, connectTimeoutMs);
  });
  try {
    const probe = await Promise.race([connection.probeSession(TOPOLOGY_PROBE_SQL), deadline]);
    const topology = decideTopology(plan, probe, startupOptionsSent !== undefined);
    adapterConfig.binding.prelude =
      topology.binding === 'per-transaction' ? plan.prelude : undefined;
    connection.setTopology(topology);
  } catch (error) {
    throw mapDriverError(error, 'connect', { target });
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Opens a pool on `dsn` with the first installed of pg, postgres (or `options.driver`). Rejects
 * with `DriverMissingError`, `ConnectionFailedError` or a `TypeError` naming the bad option.
 */
export async function createConnection(
  dsn: string,
  options: ConnectionOptions = {},
  loader: DriverLoader = nodeDriverLoader,
): Promise<BoundConnection> {
  if (typeof options !== 'object' || options === null)
    throw new TypeError('options must be an object');
  if (options.onQuery !== undefined && typeof options.onQuery !== 'function')
    throw new TypeError('options.onQuery must be a function');
  const target = parseDsn(dsn);
  const settings = sessionSettings(options, target);
  const max = positiveInteger('max', options.max, DEFAULT_POOL_MAX);
  const connectTimeoutMs = positiveInteger(
    'connectTimeoutMs',
    options.connectTimeoutMs,
    target.connectTimeoutSeconds !== undefined
      ? target.connectTimeoutSeconds * 1000
      : DEFAULT_CONNECT_TIMEOUT_MS,
  );
  const driver = loadDriver(options.driver, loader);
  const trace = traceOf(options.onQuery);
  const plan = planBinding(settings, randomBytes(6).toString('hex'));
  const startup = plan.startupSettings && startupOptions(plan.startupSettings);
  const tls = await resolveTls(target, connectTimeoutMs);

  async function open(startupOptionsSent: string | undefined): Promise<PortConnection> {
    const adapterConfig: AdapterConfig = {
      target,
      tls,
      startupOptions: startupOptionsSent,
      applicationName: settings.applicationName ?? target.applicationName,
      statementTimeoutMs: settings.statementTimeoutMs,
      max,
      connectTimeoutMs,
      trace,
      binding: { prelude: undefined },
    };
    let adapter: DriverAdapter;
    try {
      adapter = ADAPTERS[driver.name](driver.module, adapterConfig);
    } catch (error) {
      // A driver rejecting its configuration.
      throw new ConnectionFailedError(
        redactSecrets(
          `could not configure ${driver.name} for ${describeDsnTarget(target)}: ${String(error)}`,
          [target.password],
        ),
      );
    }
    const connection = new PortConnection(adapter, options.schema, settings.settings, trace);
    try {
      await verify(connection, adapterConfig, plan, connectTimeoutMs, startupOptionsSent);
    } catch (error) {
      await (connection.close as (graceMs?: number) => Promise<void>)(0).catch(() => undefined);
      throw error;
    }
    return connection;
  }

  try {
    return await open(startup);
  } catch (error) {
    // PgBouncer as shipped refuses the `options` parameter outright: bind per transaction instead.
    if (startup === undefined || !OPTIONS_REFUSED.test(String((error as Error)?.message)))
      throw error;
    return open(undefined);
  }
}
