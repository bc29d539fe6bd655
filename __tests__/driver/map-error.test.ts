import { parseDsn } from '../../src/driver/dsn-target';
import {
  ConnectionFailedError,
  ConnectionLostError,
  DatabaseError,
  DriverError,
} from '../../src/driver/errors';
import { mapDriverError } from '../../src/driver/map-error';

const SECRET = 's3cr3t-sentinel';
const context = { target: parseDsn(`postgres://app:${SECRET}@db.internal:5433/users`) };

/** A server error as pg (DatabaseError) or postgres.js (PostgresError) shapes it. */
function serverError(code: string, message: string, extra: object = {}): Error {
  return Object.assign(new Error(message), { code, severity: 'ERROR', ...extra });
}

function systemError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('mapDriverError', () => {
  test('a server error keeps its SQLSTATE, message and constraint (pg shape)', () => {
    const mapped = mapDriverError(
      serverError('23505', 'duplicate key value violates unique constraint "k"', {
        constraint: 'k',
      }),
      'use',
      context,
    );
    expect(mapped).toBeInstanceOf(DatabaseError);
    expect(mapped).toMatchObject({ sqlState: '23505', constraint: 'k', code: 'database_error' });
    expect((mapped as Error).message).toContain('duplicate key value');
  });

  test('postgres.js names the constraint constraint_name', () => {
    const mapped = mapDriverError(
      serverError('23503', 'fk', { constraint_name: 'fk_user' }),
      'use',
      context,
    );
    expect(mapped).toMatchObject({ sqlState: '23503', constraint: 'fk_user' });
  });

  test.each([
    ['refused', systemError('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.1:5433')],
    ['DNS', systemError('ENOTFOUND', 'getaddrinfo ENOTFOUND db.internal')],
    [
      'postgres.js timeout',
      systemError('CONNECT_TIMEOUT', 'write CONNECT_TIMEOUT db.internal:5433'),
    ],
    ['pg timeout', new Error('timeout expired')],
    ['bad password', serverError('28P01', 'password authentication failed for user "app"')],
    ['no database', serverError('3D000', 'database "users" does not exist')],
    ['too many connections', serverError('53300', 'sorry, too many clients already')],
  ])('%s → ConnectionFailedError naming host, port, database and user', (_, error) => {
    const mapped = mapDriverError(error, 'use', context);
    expect(mapped).toBeInstanceOf(ConnectionFailedError);
    const message = (mapped as Error).message;
    expect(message).toContain('db.internal:5433');
    expect(message).toContain('database "users"');
    expect(message).toContain('user "app"');
    expect(message).toContain(error.message);
  });

  test.each([
    ['socket reset', systemError('ECONNRESET', 'read ECONNRESET')],
    ['pg end of stream', new Error('Connection terminated unexpectedly')],
    ['postgres.js closed', systemError('CONNECTION_CLOSED', 'write CONNECTION_CLOSED db:5433')],
    ['postgres.js ended', systemError('CONNECTION_ENDED', 'write CONNECTION_ENDED db:5433')],
    ['terminated by an administrator', serverError('57P01', 'terminating connection')],
  ])('%s mid-use → ConnectionLostError', (_, error) => {
    expect(mapDriverError(error, 'use', context)).toBeInstanceOf(ConnectionLostError);
  });

  test('a refused dual-stack localhost (AggregateError, empty message) lists each attempt', () => {
    const aggregate = Object.assign(new Error(''), {
      name: 'AggregateError',
      code: 'ECONNREFUSED',
      errors: [
        systemError('ECONNREFUSED', 'connect ECONNREFUSED ::1:5433'),
        systemError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5433'),
      ],
    });
    const mapped = mapDriverError(aggregate, 'connect', context) as Error;
    expect(mapped).toBeInstanceOf(ConnectionFailedError);
    expect(mapped.message).toContain(
      'connect ECONNREFUSED ::1:5433; connect ECONNREFUSED 127.0.0.1:5433',
    );
  });

  test('in the connect phase every failure is ConnectionFailedError', () => {
    expect(
      mapDriverError(new Error('Connection terminated unexpectedly'), 'connect', context),
    ).toBeInstanceOf(ConnectionFailedError);
    expect(
      mapDriverError(serverError('22023', 'invalid value'), 'connect', context),
    ).toBeInstanceOf(ConnectionFailedError);
  });

  test('the password never appears, even when the driver echoes it', () => {
    const echoing = [
      systemError('ECONNREFUSED', `connect to postgres://app:${SECRET}@db failed`),
      serverError('XX000', `weird: ${SECRET} and ${encodeURIComponent(SECRET)}`),
      systemError('ECONNRESET', `lost ${SECRET}`),
    ];
    for (const error of echoing)
      for (const phase of ['connect', 'use'] as const) {
        const mapped = mapDriverError(error, phase, context) as Error;
        expect(mapped.message).not.toContain(SECRET);
      }
  });

  test('errors that are not the driver’s pass through unchanged in use', () => {
    const mine = new RangeError('a bug in a callback');
    expect(mapDriverError(mine, 'use', context)).toBe(mine);
    const already = new DatabaseError('22012', 'division by zero');
    expect(mapDriverError(already, 'use', context)).toBe(already);
    expect(mapDriverError('a string', 'use', context)).toBe('a string');
    expect(already).toBeInstanceOf(DriverError);
  });
});
