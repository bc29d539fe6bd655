export * from './contract';
export * from './errors';
export { MIGRATIONS, TARGET_VERSION } from './migrations';
export type { MigrationInfo } from './migrations';
export { LIMITS, emailKeyOf, compareCodePoints } from './validation';
export { InMemoryUserEngineStore } from './memory/in-memory-store';
export {
  PostgresUserEngineStore,
  createPostgresStore,
  InvalidStoreSchemaError,
  MigrationStateError,
  PostgresStoreClosedError,
  StoreSchemaUnresolvedError,
  UnsupportedServerVersionError,
} from './postgres/postgres-store';
export type { PostgresStoreOptions } from './postgres/postgres-store';
