import { describeDsnTarget, parseDsn } from '../../src/driver/dsn';

describe('parseDsn', () => {
  test('reads host, port, database, user and the decoded password', () => {
    expect(parseDsn('postgres://alice:p%40ss@db.example:6543/app')).toEqual({
      host: 'db.example',
      port: 6543,
      database: 'app',
      user: 'alice',
      password: 'p@ss',
    });
  });

  test('fills in libpq defaults', () => {
    const target = parseDsn('postgresql://bob@localhost');
    expect(target).toMatchObject({ host: 'localhost', port: 5432, database: 'bob', user: 'bob' });
    expect(target.password).toBeUndefined();
  });

  test('a Unix socket host is described as a socket path', () => {
    const target = parseDsn('postgres:///test?host=/var/run/postgresql');
    expect(describeDsnTarget(target)).toMatch(
      /^socket \/var\/run\/postgresql\/\.s\.PGSQL\.5432, database "test"/,
    );
  });

  test('IPv6 hosts are bracketed in descriptions', () => {
    expect(describeDsnTarget(parseDsn('postgres://u@[::1]:5433/d'))).toBe(
      '[::1]:5433, database "d", user "u"',
    );
  });

  test.each([
    ['not a URL', 'not a url'],
    ['another scheme', 'mysql://u:s3cr3t-sentinel@h/d'],
  ])('%s is a TypeError without the password', (_, dsn) => {
    expect(() => parseDsn(dsn)).toThrow(TypeError);
    expect(() => parseDsn(dsn)).toThrow(/invalid DSN/);
    expect(() => parseDsn(dsn)).not.toThrow(/s3cr3t-sentinel/);
  });

  test('a bad port is named', () => {
    expect(() => parseDsn('postgres://u:s3cr3t-sentinel@h:0/d')).toThrow(/bad port 0/);
    expect(() => parseDsn('postgres://u:s3cr3t-sentinel@h:0/d')).not.toThrow(/s3cr3t/);
  });

  test('an unparsable DSN is invalid without the password', () => {
    expect(() => parseDsn('postgres://u:s3cr3t-sentinel@h:99999/d')).toThrow(/invalid DSN/);
    expect(() => parseDsn('postgres://u:s3cr3t-sentinel@h:99999/d')).not.toThrow(/s3cr3t/);
  });
});
