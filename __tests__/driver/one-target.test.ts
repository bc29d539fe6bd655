/**
 * One DSN, one target: both drivers, in a process whose every PG* variable points somewhere
 * wrong, reach exactly the server, database, user and session options the DSN names. Runs when
 * USER_ENGINE_LIVE_DSN is set (it must name the machine's server on 127.0.0.1:5432 with a
 * Unix socket in /var/run/postgresql).
 */
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection, DRIVER_NAMES } from '../../src/driver';
import type { BoundConnection } from '../../src/driver';
import { ADMIN_DSN, liveDsn } from '../postgres/support';
import { pgBouncerBinary, startPgBouncer } from '../support/pgbouncer';
import { runNodeScript } from './node-script';

const DATABASE = 'ue_drv_weird db%';
const ENCODED = encodeURIComponent(DATABASE); // ue_drv_weird%20db%25

/** Every variable either driver reads, set to something that would change the session. */
const WRONG_ENV: Record<string, string> = {
  PGHOST: 'ue-drv-wrong-host.invalid',
  PGHOSTADDR: '192.0.2.1',
  PGPORT: '1',
  PGDATABASE: 'ue_drv_wrong_db',
  PGUSER: 'ue_drv_wrong_user',
  PGUSERNAME: 'ue_drv_wrong_user',
  PGPASSWORD: 'ue_drv_wrong_password',
  PGPASSFILE: '/nonexistent/ue_drv_pgpass',
  PGOPTIONS: '-c work_mem=1MB -c search_path=ue_drv_wrong',
  PGAPPNAME: 'ue-drv-wrong-app',
  PGSSLMODE: 'verify-full',
  PGSSL: 'verify-full',
  PGSSLROOTCERT: '/nonexistent/ca.pem',
  PGSSLNEGOTIATION: 'direct',
  PGCONNECT_TIMEOUT: '1',
  PGCLIENT_ENCODING: 'LATIN1',
  PGBINARY: 'true',
  PGREPLICATION: 'database',
  PGTARGETSESSIONATTRS: 'read-only',
  PGPREPARE: 'true',
  PGMAX: '1',
  PGMAX_PIPELINE: '1',
  PGFETCH_TYPES: 'true',
  PGDEBUG: 'true',
};

interface Seen {
  db: string;
  usr: string;
  port: number | null;
  wm: string;
  app: string;
  sp: string;
  ssl: boolean;
}

const SCRIPT = `
const { createConnection } = require('./src/driver');
(async () => {
  const [driver, ...dsns] = process.argv.slice(1);
  const out = [];
  for (const dsn of dsns) {
    const c = await createConnection(dsn, { driver, max: 2, connectTimeoutMs: 4000 });
    try {
      const { rows } = await c.query(
        "SELECT current_database() AS db, current_user AS usr, inet_server_port() AS port, " +
        "current_setting('work_mem') AS wm, current_setting('application_name') AS app, " +
        "current_setting('search_path') AS sp, " +
        "(SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()) AS ssl");
      out.push(rows[0]);
    } finally {
      await c.close();
    }
  }
  process.stdout.write(JSON.stringify({ out, env: process.env.PGHOST }));
})().catch((e) => { console.error(String(e && e.message)); process.exit(1); });
`;

/**
 * The DSNs below name the machine's server by port 5432 and by its Unix socket, so the suite runs
 * only when the live DSN is that server (not, e.g., the embedded one `npm test` starts by default,
 * which has a random port and no socket); CI's live step runs it.
 */
function liveDsnIsMachineServer(): boolean {
  if (!ADMIN_DSN) return false;
  const url = new URL(ADMIN_DSN);
  return (
    ['127.0.0.1', 'localhost'].includes(url.hostname) &&
    (url.port || '5432') === '5432' &&
    existsSync('/var/run/postgresql/.s.PGSQL.5432')
  );
}
const describeMachineServer = liveDsnIsMachineServer() ? describe : describe.skip;

