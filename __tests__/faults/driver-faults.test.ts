/**
 * The driver port under network and server faults, for both drivers, through a TCP proxy in front
 * of the live server: every fault must surface as the port's typed error, naming where the
 * connection was aimed and why, within the configured bound, and leave nothing behind.
 */
import {
  ConnectionFailedError,
  ConnectionLostError,
  DatabaseError,
  createConnection,
  type Connection,
  type ConnectionOptions,
  type DriverName,
} from '../../src/driver';
import { SENTINEL_PASSWORD } from '../e2e/support/harness';
import {
  describeOutcome,
  printMeasurements,
  record,
  rejectionOf,
  settleWithin,
} from './support/bounds';
import { createTestDatabase, describeWithDatabase, type TestDatabase } from '../support/database';
import {
  closedPort,
  startFaultProxy,
  type FaultProxy,
  type ProxyMode,
  upstreamOf,
} from './support/proxy';

jest.setTimeout(30_000);

const DRIVERS: DriverName[] = ['pg', 'postgres'];
const CONNECT_TIMEOUT_MS = 1000;
const STATEMENT_TIMEOUT_MS = 500;
/** The slack every bound allows on top of the configured timeout. */
const GRACE_MS = 1000;
/** close() may give busy sessions a short grace before destroying them. */
const CLOSE_BOUND_MS = 2000;
const APP = 'ue-faults-driver';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type ConnectFault = 'closed port' | Exclude<ProxyMode, 'pass'>;
const CONNECT_FAULTS: ConnectFault[] = [
  'closed port',
  'refuse',
  'reset',
  'stall',
  'stall-after-startup',
];

