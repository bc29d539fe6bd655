/**
 * Least-privilege login roles on the admin DSN's server, as a provider's CI would have them:
 * `CONNECT` and (unless told otherwise) `CREATE` on one database, nothing else: no superuser, no
 * `public` schema privileges, no `pg_*` roles. Names are unique (`ue_topo_<label>_<random>`);
 * `drop()` removes whatever the role came to own and the role itself.
 */
import { randomBytes } from 'crypto';
import { ADMIN_DSN, withAdmin } from './admin-db';
import { SENTINEL_PASSWORD } from './sentinel';

export interface RoleOptions {
  /** The database the role is granted `CONNECT` (and `CREATE`) on. */
  database: string;
  /** Short label that goes into the name. */
  label: string;
  /** Grant `CREATE ON DATABASE` too. Default true. */
  create?: boolean;
  /** `ALTER ROLE … SET name = value` for each entry, e.g. `{ idle_session_timeout: '1s' }`. */
  settings?: Record<string, string>;
}

export interface TestRole {
  readonly name: string;
  /** The sentinel password (trust auth ignores it; PgBouncer md5 checks it). */
  readonly password: string;
  /** The admin DSN with this role's name and password, to `database` (default: the role's). */
  dsn(database?: string): string;
  /** Ends its sessions, drops what it owns in its database, drops the role. Idempotent. */
  drop(): Promise<void>;
}

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;
const literal = (value: string) => `'${value.replace(/'/g, "''")}'`;

/**
 * Takes away what PUBLIC gets by default in `database` (CONNECT and TEMP on it, USAGE on schema
 * public), so that a role has exactly what it was granted.
 */
export async function lockDownDatabase(database: string): Promise<void> {
  await withAdmin(async (admin) => {
    await admin.query(`REVOKE ALL ON DATABASE ${ident(database)} FROM PUBLIC`);
  });
  await withAdmin(async (admin) => {
    await admin.query('REVOKE ALL ON SCHEMA public FROM PUBLIC');
  }, database);
}

export async function createRole(options: RoleOptions): Promise<TestRole> {
  if (!ADMIN_DSN) throw new Error('USER_ENGINE_LIVE_DSN is not set');
  if (!/^[a-z0-9_]+$/.test(options.label)) throw new Error(`bad role label ${options.label}`);
  const name = `ue_topo_${options.label}_${randomBytes(3).toString('hex')}`;
  const privileges = options.create === false ? 'CONNECT' : 'CONNECT, CREATE';
  await withAdmin(async (admin) => {
    await admin.query(
      `CREATE ROLE ${ident(name)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT
         PASSWORD ${literal(SENTINEL_PASSWORD)}`,
    );
    await admin.query(
      `GRANT ${privileges} ON DATABASE ${ident(options.database)} TO ${ident(name)}`,
    );
    for (const [setting, value] of Object.entries(options.settings ?? {})) {
      await admin.query(`ALTER ROLE ${ident(name)} SET ${ident(setting)} = ${literal(value)}`);
    }
  });
  let dropped = false;
  return {
    name,
    password: SENTINEL_PASSWORD,
    dsn: (database = options.database) => {
      const url = new URL(ADMIN_DSN!);
      url.username = name;
      url.password = SENTINEL_PASSWORD;
      url.pathname = `/${encodeURIComponent(database)}`;
      return url.toString();
    },
    drop: async () => {
      if (dropped) return;
      dropped = true;
      await withAdmin(async (admin) => {
        await admin.query(
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1',
          [name],
        );
        const [{ present }] = (
          await admin.query<{ present: boolean }>(
            'SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1) AS present',
            [options.database],
          )
        ).rows;
        if (!present) return;
        await withAdmin(
          (owner) => owner.query(`DROP OWNED BY ${ident(name)} CASCADE`),
          options.database,
        );
      });
      await withAdmin((admin) => admin.query(`DROP ROLE IF EXISTS ${ident(name)}`));
    },
  };
}
