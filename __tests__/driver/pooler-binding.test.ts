/**
 * Schema and settings binding through a real PgBouncer 1.18 in transaction and session mode with
 * `ignore_startup_parameters = extra_float_digits,options` (the `options` packet is dropped), and
 * on a direct session. Runs when USER_ENGINE_LIVE_DSN is set and PgBouncer is installed.
 */
import { createConnection, DRIVER_NAMES, probePoolingMode } from '../../src/driver';
import type { BoundConnection, DriverName } from '../../src/driver';
import { ADMIN_DSN, liveDsn } from '../postgres/support';
import {
  pgBouncerBinary,
  startPgBouncer,
  type PgBouncer,
  type PoolMode,
} from '../support/pgbouncer';

const DATABASE = 'ue_drv_pool';
const describePooler = ADMIN_DSN && pgBouncerBinary() ? describe : describe.skip;

/** The live DSN pointed at `database` on the same server. */
function directDsn(database: string): string {
  const url = new URL(liveDsn());
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

const WHERE_AM_I = `SELECT (SELECT owner FROM whose) AS owner, current_setting('user_engine.tag', true) AS tag,
  current_setting('lock_timeout') AS lt, pg_backend_pid() AS pid`;

interface Where {
  owner: string;
  tag: string | null;
  lt: string;
  pid: number;
}

async function bound(
  dsn: string,
  driver: DriverName,
  schema: 'a' | 'b',
  onQuery?: (sql: string) => void,
): Promise<BoundConnection> {
  return createConnection(dsn, {
    driver,
    schema: `ue_drv_${schema}`,
    sessionSettings: {
      'user_engine.tag': schema,
      lock_timeout: schema === 'a' ? '1111ms' : '2222ms',
    },
    max: 3,
    statementTimeoutMs: 1000,
    onQuery,
  });
}

/** 30 interleaved statements and transactions on `c`; every answer must name `schema`. */
async function workload(c: BoundConnection, schema: 'a' | 'b'): Promise<Where[]> {
  const seen: Where[] = [];
  await Promise.all(
    Array.from({ length: 10 }, async (_, i) => {
      seen.push((await c.query<Where>(WHERE_AM_I)).rows[0]);
      await c.transaction(async (tx) => {
        seen.push((await tx.query<Where>(WHERE_AM_I)).rows[0]);
        await tx.query('SELECT pg_sleep(0.01)');
        await tx.savepoint(async (sp) => {
          seen.push((await sp.query<Where>(WHERE_AM_I)).rows[0]);
        });
        await tx.query('INSERT INTO whose_log (owner, n) VALUES ($1, $2)', [schema, i]);
      });
    }),
  );
  return seen;
}

function expectBoundTo(seen: Where[], schema: 'a' | 'b'): void {
  expect(seen).toHaveLength(30);
  for (const row of seen) {
    expect(row.owner).toBe(schema);
    expect(row.tag).toBe(schema);
    expect(row.lt).toBe(schema === 'a' ? '1111ms' : '2222ms');
  }
}

describePooler('schema and settings binding behind PgBouncer (live)', () => {
  let admin: BoundConnection;
  let setup: BoundConnection;
  const bouncers = new Map<PoolMode, PgBouncer>();
  let refusing: PgBouncer | undefined;

  beforeAll(async () => {
    admin = await createConnection(liveDsn(), { driver: 'pg', max: 1 });
    await admin.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${DATABASE}`);
    setup = await createConnection(directDsn(DATABASE), { driver: 'pg', max: 1 });
    // `whose` exists in public too: a statement that escapes its binding reads 'public'.
    await setup.query(`
      CREATE TABLE public.whose (owner text); INSERT INTO public.whose VALUES ('public');
      CREATE TABLE public.whose_log (owner text, n int);
      CREATE SCHEMA ue_drv_a; CREATE TABLE ue_drv_a.whose (owner text); INSERT INTO ue_drv_a.whose VALUES ('a');
      CREATE TABLE ue_drv_a.whose_log (owner text, n int);
      CREATE SCHEMA ue_drv_b; CREATE TABLE ue_drv_b.whose (owner text); INSERT INTO ue_drv_b.whose VALUES ('b');
      CREATE TABLE ue_drv_b.whose_log (owner text, n int)`);
    // Two server sessions for the four clients' pools: they must share them.
    const ignoreStartupParameters = 'extra_float_digits,options';
    // In front of the server the live DSN names (the embedded one of `npm test` has its own port).
    const upstreamPort = Number(new URL(liveDsn()).port || 5432);
    bouncers.set(
      'transaction',
      await startPgBouncer({
        mode: 'transaction',
        ignoreStartupParameters,
        poolSize: 2,
        upstreamPort,
      }),
    );
    bouncers.set(
      'session',
      await startPgBouncer({ mode: 'session', ignoreStartupParameters, poolSize: 8, upstreamPort }),
    );
    // As PgBouncer ships: an `options` startup parameter is refused outright.
    refusing = await startPgBouncer({ mode: 'transaction', poolSize: 2 });
  }, 30_000);

  afterAll(async () => {
    await Promise.all([...bouncers.values(), refusing].map((bouncer) => bouncer?.stop()));
    await setup?.close();
    await admin?.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
    await admin?.close();
  }, 30_000);

  beforeEach(async () => {
    await setup.query('TRUNCATE public.whose_log, ue_drv_a.whose_log, ue_drv_b.whose_log');
  });

  describe.each(DRIVER_NAMES)('%s', (driver) => {
    test.each(['transaction', 'session'] as const)(
      'PgBouncer %s mode: two interleaving clients, every statement in its own schema and settings',
      async (mode) => {
        const dsn = bouncers.get(mode)!.dsnFor(DATABASE);
        const a = await bound(dsn, driver, 'a');
        const b = await bound(dsn, driver, 'b');
        try {
          for (const c of [a, b])
            expect(c.topology).toMatchObject({
              pooler: 'detected',
              startupOptions: 'dropped',
              binding: 'per-transaction',
            });
          const [seenA, seenB] = await Promise.all([workload(a, 'a'), workload(b, 'b')]);
          expectBoundTo(seenA, 'a');
          expectBoundTo(seenB, 'b');
          if (mode === 'transaction') {
            // The proof is only worth something if the clients really shared server sessions.
            const shared = new Set(seenA.map((r) => r.pid));
            expect(seenB.some((r) => shared.has(r.pid))).toBe(true);
          }
          // Nothing was written to public, and every write reached its own schema.
          const { rows } = await setup.query<{ pub: number; a: number; b: number }>(
            `SELECT (SELECT count(*) FROM public.whose_log)::int AS pub,
              (SELECT count(*) FROM ue_drv_a.whose_log WHERE owner = 'a')::int AS a,
              (SELECT count(*) FROM ue_drv_b.whose_log WHERE owner = 'b')::int AS b`,
          );
          expect(rows[0]).toEqual({ pub: 0, a: 10, b: 10 });
          // SET LOCAL leaves nothing behind on the pooled server sessions.
          const plain = await createConnection(dsn, { driver, max: 1 });
          try {
            const left = (await plain.query<Where>(WHERE_AM_I)).rows[0];
            expect(left).toMatchObject({ owner: 'public', lt: '0' });
            // A placeholder once SET LOCAL stays defined on that session, with an empty value.
            expect([null, '']).toContain(left.tag);
          } finally {
            await plain.close();
          }
        } finally {
          await a.close();
          await b.close();
        }
      },
      60_000,
    );

    test('a pooler that refuses the options parameter: connected without it, bound per transaction', async () => {
      const dsn = (refusing as PgBouncer).dsnFor(DATABASE);
      const a = await bound(dsn, driver, 'a');
      const b = await bound(dsn, driver, 'b');
      try {
        expect(a.topology).toMatchObject({
          pooler: 'detected',
          startupOptions: 'refused',
          binding: 'per-transaction',
        });
        const [seenA, seenB] = await Promise.all([workload(a, 'a'), workload(b, 'b')]);
        expectBoundTo(seenA, 'a');
        expectBoundTo(seenB, 'b');
      } finally {
        await a.close();
        await b.close();
      }
    }, 60_000);

    test("the DSN's own options are bound per transaction too", async () => {
      const url = new URL(bouncers.get('transaction')!.dsnFor(DATABASE));
      url.searchParams.set('options', '-c work_mem=3MB -c lock_timeout=4s');
      const c = await createConnection(url.toString(), {
        driver,
        max: 2,
        sessionSettings: { lock_timeout: '5s' },
      });
      try {
        expect(c.topology.binding).toBe('per-transaction');
        const rows = await Promise.all(
          Array.from({ length: 6 }, () =>
            c.query<{ wm: string; lt: string }>(
              "SELECT current_setting('work_mem') AS wm, current_setting('lock_timeout') AS lt",
            ),
          ),
        );
        // The options win over a name the DSN sets too.
        for (const r of rows) expect(r.rows[0]).toEqual({ wm: '3MB', lt: '5s' });
      } finally {
        await c.close();
      }
    });

    test('transaction mode: a default_transaction_isolation setting holds in the running transaction', async () => {
      const c = await createConnection(bouncers.get('transaction')!.dsnFor(DATABASE), {
        driver,
        max: 2,
        sessionSettings: { default_transaction_isolation: 'repeatable read' },
      });
      const ask = "SELECT current_setting('transaction_isolation') AS iso";
      try {
        expect(c.topology.binding).toBe('per-transaction');
        expect((await c.query<{ iso: string }>(ask)).rows[0].iso).toBe('repeatable read');
        const inTx = await c.transaction((tx) => tx.query<{ iso: string }>(ask));
        expect(inTx.rows[0].iso).toBe('repeatable read');
      } finally {
        await c.close();
      }
    });

    test('transaction mode: statementTimeoutMs still bounds a lone statement and a transaction', async () => {
      const a = await bound(bouncers.get('transaction')!.dsnFor(DATABASE), driver, 'a');
      try {
        await expect(a.query('SELECT pg_sleep(3)')).rejects.toMatchObject({ sqlState: '57014' });
        await expect(a.transaction((tx) => tx.query('SELECT pg_sleep(3)'))).rejects.toMatchObject({
          sqlState: '57014',
        });
        expect((await a.query<Where>(WHERE_AM_I)).rows[0].owner).toBe('a');
      } finally {
        await a.close();
      }
    }, 30_000);

    test('transaction mode: statements asked to be prepared are never named (PgBouncer < 1.21 cannot route them)', async () => {
      // Two clients, two server sessions: a named statement parsed on one session and bound on
      // another fails with 26000; so does one kept across transactions on a shared session.
      const dsn = bouncers.get('transaction')!.dsnFor(DATABASE);
      const a = await bound(dsn, driver, 'a');
      const b = await bound(dsn, driver, 'b');
      const hot = 'SELECT (SELECT owner FROM whose) AS owner, $1::int AS n';
      try {
        const answers = await Promise.all(
          [a, b].flatMap((c) =>
            Array.from({ length: 12 }, (_, i) =>
              i % 2 === 0
                ? c.query<{ owner: string; n: number }>(hot, [i], { prepare: true })
                : c.transaction((tx) =>
                    tx.query<{ owner: string; n: number }>(hot, [i], { prepare: true }),
                  ),
            ),
          ),
        );
        expect(answers.map((r) => r.rows[0].owner)).toEqual([
          ...Array<string>(12).fill('a'),
          ...Array<string>(12).fill('b'),
        ]);
        const named = await a.transaction((tx) =>
          tx.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_prepared_statements'),
        );
        expect(named.rows[0].n).toBe(0);
      } finally {
        await a.close();
        await b.close();
      }
    }, 30_000);

    test('direct: statements asked to be prepared are named and reused on the session', async () => {
      const a = await createConnection(directDsn(DATABASE), { driver, schema: 'ue_drv_a', max: 1 });
      const hot = 'SELECT (SELECT owner FROM whose) AS owner, $1::int AS n';
      try {
        for (let i = 0; i < 3; i++)
          expect(
            (await a.query<{ owner: string }>(hot, [i], { prepare: true })).rows[0].owner,
          ).toBe('a');
        await a.query('SELECT $1::int AS unnamed', [1]);
        const { rows } = await a.query<{ statement: string }>(
          'SELECT statement FROM pg_prepared_statements WHERE NOT from_sql',
        );
        expect(rows.map((r) => r.statement)).toEqual([hot]);
      } finally {
        await a.close();
      }
    });

    test('direct: session binding, and not one statement more than asked', async () => {
      const sent: string[] = [];
      const a = await bound(directDsn(DATABASE), driver, 'a', (sql) => sent.push(sql));
      try {
        expect(a.topology).toMatchObject({
          pooler: 'none',
          startupOptions: 'honoured',
          binding: 'session',
        });
        sent.length = 0;
        expect((await a.query<Where>(WHERE_AM_I)).rows[0]).toMatchObject({ owner: 'a', tag: 'a' });
        await a.transaction(async (tx) => {
          await tx.query(WHERE_AM_I);
        });
        expect(sent).toEqual([WHERE_AM_I, 'BEGIN', WHERE_AM_I, 'COMMIT']);
      } finally {
        await a.close();
      }
    });

    test('behind the pooler, the settings ride on BEGIN (traced) and nothing else is added', async () => {
      const sent: string[] = [];
      const a = await bound(bouncers.get('transaction')!.dsnFor(DATABASE), driver, 'a', (sql) =>
        sent.push(sql),
      );
      try {
        sent.length = 0;
        await a.transaction(async (tx) => {
          await tx.query(WHERE_AM_I);
        });
        const setLocal = `SET LOCAL user_engine.tag = 'a'; SET LOCAL lock_timeout = '1111ms'; SET LOCAL search_path = "ue_drv_a"; SET LOCAL statement_timeout = '1000'`;
        expect(sent.join('; ')).toBe(`BEGIN; ${setLocal}; ${WHERE_AM_I}; COMMIT`);
      } finally {
        await a.close();
      }
    });

    test.each(['none', 'session', 'transaction'] as const)(
      'probePoolingMode tells %s',
      async (expected) => {
        const dsn =
          expected === 'none' ? directDsn(DATABASE) : bouncers.get(expected)!.dsnFor(DATABASE);
        const probe = await probePoolingMode(dsn, { driver });
        expect(probe.mode).toBe(expected);
        expect(probe.evidence).toMatch(
          { none: /no pooler/, session: /session pooling/, transaction: /transaction pooling/ }[
            expected
          ],
        );
      },
      20_000,
    );
  });
});
