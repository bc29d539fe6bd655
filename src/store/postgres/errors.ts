/**
 * Failures particular to the Postgres store. They are not contract errors (no other store can
 * raise them), so they are not `UserEngineError`s, but each has a stable `code`.
 */

/** The server lacks what the schema needs (gen_random_uuid() is built in from PostgreSQL 13). */
export class UnsupportedServerVersionError extends Error {
  readonly code = 'unsupported_server_version';
  readonly serverVersion: string;
  constructor(serverVersion: string) {
    super(
      `PostgreSQL ${serverVersion} is not supported: the user-engine schema needs PostgreSQL 13 or later (for the built-in gen_random_uuid())`,
    );
    this.name = 'UnsupportedServerVersionError';
    this.serverVersion = serverVersion;
  }
}

/** The schema's recorded migrations disagree with this code's catalogue; migrate() refuses. */
export class MigrationStateError extends Error {
  readonly code = 'migration_state';
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`cannot migrate: ${problems.join('; ')}`);
    this.name = 'MigrationStateError';
    this.problems = problems;
  }
}

/** A call on a store after its close(). */
export class PostgresStoreClosedError extends Error {
  readonly code = 'store_closed';
  constructor() {
    super('PostgresUserEngineStore is closed');
    this.name = 'PostgresStoreClosedError';
  }
}

/** The store's `schema` option (or the connection's) is not a name the store can use. */
export class InvalidStoreSchemaError extends TypeError {
  readonly code = 'invalid_store_schema';
  readonly source: string;
  constructor(source: string, problem: string) {
    super(`PostgresUserEngineStore: the schema from ${source} ${problem}`);
    this.name = 'InvalidStoreSchemaError';
    this.source = source;
  }
}

/**
 * Neither the store's `schema` option nor connection.schema was given, and the session's
 * search_path names no existing schema, so the store has nowhere to look for its tables.
 */
export class StoreSchemaUnresolvedError extends Error {
  readonly code = 'store_schema_unresolved';
  readonly searchPath: string;
  constructor(searchPath: string) {
    super(
      `PostgresUserEngineStore cannot tell which schema holds its tables: no \`schema\` option, no connection.schema, and current_schema() is NULL because no schema on the search_path (${searchPath}) exists; pass \`new PostgresUserEngineStore(connection, { schema: 'app' })\` or create the schema`,
    );
    this.name = 'StoreSchemaUnresolvedError';
    this.searchPath = searchPath;
  }
}
