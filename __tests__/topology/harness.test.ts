/**
 * The topology harness itself: PgBouncer in both pool modes forwards queries (and transaction
 * mode really drops `options` when told to ignore it), the second server speaks TLS with the
 * generated certificates, roles get exactly the privileges asked for, canary fingerprints see
 * any change, and every process and temp dir is gone after stop().
 */
import * as fs from 'fs';
import { Client } from 'pg';
import { dropDatabase, recreateDatabase, withAdmin } from '../support/admin-db';
import { fingerprint, plantCanaries, type Query } from '../support/canaries';
import { startPgBouncer } from '../support/pgbouncer';
import { createRole, lockDownDatabase } from '../support/roles';
import { expectNoSentinel, SENTINEL_PASSWORD } from '../support/sentinel';
import { startTlsServer } from '../support/tls-server';
import { describeTopology } from './gate';

jest.setTimeout(60_000);

const DB = 'ue_topo_harness';

async function withClient<T>(
  config: ConstructorParameters<typeof Client>[0],
  fn: (c: Client) => Promise<T>,
) {
  const client = new Client(config);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describeTopology('topology harness', () => {
  beforeAll(() => recreateDatabase(DB));
  afterAll(() => dropDatabase(DB));

  test.each(['session', 'transaction'] as const)(
    'PgBouncer in %s mode answers SELECT 1, then stops by pid and leaves no temp dir',
    async (mode) => {
      const bouncer = await startPgBouncer({
        mode,
        ignoreStartupParameters: 'extra_float_digits,options',
      });
      try {
        const rows = await withClient({ connectionString: bouncer.dsnFor(DB) }, async (c) => {
          return (await c.query('SELECT 1 AS one, current_database() AS db')).rows;
        });
        expect(rows).toEqual([{ one: 1, db: DB }]);
      } finally {
        await bouncer.stop();
      }
      expect(alive(bouncer.pid)).toBe(false);
      expect(
        fs.readdirSync('/tmp').filter((f) => f.startsWith(`ue_topo_pgbouncer-${mode}`)),
      ).toEqual([]);
      await bouncer.stop(); // idempotent
    },
  );

  test('transaction mode with options ignored drops the search_path a client asks for', async () => {
    const bouncer = await startPgBouncer({
      mode: 'transaction',
      ignoreStartupParameters: 'extra_float_digits,options',
    });
    try {
      const [row] = await withClient(
        { connectionString: bouncer.dsnFor(DB), options: '-c search_path=ue_topo_elsewhere' },
        async (c) =>
          (await c.query<{ path: string }>('SELECT current_setting($1) AS path', ['search_path']))
            .rows,
      );
      expect(row.path).toBe('"$user", public');
    } finally {
      await bouncer.stop();
    }
  });

  test('without ignore_startup_parameters PgBouncer refuses the options startup parameter', async () => {
    const bouncer = await startPgBouncer({ mode: 'session' });
    try {
      await expect(
        withClient({ connectionString: bouncer.dsnFor(DB), options: '-c search_path=x' }, (c) =>
          c.query('SELECT 1'),
        ),
      ).rejects.toThrow(/unsupported startup parameter: options/);
    } finally {
      await bouncer.stop();
    }
  });

  test('md5 auth checks the userlist password; addUser changes it with a reload', async () => {
    const bouncer = await startPgBouncer({ mode: 'session', authType: 'md5' });
    const currentUser = async (dsn: string) =>
      withClient(
        { connectionString: dsn },
        async (c) => (await c.query('SELECT current_user AS u')).rows,
      );
    try {
      const sentinelDsn = bouncer.dsnFor(DB);
      expect(await currentUser(sentinelDsn)).toEqual([{ u: 'postgres' }]);
      await bouncer.addUser('postgres', 'rotated');
      await expect(currentUser(sentinelDsn)).rejects.toThrow(/password authentication failed/);
      expect(bouncer.dsnFor(DB)).toContain(':rotated@');
      expect(await currentUser(bouncer.dsnFor(DB))).toEqual([{ u: 'postgres' }]);
    } finally {
      await bouncer.stop();
    }
  });

  test('the TLS server: pg_stat_ssl shows ssl on, verify-full passes with the CA only', async () => {
    const server = await startTlsServer();
    try {
      const [row] = await withClient(
        {
          host: 'localhost',
          port: server.port,
          user: 'postgres',
          database: 'postgres',
          ssl: { ca: fs.readFileSync(server.caPath, 'utf8'), rejectUnauthorized: true },
        },
        async (c) =>
          (await c.query('SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()')).rows,
      );
      expect(row.ssl).toBe(true);
      expect(row.version).toMatch(/^TLSv1\.[23]$/);
      // Without the CA the chain does not verify: the server is not trusted by the system store.
      await expect(
        withClient(
          {
            host: 'localhost',
            port: server.port,
            user: 'postgres',
            database: 'postgres',
            ssl: true,
          },
          (c) => c.query('SELECT 1'),
        ),
      ).rejects.toThrow(/unable to verify the first certificate|unable to get local issuer/);
      expect(server.dsnFor('db1', { sslmode: 'verify-full', sslrootcert: server.caPath })).toBe(
        `postgres://postgres:${SENTINEL_PASSWORD}@localhost:${server.port}/db1?sslmode=verify-full&sslrootcert=${encodeURIComponent(server.caPath)}`,
      );
    } finally {
      await server.stop();
    }
    expect(fs.existsSync(server.caPath)).toBe(false);
  });

  test('the self-signed variant: TLS works unverified, and its own certificate verifies it', async () => {
    const server = await startTlsServer({ certificate: 'self-signed', allowPlain: false });
    try {
      const [row] = await server.query<{ ssl: boolean }>(
        'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
      );
      expect(row.ssl).toBe(true);
      await expect(
        withClient(
          { host: '127.0.0.1', port: server.port, user: 'postgres', database: 'postgres' },
          (c) => c.query('SELECT 1'),
        ),
      ).rejects.toThrow(/no pg_hba.conf entry .* no encryption/);
      const verified = await withClient(
        {
          host: '127.0.0.1',
          port: server.port,
          user: 'postgres',
          database: 'postgres',
          ssl: { ca: fs.readFileSync(server.serverCertPath, 'utf8') },
        },
        async (c) => (await c.query('SELECT 1 AS one')).rows,
      );
      expect(verified).toEqual([{ one: 1 }]);
    } finally {
      await server.stop();
    }
  });

  test('roles: CONNECT+CREATE only, or CONNECT only; settings applied; drop removes all', async () => {
    await lockDownDatabase(DB);
    const full = await createRole({
      database: DB,
      label: 'harness',
      settings: { idle_session_timeout: '7s' },
    });
    const noCreate = await createRole({ database: DB, label: 'harness', create: false });
    try {
      expect(full.name).toMatch(/^ue_topo_harness_[0-9a-f]{6}$/);
      const facts = await withClient({ connectionString: full.dsn() }, async (c) => {
        await c.query('CREATE SCHEMA ue_topo_owned');
        return (
          await c.query(`SELECT current_setting('idle_session_timeout') AS idle,
              has_schema_privilege('public', 'USAGE') AS public_usage,
              has_schema_privilege('public', 'CREATE') AS public_create,
              has_database_privilege(current_database(), 'TEMP') AS temp,
              (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser`)
        ).rows[0];
      });
      expect(facts).toEqual({
        idle: '7s',
        public_usage: false,
        public_create: false,
        temp: false,
        superuser: false,
      });
      await expect(
        withClient({ connectionString: noCreate.dsn() }, (c) =>
          c.query('CREATE SCHEMA ue_topo_no'),
        ),
      ).rejects.toThrow(/permission denied for database/);
    } finally {
      await full.drop();
      await noCreate.drop();
    }
    const left = await withAdmin(async (admin) => ({
      roles: (
        await admin.query('SELECT rolname FROM pg_roles WHERE rolname = ANY ($1)', [
          [full.name, noCreate.name],
        ])
      ).rows,
    }));
    expect(left.roles).toEqual([]);
    const schemas = await withAdmin(
      async (admin) =>
        (await admin.query(`SELECT 1 FROM pg_namespace WHERE nspname = 'ue_topo_owned'`)).rows,
      DB,
    );
    expect(schemas).toEqual([]);
  });

  test('canary fingerprints are stable and see a row change, an ALTER and a dropped view', async () => {
    await withAdmin(async (admin) => {
      const query: Query = async (sql, params) => (await admin.query(sql, params)).rows;
      await plantCanaries(query);
      const before = await fingerprint(query);
      expect(before.split('\n')).toHaveLength(5);
      expect(await fingerprint(query)).toBe(before);
      const changes = [
        `UPDATE public.user_engine_users SET email = email WHERE id = 1`,
        `UPDATE provider_billing.invoices SET cents = 2000 WHERE id = 7`,
        `ALTER TABLE public.user_engine_users ADD COLUMN extra int`,
        `DROP VIEW public.user_engine_user_emails`,
      ];
      const seen: boolean[] = [];
      for (const change of changes) {
        const prior = await fingerprint(query);
        await admin.query(change);
        seen.push((await fingerprint(query)) !== prior);
      }
      // A no-op update writes a new row version but not new contents: byte-identical still.
      expect(seen).toEqual([false, true, true, true]);
    }, DB);
  });

  test('expectNoSentinel passes clean output and names where the password leaked', () => {
    expect(() => expectNoSentinel('nothing here')).not.toThrow();
    expect(() => expectNoSentinel(`dsn postgres://u:${SENTINEL_PASSWORD}@h/db`, 'stderr')).toThrow(
      /sentinel password appears in stderr/,
    );
  });
});
