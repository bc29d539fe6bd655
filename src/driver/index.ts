export * from './port';
export * from './errors';
export {
  createConnection,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_POOL_MAX,
} from './create-connection';
export { loadDriver, nodeDriverLoader } from './load-driver';
export type { DriverLoader, LoadedDriver } from './load-driver';
export { redactDsn, redactSecrets, parseDsn, describeDsnTarget } from './dsn';
export type { DsnTarget } from './dsn';
export { quoteIdentifier } from './session-settings';
