/**
 * Which schema the Postgres store's tables live in, decided once per store and never left to the
 * session's search_path: a transaction-mode pooler (PgBouncer with `ignore_startup_parameters =
 * options`) drops the search_path a pool asked for, and unqualified names would then resolve to
 * the provider's own `public.user_engine_*` tables. Order: the store's `schema` option, else the
 * connection's `schema`, else `current_schema()` asked once at first use.
 */
import { qualifiedName } from '../../driver/session-settings';
import type { Queryable } from '../../driver/port';
import { InvalidStoreSchemaError, StoreSchemaUnresolvedError } from './errors';

/** Where the resolved schema came from, for messages that name the setting to change. */
export type StoreSchemaSource = 'store option `schema`' | 'connection.schema' | 'current_schema()';

export interface ResolvedStoreSchema {
  readonly name: string;
  readonly source: StoreSchemaSource;
}

/** NAMEDATALEN - 1: a longer name is silently truncated by the server, so it would not match. */
const MAX_IDENTIFIER_BYTES = 63;

/** A schema name the store can quote and compare exactly, or InvalidStoreSchemaError. */
export function checkSchemaName(name: unknown, source: StoreSchemaSource): string {
  if (typeof name !== 'string' || name.length === 0)
    throw new InvalidStoreSchemaError(source, 'must be a non-empty string');
  if (name.includes('\u0000'))
    throw new InvalidStoreSchemaError(source, 'must not contain a NUL character');
  if (Buffer.byteLength(name, 'utf8') > MAX_IDENTIFIER_BYTES)
    throw new InvalidStoreSchemaError(
      source,
      `is ${Buffer.byteLength(name, 'utf8')} bytes long; PostgreSQL truncates names to ${MAX_IDENTIFIER_BYTES} bytes`,
    );
  return name;
}

/** `"schema"."table"`, both parts quoted: the only way the store names a table. */
export { qualifiedName };

const CURRENT_SCHEMA = `SELECT current_schema() AS schema, current_setting('search_path') AS search_path`;

/**
 * The explicit choices are checked at once (a bad name fails at construction); the
 * current_schema() fallback is asked on first use and remembered. A failed lookup is not
 * remembered, so creating the missing schema and calling again works.
 */
export class StoreSchemaResolver {
  readonly #fixed: ResolvedStoreSchema | undefined;
  readonly #connection: Queryable;
  #pending: Promise<ResolvedStoreSchema> | undefined;

  constructor(connection: Queryable & { readonly schema?: string }, option: string | undefined) {
    this.#connection = connection;
    if (option !== undefined)
      this.#fixed = {
        name: checkSchemaName(option, 'store option `schema`'),
        source: 'store option `schema`',
      };
    else if (connection.schema !== undefined)
      this.#fixed = {
        name: checkSchemaName(connection.schema, 'connection.schema'),
        source: 'connection.schema',
      };
  }

  resolve(): Promise<ResolvedStoreSchema> {
    if (this.#fixed) return Promise.resolve(this.#fixed);
    this.#pending ??= this.#askServer().catch((error: unknown) => {
      this.#pending = undefined;
      throw error;
    });
    return this.#pending;
  }

  async #askServer(): Promise<ResolvedStoreSchema> {
    const { rows } = await this.#connection.query<{ schema: string | null; search_path: string }>(
      CURRENT_SCHEMA,
    );
    const row = rows[0];
    if (row?.schema == null) throw new StoreSchemaUnresolvedError(row?.search_path ?? '');
    return { name: checkSchemaName(row.schema, 'current_schema()'), source: 'current_schema()' };
  }
}
