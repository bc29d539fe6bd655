/**
 * `@user-engine/jest-live/driver`: the driver port, its errors, `createConnection` and DSN helpers.
 * The driver loader (how `pg`/`postgres` are found) is internal: tests that simulate a missing
 * driver import `./load-driver` and `./create-connection` directly.
 */
import { createConnection as createConnectionWithLoader } from './create-connection';
import type { BoundConnection, ConnectionOptions } from './port';

export * from './port';
export * from './errors';
export { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_POOL_MAX } from './create-connection';
export { redactDsn, redactSecrets } from './dsn';
export { parseDsn, describeDsnTarget, SSL_MODES } from './dsn-target';
export type { DsnTarget, SslMode } from './dsn-target';
export { quoteIdentifier, quoteLiteral } from './session-settings';
export { probePoolingMode } from './pooling-probe';
export type { PoolingMode, PoolingProbe } from './pooling-probe';

/**
 * Opens a pool on `dsn` with the first installed of pg, postgres (or `options.driver`). Rejects
 * with `DriverMissingError`, `ConnectionFailedError` or a `TypeError` naming the bad option.
 */
export function createConnection(
  dsn: string,
  options?: ConnectionOptions,
): Promise<BoundConnection> {
  return createConnectionWithLoader(dsn, options);
}
