/**
 * Failures particular to the Postgres store. They are not contract errors (no other store can
 * raise them), so they are not `UserEngineError`s, but each has a stable `code`.
 */
import { CodedError } from '../../coded-error';

/** The server lacks what the schema needs (gen_random_uuid() is built in from PostgreSQL 13). */
export class UnsupportedServerVersionError extends CodedError<'unsupported_server_version'> {
  readonly serverVersion: string;
  constructor(serverVersion: string) {
    super(
      'unsupported_server_version',
      `PostgreSQL ${serverVersion} is not supported: the user-engine schema needs PostgreSQL 13 or later (for the built-in gen_random_uuid())`,
    );
    this.serverVersion = serverVersion;
  }
}

/** The schema's recorded migrations disagree with this code's catalogue; migrate() refuses. */
export class MigrationStateError extends CodedError<'migration_state'> {
  readonly problems: string[];
  constructor(problems: string[]) {
    super('migration_state', `cannot migrate: ${problems.join('; ')}`);
    this.problems = problems;
  }
}

/** A call on a store after its close(). */
export class PostgresStoreClosedError extends CodedError<'store_closed'> {
  constructor() {
    super('store_closed', 'PostgresUserEngineStore is closed');
  }
}

/** The store's `schema` option (or the connection's) is not a name the store can use. */
export class InvalidStoreSchemaError extends CodedError<'invalid_store_schema'> {
  readonly setting: string;
  constructor(setting: string, problem: string) {
    super('invalid_store_schema', `PostgresUserEngineStore: the schema from ${setting} ${problem}`);
    this.setting = setting;
  }
}

/**
 * Neither the store's `schema` option nor connection.schema was given, and the session's
 * search_path names no existing schema, so the store has nowhere to look for its tables.
 */
export class StoreSchemaUnresolvedError extends CodedError<'store_schema_unresolved'> {
  readonly searchPath: string;
  constructor(searchPath: string) {
    super(
      'store_schema_unresolved',
      `PostgresUserEngineStore cannot tell which schema holds its tables: no \`schema\` option, no connection.schema, and current_schema() is NULL because no schema on the search_path (${searchPath}) exists; pass \`new PostgresUserEngineStore(connection, { schema: 'app' })\` or create the schema`,
    );
    this.searchPath = searchPath;
  }
}
