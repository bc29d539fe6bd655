/**
 * Failing connects, for both drivers, with no PostgreSQL needed: port 1 refuses, and a local TCP
 * server that never answers stands in for an unreachable host.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { ConnectionFailedError, createConnection, DRIVER_NAMES } from '../../src/driver';

const SECRET = 's3cr3t-sentinel';

describe.each(DRIVER_NAMES)('createConnection with %s', (driver) => {
  test('refused: ConnectionFailedError naming host, port and database, never the password', async () => {
    const error = await createConnection(`postgres://postgres:${SECRET}@127.0.0.1:1/test`, {
      driver,
    }).then(
      () => {
        throw new Error('connected to port 1?');
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConnectionFailedError);
    const { message } = error as Error;
    expect(message).toContain('127.0.0.1:1');
    expect(message).toContain('database "test"');
    expect(message).toContain('ECONNREFUSED');
    expect(message).not.toContain(SECRET);
    expect(JSON.stringify(error)).not.toContain(SECRET);
    expect(String((error as Error).stack)).not.toContain(SECRET);
  });

  describe('a server that accepts and never answers', () => {
    let server: Server;
    const sockets = new Set<Socket>();
    let port = 0;

    beforeAll(async () => {
      server = createServer((socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as { port: number }).port;
    });

    afterAll(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    });

    test('connectTimeoutMs bounds the wait: ConnectionFailedError about a timeout', async () => {
      const started = Date.now();
      const error = await createConnection(`postgres://postgres:${SECRET}@127.0.0.1:${port}/test`, {
        driver,
        connectTimeoutMs: 300,
      }).catch((e: unknown) => e);
      const elapsed = Date.now() - started;
      expect(error).toBeInstanceOf(ConnectionFailedError);
      expect((error as Error).message).toMatch(/time/i);
      expect((error as Error).message).toContain(`127.0.0.1:${port}`);
      expect((error as Error).message).not.toContain(SECRET);
      expect(elapsed).toBeGreaterThanOrEqual(250);
      expect(elapsed).toBeLessThan(3000);
    });
  });
});

describe('createConnection option checks (before any driver or network work)', () => {
  const dsn = 'postgres://u@127.0.0.1:1/d';
  test.each([
    ['max', { max: 0 }, /options\.max must be a positive integer/],
    [
      'connectTimeoutMs',
      { connectTimeoutMs: 1.5 },
      /options\.connectTimeoutMs must be a positive integer/,
    ],
    ['statementTimeoutMs', { statementTimeoutMs: -1 }, /options\.statementTimeoutMs/],
    ['schema', { schema: '' }, /options\.schema must be a non-empty string/],
    ['onQuery', { onQuery: 'log' }, /options\.onQuery must be a function/],
    ['driver', { driver: 'mysql' }, /options\.driver must be one of pg, postgres/],
  ])('a bad %s is a TypeError naming it', async (_, options, message) => {
    await expect(createConnection(dsn, options as never)).rejects.toThrow(message);
  });

  test('a DSN that is not postgres:// is a TypeError without its password', async () => {
    await expect(createConnection(`mysql://u:${SECRET}@h/d`)).rejects.toThrow(/invalid DSN/);
    await expect(createConnection(`mysql://u:${SECRET}@h/d`)).rejects.not.toThrow(SECRET);
  });
});
