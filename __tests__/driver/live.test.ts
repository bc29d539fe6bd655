/**
 * The driver port against a real server, once per driver: the same expectations for pg and
 * postgres.js. Runs when USER_ENGINE_LIVE_DSN is set.
 */
import {
  ConnectionClosedError,
  ConnectionLostError,
  createConnection,
  DatabaseError,
  DRIVER_NAMES,
  quoteIdentifier,
} from '../../src/driver';
import type { Connection, DriverName } from '../../src/driver';
import { adminConnection, describeLive, liveDsn, randomSchemaName } from '../postgres/support';
import { runNodeScript } from './node-script';

class Boom extends Error {}

function registerLiveDriver(driver: DriverName): void {
  describeLive(`driver port on ${driver} (live)`, () => {
    let admin: Connection;
    // A name that needs quoting, to prove the binding quotes it.
    const schema = `${randomSchemaName()} "Odd"`;
    const statements: string[] = [];
    let db: Connection;

    beforeAll(async () => {
      admin = await adminConnection(driver);
      await admin.query(`CREATE SCHEMA ${quoteIdentifier(schema)}`);
      db = await createConnection(liveDsn(), {
        driver,
        schema,
        max: 3,
        statementTimeoutMs: 2000,
        applicationName: `ue-live-${driver}`,
        onQuery: (sql) => statements.push(sql),
      });
    });

    afterAll(async () => {
      await db?.close();
      await admin?.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`);
      await admin?.close();
    });

    beforeEach(() => {
      statements.length = 0;
    });

    test('reports its driver and schema', () => {
      expect(db.driver).toBe(driver);
      expect(db.schema).toBe(schema);
    });

    test('every session of the pool starts bound to the schema and settings', async () => {
      const rows = await Promise.all(
        Array.from({ length: 6 }, () =>
          db.query<{ sp: string; st: string; app: string; pid: number }>(
            `SELECT current_setting('search_path') AS sp, current_setting('statement_timeout') AS st,
              current_setting('application_name') AS app, pg_backend_pid() AS pid,
              pg_sleep(0.05)::text AS slept`,
          ),
        ),
      );
      const seen = rows.map((r) => r.rows[0]);
      expect(new Set(seen.map((r) => r.pid)).size).toBeGreaterThan(1);
      for (const row of seen) {
        expect(row.sp).toBe(quoteIdentifier(schema));
        expect(row.st).toBe('2s');
        expect(row.app).toBe(`ue-live-${driver}`);
      }
      // Statements are sent as given: no per-query SET.
      expect(statements.every((s) => !/^\s*SET\b/i.test(s))).toBe(true);
    });

    test('the options win over settings of the same name in the DSN; others are kept', async () => {
      const url = new URL(liveDsn());
      url.searchParams.set('application_name', 'from-dsn');
      url.searchParams.set('options', '-c search_path=public -c work_mem=5MB');
      const ask = `SELECT current_setting('search_path') AS sp, current_setting('application_name') AS app,
        current_setting('work_mem') AS wm`;
      const bound = await createConnection(url.toString(), {
        driver,
        schema,
        applicationName: 'from-options',
        max: 1,
      });
      const plain = await createConnection(url.toString(), { driver, max: 1 });
      try {
        expect((await bound.query(ask)).rows[0]).toEqual({
          sp: quoteIdentifier(schema),
          app: 'from-options',
          wm: '5MB',
        });
        expect((await plain.query(ask)).rows[0]).toEqual({
          sp: 'public',
          app: 'from-dsn',
          wm: '5MB',
        });
      } finally {
        await bound.close();
        await plain.close();
      }
    });

    test('unqualified names resolve in the bound schema', async () => {
      await db.query('CREATE TABLE bound_here (x int)');
      const { rows } = await admin.query<{ found: boolean; elsewhere: boolean }>(
        `SELECT to_regclass($1) IS NOT NULL AS found, to_regclass('bound_here') IS NOT NULL AS elsewhere`,
        [`${quoteIdentifier(schema)}.bound_here`],
      );
      expect(rows).toEqual([{ found: true, elsewhere: false }]);
    });

    test('parameters of every kind round-trip', async () => {
      const when = new Date(Date.UTC(2024, 1, 29, 12, 0, 0, 123));
      const { rows, rowCount } = await db.query(
        `SELECT $1::text AS s, $2::int AS n, $3::boolean AS b, $4::timestamptz AS t, $5::jsonb AS j,
          array_length($6::text[], 1) AS len, ($6::text[])[2] IS NULL AS second_null,
          ($6::text[])[3] AS third, $7::text IS NULL AS nul, 9007199254740991::bigint AS big`,
        ['héllo 😀', 42, false, when, '{"a":[1,"x"]}', ['a', null, 'q"uo\\te'], null],
      );
      expect(rowCount).toBe(1);
      expect(rows[0]).toEqual({
        s: 'héllo 😀',
        n: 42,
        b: false,
        t: when,
        j: { a: [1, 'x'] },
        len: 3,
        second_null: true,
        third: 'q"uo\\te',
        nul: true,
        // Both drivers hand bigint back as a string; callers convert.
        big: '9007199254740991',
      });
    });

    test('rowCount is the rows written by INSERT/UPDATE/DELETE', async () => {
      await db.query('CREATE TABLE counted (x int)');
      expect((await db.query('INSERT INTO counted SELECT generate_series(1, 5)')).rowCount).toBe(5);
      expect((await db.query('UPDATE counted SET x = x + 1 WHERE x > $1', [2])).rowCount).toBe(3);
      expect((await db.query('DELETE FROM counted')).rowCount).toBe(5);
    });

    test('a server error is DatabaseError with SQLSTATE and constraint', async () => {
      await db.query('CREATE TABLE uniq (k text CONSTRAINT uniq_k UNIQUE)');
      await db.query('INSERT INTO uniq VALUES ($1)', ['a']);
      const error = await db.query('INSERT INTO uniq VALUES ($1)', ['a']).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DatabaseError);
      expect(error).toMatchObject({
        sqlState: '23505',
        constraint: 'uniq_k',
        code: 'database_error',
      });
      await expect(db.query('SELECT 1/0')).rejects.toMatchObject({ sqlState: '22012' });
      await expect(db.query('SELECT * FROM no_such_table')).rejects.toMatchObject({
        sqlState: '42P01',
      });
    });

    test('statement_timeout bounds a statement: DatabaseError 57014', async () => {
      await expect(db.query('SELECT pg_sleep(5)')).rejects.toMatchObject({ sqlState: '57014' });
    });

    test('a transaction commits on one session, tracing BEGIN and COMMIT', async () => {
      await db.query('CREATE TABLE tx_commit (x int)');
      statements.length = 0;
      const pids = await db.transaction(async (tx) => {
        const a = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        await tx.query('INSERT INTO tx_commit VALUES ($1)', [1]);
        const b = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        return [a.rows[0].pid, b.rows[0].pid];
      });
      expect(pids[0]).toBe(pids[1]);
      expect(statements).toEqual([
        'BEGIN',
        'SELECT pg_backend_pid() AS pid',
        'INSERT INTO tx_commit VALUES ($1)',
        'SELECT pg_backend_pid() AS pid',
        'COMMIT',
      ]);
      expect((await db.query('SELECT x FROM tx_commit')).rows).toEqual([{ x: 1 }]);
    });

    test('a throw rolls back and rejects with the very same error', async () => {
      await db.query('CREATE TABLE tx_rollback (x int)');
      const boom = new Boom('on purpose');
      await expect(
        db.transaction(async (tx) => {
          await tx.query('INSERT INTO tx_rollback VALUES (1)');
          throw boom;
        }),
      ).rejects.toBe(boom);
      expect((await db.query('SELECT x FROM tx_rollback')).rows).toEqual([]);
      expect(statements).toContain('ROLLBACK');
    });

    test('savepoints nest, roll back on their own and are released', async () => {
      await db.query('CREATE TABLE tx_savepoint (x int)');
      statements.length = 0;
      await db.transaction(async (tx) => {
        await tx.query('INSERT INTO tx_savepoint VALUES (1)');
        await tx.savepoint(async (sp) => {
          await sp.query('INSERT INTO tx_savepoint VALUES (2)');
          await sp
            .savepoint(async (inner) => {
              await inner.query('INSERT INTO tx_savepoint VALUES (3)');
              throw new Boom('inner');
            })
            .catch(() => undefined);
        });
        await tx
          .savepoint(async (sp) => {
            await sp.query('SELECT 1/0');
          })
          .catch((e: unknown) => expect(e).toMatchObject({ sqlState: '22012' }));
        await tx.query('INSERT INTO tx_savepoint VALUES (4)');
      });
      const { rows } = await db.query('SELECT x FROM tx_savepoint ORDER BY x');
      expect(rows).toEqual([{ x: 1 }, { x: 2 }, { x: 4 }]);
      const control = statements.filter((s) => /^(SAVEPOINT|RELEASE|ROLLBACK TO)/.test(s));
      const names = [...new Set(control.map((s) => s.split(' ').pop()))];
      expect(names).toHaveLength(3);
      for (const name of names) {
        expect(control).toContain(`SAVEPOINT ${name}`);
        expect(control).toContain(`RELEASE SAVEPOINT ${name}`);
      }
      expect(control.filter((s) => s.startsWith('ROLLBACK TO'))).toHaveLength(2);
    });

    test('a statement error swallowed by the caller fails the commit', async () => {
      await db.query('CREATE TABLE tx_swallowed (x int)');
      await expect(
        db.transaction(async (tx) => {
          await tx.query('INSERT INTO tx_swallowed VALUES (1)');
          await tx.query('SELECT 1/0').catch(() => undefined);
          return 'looks fine';
        }),
      ).rejects.toMatchObject({ sqlState: '22012' });
      expect((await db.query('SELECT x FROM tx_swallowed')).rows).toEqual([]);
    });

    test('a scope is unusable once its transaction settled', async () => {
      let leaked: { query(sql: string): Promise<unknown> } | undefined;
      await db.transaction(async (tx) => {
        leaked = tx;
      });
      await expect(leaked?.query('SELECT 1')).rejects.toMatchObject({ code: 'connection_closed' });
    });

    test('a session killed mid-transaction: ConnectionLostError, and the pool recovers', async () => {
      const error = await db
        .transaction(async (tx) => {
          const { rows } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
          await admin.query('SELECT pg_terminate_backend($1)', [rows[0].pid]);
          await tx.query('SELECT 1');
        })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConnectionLostError);
      expect((error as Error).message).toMatch(/lost/);
      for (let i = 0; i < 4; i++)
        expect((await db.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    });

    test('onQuery may throw without breaking the statement', async () => {
      const noisy = await createConnection(liveDsn(), {
        driver,
        max: 1,
        onQuery: () => {
          throw new Error('diagnostics exploded');
        },
      });
      try {
        expect((await noisy.query('SELECT 2 AS two')).rows).toEqual([{ two: 2 }]);
      } finally {
        await noisy.close();
      }
    });

    test('after close(): ConnectionClosedError, and close() again is fine', async () => {
      const short = await createConnection(liveDsn(), { driver, max: 1 });
      await short.query('SELECT 1');
      await short.close();
      await short.close();
      await expect(short.query('SELECT 1')).rejects.toBeInstanceOf(ConnectionClosedError);
      await expect(short.transaction(async () => 1)).rejects.toBeInstanceOf(ConnectionClosedError);
    });

    test('a process that opens, uses and closes a pool exits on its own', async () => {
      const { stdout } = await runNodeScript(
        `
        const { createConnection } = require('./src/driver');
        (async () => {
          const c = await createConnection(process.env.USER_ENGINE_LIVE_DSN, { driver: '${driver}', max: 3 });
          await Promise.all([1, 2, 3].map(() => c.query('SELECT pg_sleep(0.05)')));
          await c.transaction((tx) => tx.savepoint((sp) => sp.query('SELECT 1')));
          await c.close();
          process.stdout.write('closed');
        })().catch((e) => { console.error(e); process.exit(1); });
        `,
        { timeoutMs: 20_000 },
      );
      // Exiting at all proves no socket or timer was left behind (execFile would time out).
      expect(stdout).toBe('closed');
    }, 30_000);
  });
}

for (const driver of DRIVER_NAMES) registerLiveDriver(driver);
