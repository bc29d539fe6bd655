/**
 * The Postgres schema as versioned migrations. Each migration is a template over the names of the
 * tables it touches: executed, every table is schema-qualified and quoted (the store never relies
 * on search_path); checksummed, the template is rendered with bare names, which is the text
 * earlier releases ran and recorded, so existing ledgers keep matching whatever the schema.
 * Applied SQL must never change (its checksum is recorded); a change is a new migration.
 */
import { createHash } from 'node:crypto';
import { MIGRATIONS, type MigrationInfo } from '../migrations';
import { qualifiedName as qualifiedIn } from './store-schema';

/** How a template names a table: bare for the checksum, `"schema"."table"` when executed. */
type TableNamer = (table: string) => string;

export interface PostgresMigration extends MigrationInfo {
  /** The template rendered with bare table names: what the checksum covers. */
  statements: readonly string[];
  /** sha256 (hex) of the statements joined by `;\n`. */
  checksum: string;
  /** The statements to run, one by one inside the migration's transaction, in `schema`. */
  statementsIn(schema: string): readonly string[];
}

export const LEDGER_TABLE = 'user_engine_schema_migrations';

/**
 * One lock per schema (`$1`, the schema's name), held until the migration's transaction ends: two
 * processes migrating the same schema take turns, different schemas do not wait for each other.
 * A transaction-level lock, so it holds through a transaction-mode pooler. The key is the one
 * earlier releases derived from current_schema(), so old and new code migrating together agree.
 */
export const MIGRATION_LOCK_CALL = `pg_advisory_xact_lock(hashtext('user_engine:' || $1::text))`;
export const MIGRATION_LOCK = `SELECT ${MIGRATION_LOCK_CALL}`;

const SQL: Record<string, (qualifiedName: TableNamer) => readonly string[]> = {
  '0001_create_users': (qualifiedName) => [
    // email_key is compared and ordered in COLLATE "C" (code points) whatever the database locale.
    `CREATE TABLE ${qualifiedName('user_engine_users')} (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email text NOT NULL,
  email_key text COLLATE "C" NOT NULL CONSTRAINT user_engine_users_email_key_key UNIQUE,
  display_name text NOT NULL,
  status text NOT NULL CONSTRAINT user_engine_users_status_check
    CHECK (status IN ('active', 'suspended')),
  revision integer NOT NULL DEFAULT 1 CONSTRAINT user_engine_users_revision_check
    CHECK (revision >= 1),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
)`,
  ],
  '0002_create_identities': (qualifiedName) => [
    `CREATE TABLE ${qualifiedName('user_engine_identities')} (
  provider text COLLATE "C" NOT NULL,
  subject text COLLATE "C" NOT NULL,
  user_id uuid NOT NULL CONSTRAINT user_engine_identities_user_id_fkey
    REFERENCES ${qualifiedName('user_engine_users')} (id) ON DELETE CASCADE,
  linked_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT user_engine_identities_provider_subject_key UNIQUE (provider, subject)
)`,
    `CREATE INDEX user_engine_identities_user_id_idx ON ${qualifiedName('user_engine_identities')} (user_id)`,
  ],
  '0003_create_outbox': (qualifiedName) => [
    `CREATE TABLE ${qualifiedName('user_engine_outbox')} (
  sequence bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  type text NOT NULL,
  aggregate_id uuid NOT NULL,
  payload jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
)`,
  ],
};

/** Bare table names: the text the checksum covers (never executed). */
const BARE: TableNamer = (table) => table;

export function checksumOf(statements: readonly string[]): string {
  return createHash('sha256').update(statements.join(';\n'), 'utf8').digest('hex');
}

/** The shared catalogue (ids, versions, order) with this store's SQL for each entry. */
export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = Object.freeze(
  MIGRATIONS.map((info) => {
    const template = SQL[info.id];
    if (!template) throw new Error(`no SQL for migration ${info.id}`);
    const statements = template(BARE);
    return {
      ...info,
      statements,
      checksum: checksumOf(statements),
      statementsIn: (schema: string) => template((table) => qualifiedIn(schema, table)),
    };
  }),
);

/** Which table each migration creates: readiness reports an applied migration whose table is gone. */
export const TABLE_OF_MIGRATION: Readonly<Record<number, string>> = Object.freeze({
  1: 'user_engine_users',
  2: 'user_engine_identities',
  3: 'user_engine_outbox',
});

/** PostgreSQL 13 brought gen_random_uuid() into core. */
export const MIN_SERVER_VERSION_NUM = 130000;
