export * from './port';
export * from './errors';
export {
  createConnection,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_POOL_MAX,
} from './create-connection';
export { loadDriver, nodeDriverLoader } from './load-driver';
export type { DriverLoader, LoadedDriver } from './load-driver';
export { redactDsn, redactSecrets } from './dsn';
export { parseDsn, describeDsnTarget, SSL_MODES } from './dsn-target';
export type { DsnTarget, SslMode } from './dsn-target';
export { quoteIdentifier, quoteLiteral } from './session-settings';
export { probePoolingMode } from './pooling-probe';
export type { PoolingMode, PoolingProbe } from './pooling-probe';