describeWithDatabase('the driver port under faults', () => {
  let db: TestDatabase;
  let proxy: FaultProxy;
  const opened: Connection[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('driver', { prefix: 'ue_faults_' });
    proxy = await startFaultProxy(upstreamOf(db.dsn));
  });

  afterEach(async () => {
    // Break whatever a fault left hanging (a reconnect loop, a frozen session), then close.
    proxy.mode = 'reset';
    proxy.cut();
    await Promise.all(opened.splice(0).map((c) => settleWithin(c.close(), GRACE_MS)));
    proxy.cut();
    proxy.mode = 'pass';
  });

  afterAll(async () => {
    printMeasurements('driver faults');
    await proxy?.close();
    await db?.drop();
  });

  function expectNamesTarget(message: string, port: number): void {
    const target = `127.0.0.1:${port}, database "${db.name}", user "postgres"`;
    expect(message).toContain(target);
    // Once: a message that nests the same target twice reads as two failures.
    expect(message.split(target).length - 1).toBe(1);
    // The cause follows the target.
    expect(message.slice(message.indexOf(target) + target.length)).toMatch(/\S{3,}/);
    expect(message).not.toContain(SENTINEL_PASSWORD);
  }

  async function countSessions(): Promise<number> {
    const rows = await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = $2',
      [db.name, APP],
    );
    return rows[0].n;
  }

  async function sessionsAfterSettling(ms: number): Promise<number> {
    let n = await countSessions();
    for (let waited = 0; n > 0 && waited < ms; waited += 50) {
      await sleep(50);
      n = await countSessions();
    }
    return n;
  }

  describe.each(DRIVERS)('%s', (driver) => {
    const options = (extra: ConnectionOptions = {}): ConnectionOptions => ({
      driver,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      applicationName: APP,
      ...extra,
    });

    async function open(dsn: string, extra: ConnectionOptions = {}): Promise<Connection> {
      const connection = await createConnection(dsn, options(extra));
      opened.push(connection);
      return connection;
    }

    test.each(CONNECT_FAULTS)(
      '%s: ConnectionFailedError within connectTimeoutMs + 1 s, naming host, port, database, cause',
      async (fault) => {
        let dsn: string;
        let port: number;
        if (fault === 'closed port') {
          port = await closedPort();
          const url = new URL(db.dsn);
          url.port = String(port);
          dsn = url.toString();
        } else {
          proxy.mode = fault;
          port = proxy.port;
          dsn = proxy.dsnVia(db.dsn);
        }
        const bound = CONNECT_TIMEOUT_MS + GRACE_MS;
        const attempt = createConnection(dsn, options());
        attempt.then((c) => opened.push(c)).catch(() => undefined);
        const outcome = await settleWithin(attempt, bound);
        record(`${driver} connect, ${fault}: ${describeOutcome(outcome)}`);
        const error = rejectionOf(outcome, bound);
        expect(error).toBeInstanceOf(ConnectionFailedError);
        expect(error.code).toBe('connection_failed');
        expectNamesTarget(error.message, port);
      },
    );

    test('a statement slower than statementTimeoutMs is cancelled by the server within the bound', async () => {
      const connection = await open(proxy.dsnVia(db.dsn), {
        statementTimeoutMs: STATEMENT_TIMEOUT_MS,
      });
      const bound = STATEMENT_TIMEOUT_MS + GRACE_MS;
      const outcome = await settleWithin(connection.query('SELECT pg_sleep(5)'), bound);
      record(`${driver} slow statement: ${describeOutcome(outcome)}`);
      const error = rejectionOf(outcome, bound);
      expect(error).toBeInstanceOf(DatabaseError);
      expect((error as DatabaseError).sqlState).toBe('57014');
      // The session survives a cancelled statement.
      expect((await connection.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([
        { one: 1 },
      ]);
    });

    test('a server that stops answering mid-session is bounded by statementTimeoutMs + 1 s, close() within 2 s more', async () => {
      const connection = await open(proxy.dsnVia(db.dsn), {
        max: 1,
        statementTimeoutMs: STATEMENT_TIMEOUT_MS,
      });
      await connection.query('SELECT 1');
      proxy.freeze();
      const bound = STATEMENT_TIMEOUT_MS + GRACE_MS;
      const outcome = await settleWithin(connection.query('SELECT 2'), bound);
      record(`${driver} stall mid-session: ${describeOutcome(outcome)}`);
      const error = rejectionOf(outcome, bound);
      // The statement's own server-side timeout cannot fire: the server never saw it.
      expect(['query_timeout', 'connection_lost']).toContain(error.code);
      expectNamesTarget(error.message, proxy.port);
      const closing = await settleWithin(connection.close(), CLOSE_BOUND_MS);
      record(`${driver} close after the stall: ${describeOutcome(closing)}`);
      expect(describeOutcome(closing)).toMatch(/^fulfilled/);
    });

    test('a cut mid-statement fails it with ConnectionLostError within 1 s; the pool goes on; close() within 2 s', async () => {
      const connection = await open(proxy.dsnVia(db.dsn));
      const statement = connection.query('SELECT pg_sleep(0.5)');
      await sleep(100);
      proxy.cut();
      const outcome = await settleWithin(statement, GRACE_MS);
      record(`${driver} cut mid-statement: ${describeOutcome(outcome)}`);
      const error = rejectionOf(outcome, GRACE_MS);
      expect(error).toBeInstanceOf(ConnectionLostError);
      expect(error.message).toMatch(/was lost/);
      expectNamesTarget(error.message, proxy.port);
      // The broken session is discarded; the next statement gets a fresh one.
      expect((await connection.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([
        { one: 1 },
      ]);
      const closing = await settleWithin(connection.close(), CLOSE_BOUND_MS);
      record(`${driver} close after the cut: ${describeOutcome(closing)}`);
      expect(describeOutcome(closing)).toMatch(/^fulfilled/);
    });

    test('a cut mid-transaction commits nothing of it; committed rows stay byte-identical', async () => {
      const table = `public.faults_tx_${driver}`;
      await db.query(`CREATE TABLE ${table} (k text PRIMARY KEY, v bytea NOT NULL)`);
      await db.query(`INSERT INTO ${table} VALUES ('kept', '\\x00ff27225c'), ('it''s', '\\x')`);
      const snapshot = () =>
        db.query(`SELECT md5(string_agg(t::text, '|' ORDER BY k)) AS md5 FROM ${table} t`);
      const before = await snapshot();
      const connection = await open(proxy.dsnVia(db.dsn));
      const transaction = connection.transaction(async (tx) => {
        await tx.query(`INSERT INTO ${table} VALUES ($1, $2)`, ['doomed', '\\x01']);
        await tx.query(`UPDATE ${table} SET v = '\\x02' WHERE k = 'kept'`);
        await tx.query('SELECT pg_sleep(0.5)');
      });
      await sleep(150);
      proxy.cut();
      const outcome = await settleWithin(transaction, GRACE_MS);
      record(`${driver} cut mid-transaction: ${describeOutcome(outcome)}`);
      expect(rejectionOf(outcome, GRACE_MS)).toBeInstanceOf(ConnectionLostError);
      // The server rolls the orphaned transaction back once its backend notices the client is gone.
      expect(await sessionsAfterSettling(3000)).toBe(0);
      expect(await snapshot()).toEqual(before);
    });

    test('no session of ours is left on the server after the faults', async () => {
      proxy.cut();
      await Promise.all(opened.splice(0).map((c) => settleWithin(c.close(), GRACE_MS)));
      expect(await sessionsAfterSettling(3000)).toBe(0);
    });
  });
});