describeMachineServer(
  "one DSN, one target (live) [needs USER_ENGINE_LIVE_DSN on the machine's PostgreSQL at 127.0.0.1:5432 with its socket in /var/run/postgresql]",
  () => {
    let admin: BoundConnection;

    beforeAll(async () => {
      admin = await createConnection(liveDsn(), { driver: 'pg', max: 1 });
      await admin.query(`DROP DATABASE IF EXISTS "${DATABASE}"`);
      await admin.query(`CREATE DATABASE "${DATABASE}"`);
    });

    afterAll(async () => {
      await admin?.query(`DROP DATABASE IF EXISTS "${DATABASE}" WITH (FORCE)`);
      await admin?.close();
    });

    const tcp = `postgres://postgres@127.0.0.1:5432/${ENCODED}?options=-c%20work_mem%3D3MB&application_name=ue-drv-app`;
    const queryPort = `postgres://postgres@127.0.0.1:1/${ENCODED}?port=5432&options=-c+work_mem=3MB&application_name=ue-drv-app`;
    const socketInHost = `postgres://postgres@%2Fvar%2Frun%2Fpostgresql/${ENCODED}?options=-c%20work_mem%3D3MB&application_name=ue-drv-app`;
    const socketInQuery = `postgres:///${ENCODED}?host=/var/run/postgresql&port=5432&user=postgres&options=-c%20work_mem%3D3MB&application_name=ue-drv-app`;

    test.each(DRIVER_NAMES)(
      '%s: every PG* variable set wrong changes nothing about the session',
      async (driver) => {
        expect(existsSync('/var/run/postgresql/.s.PGSQL.5432')).toBe(true);
        const env = { ...process.env, ...WRONG_ENV };
        const { stdout } = await runNodeScript(SCRIPT, {
          args: [driver, tcp, queryPort, socketInHost, socketInQuery],
          env,
          timeoutMs: 30_000,
        });
        const { out, env: hostAfter } = JSON.parse(stdout) as { out: Seen[]; env: string };
        const expected = {
          db: DATABASE,
          usr: 'postgres',
          wm: '3MB',
          app: 'ue-drv-app',
          sp: '"$user", public',
          ssl: false,
        };
        expect(out).toEqual([
          { ...expected, port: 5432 },
          { ...expected, port: 5432 },
          // A Unix socket has no server port.
          { ...expected, port: null },
          { ...expected, port: null },
        ]);
        // The variables are hidden only while a client is configured, then restored.
        expect(hostAfter).toBe(WRONG_ENV.PGHOST);
      },
      60_000,
    );

    const itWithBouncer = pgBouncerBinary()
      ? test.each(DRIVER_NAMES)
      : test.skip.each(DRIVER_NAMES);
    itWithBouncer(
      '%s: a password the server asks for comes from the DSN only, never PGPASSWORD or a pgpass file',
      async (driver) => {
        // PgBouncer with md5 auth is a server that asks for a password.
        const bouncer = await startPgBouncer({
          mode: 'session',
          authType: 'md5',
          users: { postgres: 'pw-right' },
        });
        const dir = mkdtempSync(join(tmpdir(), 'ue-drv-pgpass-'));
        const pgpass = join(dir, 'pgpass');
        writeFileSync(pgpass, `*:*:*:postgres:pw-right\n`);
        chmodSync(pgpass, 0o600);
        const saved = { PGPASSWORD: process.env.PGPASSWORD, PGPASSFILE: process.env.PGPASSFILE };
        Object.assign(process.env, { PGPASSWORD: 'pw-right', PGPASSFILE: pgpass });
        try {
          const noPassword = `postgres://postgres@127.0.0.1:${bouncer.port}/postgres?sslmode=disable`;
          const error = await createConnection(noPassword, { driver, max: 1 }).then(
            async (c) => {
              await c.close();
              return undefined;
            },
            (e: unknown) => e as Error,
          );
          expect(error).toMatchObject({ code: 'connection_failed' });
          expect(error?.message).toMatch(
            /(the server asked for a password and the DSN has none|password authentication failed.*The DSN has no password) \(PGPASSWORD and ~\/\.pgpass are never read\)/,
          );
          const withPassword = await createConnection(
            `postgres://postgres:pw-right@127.0.0.1:${bouncer.port}/postgres?sslmode=disable`,
            { driver, max: 1 },
          );
          try {
            expect((await withPassword.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
          } finally {
            await withPassword.close();
          }
        } finally {
          for (const [name, value] of Object.entries(saved))
            if (value === undefined) delete process.env[name];
            else process.env[name] = value;
          rmSync(dir, { recursive: true, force: true });
          await bouncer.stop();
        }
      },
      30_000,
    );
  },
);
