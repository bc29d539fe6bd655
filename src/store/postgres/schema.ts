/**
 * The Postgres schema as versioned migrations. Names are unqualified: the session's search_path
 * decides the schema, so one catalogue serves every schema a pool is bound to. Applied SQL must
 * never change (its checksum is recorded); a change is a new migration.
 */
import { createHash } from 'node:crypto';
import { MIGRATIONS, type MigrationInfo } from '../migrations';

export interface PostgresMigration extends MigrationInfo {
  /** Run one by one inside the migration's transaction. */
  statements: readonly string[];
  /** sha256 (hex) of the statements joined by `;\n`. */
  checksum: string;
}

export const LEDGER_TABLE = 'user_engine_schema_migrations';

export const CREATE_LEDGER = `CREATE TABLE IF NOT EXISTS user_engine_schema_migrations (
  version integer PRIMARY KEY,
  name text NOT NULL,
  checksum text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

/**
 * One lock per schema, held until the migration's transaction ends: two processes migrating the
 * same schema take turns, different schemas do not wait for each other.
 */
export const MIGRATION_LOCK = `SELECT pg_advisory_xact_lock(hashtext('user_engine:' || current_schema()))`;

const SQL: Record<string, readonly string[]> = {
  '0001_create_users': [
    // email_key is compared and ordered in COLLATE "C" (code points) whatever the database locale.
    `CREATE TABLE user_engine_users (
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
  '0002_create_identities': [
    `CREATE TABLE user_engine_identities (
  provider text COLLATE "C" NOT NULL,
  subject text COLLATE "C" NOT NULL,
  user_id uuid NOT NULL CONSTRAINT user_engine_identities_user_id_fkey
    REFERENCES user_engine_users (id) ON DELETE CASCADE,
  linked_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT user_engine_identities_provider_subject_key UNIQUE (provider, subject)
)`,
    `CREATE INDEX user_engine_identities_user_id_idx ON user_engine_identities (user_id)`,
  ],
  '0003_create_outbox': [
    `CREATE TABLE user_engine_outbox (
  sequence bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  type text NOT NULL,
  aggregate_id uuid NOT NULL,
  payload jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
)`,
  ],
};

export function checksumOf(statements: readonly string[]): string {
  return createHash('sha256').update(statements.join(';\n'), 'utf8').digest('hex');
}

/** The shared catalogue (ids, versions, order) with this store's SQL for each entry. */
export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = Object.freeze(
  MIGRATIONS.map((info) => {
    const statements = SQL[info.id];
    if (!statements) throw new Error(`no SQL for migration ${info.id}`);
    return { ...info, statements, checksum: checksumOf(statements) };
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
