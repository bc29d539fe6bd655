/**
 * The run ledger: schema `user_engine_live`, created by the first run's bootstrap (it needs only
 * the database's CREATE privilege) and shared by every run and role on the database.
 *
 * - `runs`: one row per live run, with its lease (`lease_expires_at`, on the database clock). A run
 *   is alive while its lease is valid; see ./lease.
 * - `schemas`: one row per schema a run created, inserted BEFORE the schema in the same
 *   transaction, so no run schema ever exists without its record.
 *
 * Identity: the schema and both tables carry `LEDGER_MARKER` as their comment, and the tables'
 * columns must match `LEDGER_LAYOUT` exactly (./ledger-identity checks both before any write).
 *
 * Sharing between roles: row-level security. Everyone may read every row; a role may insert,
 * update and delete only rows whose `owner` is itself (`owner` defaults to `current_user`). The
 * creating role grants USAGE on the schema and the table privileges to PUBLIC, so a second role
 * needs nothing beyond CONNECT and CREATE on the database.
 */
import { RUN_SCHEMA_PATTERN, RUN_SCHEMA_PREFIX, qualifiedName, quoteIdent } from './isolation';

export const LEDGER_SCHEMA = 'user_engine_live';
export const RUNS_TABLE = 'runs' as const;
export const SCHEMAS_TABLE = 'schemas' as const;
/** The comment on the ledger schema and its tables; change the layout, bump the number. */
export const LEDGER_MARKER = '@user-engine/jest-live run ledger, layout 1';

export const RUNS = qualifiedName(LEDGER_SCHEMA, RUNS_TABLE);
export const SCHEMAS = qualifiedName(LEDGER_SCHEMA, SCHEMAS_TABLE);

/** Column name and `format_type` of every column, in order: what a ledger of ours looks like. */
export const LEDGER_LAYOUT: Readonly<Record<string, readonly (readonly [string, string])[]>> = {
  [RUNS_TABLE]: [
    ['run_id', 'text'],
    ['owner', 'name'],
    ['host', 'text'],
    ['pid', 'integer'],
    ['started_at', 'timestamp with time zone'],
    ['lease_expires_at', 'timestamp with time zone'],
  ],
  [SCHEMAS_TABLE]: [
    ['schema_name', 'text'],
    ['run_id', 'text'],
    ['worker_id', 'text'],
    ['owner', 'name'],
    ['host', 'text'],
    ['pid', 'integer'],
    ['created_at', 'timestamp with time zone'],
  ],
};

const RUN_ID_CHECK = `CHECK (run_id ~ '^[a-z0-9]{10}$')`;

/** Row-level security: read everything, change only your own role's rows. */
function policies(table: string): string[] {
  const t = qualifiedName(LEDGER_SCHEMA, table);
  return [
    `ALTER TABLE ${t} ENABLE ROW LEVEL SECURITY`,
    `CREATE POLICY read_all ON ${t} FOR SELECT USING (true)`,
    `CREATE POLICY insert_own ON ${t} FOR INSERT WITH CHECK (owner = current_user)`,
    `CREATE POLICY update_own ON ${t} FOR UPDATE USING (owner = current_user) WITH CHECK (owner = current_user)`,
    `CREATE POLICY delete_own ON ${t} FOR DELETE USING (owner = current_user)`,
    `GRANT SELECT, INSERT, UPDATE, DELETE ON ${t} TO PUBLIC`,
    `COMMENT ON TABLE ${t} IS '${LEDGER_MARKER}'`,
  ];
}

/**
 * The statements creating the ledger, in order, for one transaction. The CHECKs tie every schema
 * row to a well-formed run schema of its own run, so a row can never point a DROP elsewhere.
 */
export function ledgerDdl(): string[] {
  const schema = quoteIdent(LEDGER_SCHEMA);
  return [
    `CREATE SCHEMA ${schema}`,
    `COMMENT ON SCHEMA ${schema} IS '${LEDGER_MARKER}'`,
    `GRANT USAGE ON SCHEMA ${schema} TO PUBLIC`,
    `CREATE TABLE ${RUNS} (
  run_id text PRIMARY KEY ${RUN_ID_CHECK},
  owner name NOT NULL DEFAULT current_user,
  host text NOT NULL,
  pid integer NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  lease_expires_at timestamptz NOT NULL
)`,
    ...policies(RUNS_TABLE),
    `CREATE TABLE ${SCHEMAS} (
  schema_name text PRIMARY KEY CHECK (schema_name ~ '${RUN_SCHEMA_PATTERN}'),
  run_id text NOT NULL ${RUN_ID_CHECK},
  worker_id text NOT NULL,
  owner name NOT NULL DEFAULT current_user,
  host text NOT NULL,
  pid integer NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK (schema_name = '${RUN_SCHEMA_PREFIX}' || run_id || '_' || worker_id)
)`,
    `CREATE INDEX ON ${SCHEMAS} (run_id)`,
    ...policies(SCHEMAS_TABLE),
  ];
}

/** One row of `schemas`. */
export interface LedgerRow {
  schemaName: string;
  runId: string;
  workerId: string;
  owner: string;
  host: string;
  pid: number;
  createdAt: Date;
}

export interface LedgerRowRecord {
  schema_name: string;
  run_id: string;
  worker_id: string;
  owner: string;
  host: string;
  pid: number;
  created_at: Date | string;
}

/** The columns of a `runs` row that name a run and where it ran, as read back (snake_case). */
export interface RunRowRecord {
  run_id: string;
  owner: string;
  host: string;
  pid: number;
  started_at: Date | string;
}

export const LEDGER_COLUMNS = 'schema_name, run_id, worker_id, owner, host, pid, created_at';

export function toLedgerRow(r: LedgerRowRecord): LedgerRow {
  return {
    schemaName: r.schema_name,
    runId: r.run_id,
    workerId: r.worker_id,
    owner: r.owner,
    host: r.host,
    pid: Number(r.pid),
    createdAt: toDate(r.created_at),
  };
}

export function toDate(value: Date | string): Date {
  return value instanceof Date ? value : new Date(value);
}
