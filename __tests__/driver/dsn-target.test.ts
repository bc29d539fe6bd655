import { userInfo } from 'node:os';
import { describeDsnTarget, parseDsn } from '../../src/driver/dsn-target';

describe('parseDsn', () => {
  test('reads host, port, database, user and the decoded password', () => {
    expect(parseDsn('postgres://alice:p%40ss@db.example:6543/app')).toEqual({
      host: 'db.example',
      port: 6543,
      database: 'app',
      user: 'alice',
      password: 'p@ss',
      options: undefined,
      applicationName: undefined,
      sslmode: 'prefer',
      sslrootcert: undefined,
      sslcert: undefined,
      sslkey: undefined,
      connectTimeoutSeconds: undefined,
    });
  });

  test('fills in libpq defaults', () => {
    const target = parseDsn('postgresql://bob@localhost');
    expect(target).toMatchObject({ host: 'localhost', port: 5432, database: 'bob', user: 'bob' });
    expect(target.password).toBeUndefined();
  });

  test('reads every supported query parameter, percent-decoded', () => {
    const target = parseDsn(
      'postgres://u@h:1/d?port=6543&options=-c%20work_mem%3D5MB+-c+lock_timeout=1s&application_name=a%20b' +
        '&sslmode=verify-full&sslrootcert=/c/ca.pem&sslcert=/c/c.pem&sslkey=/c/k.pem&connect_timeout=7' +
        '&user=v&password=p%26w&dbname=other',
    );
    expect(target).toEqual({
      host: 'h',
      port: 6543,
      database: 'other',
      user: 'v',
      password: 'p&w',
      options: '-c work_mem=5MB -c lock_timeout=1s',
      applicationName: 'a b',
      sslmode: 'verify-full',
      sslrootcert: '/c/ca.pem',
      sslcert: '/c/c.pem',
      sslkey: '/c/k.pem',
      connectTimeoutSeconds: 7,
    });
  });

  test('database names are percent-decoded; a lone % is literal', () => {
    expect(parseDsn('postgres://u@h/my%20db%25').database).toBe('my db%');
    expect(parseDsn('postgres://u@h/t%C3%ABst').database).toBe('tëst');
    expect(parseDsn('postgres://u@h/te%st').database).toBe('te%st');
    expect(() => parseDsn('postgres://u@h/%E0%A4%A')).toThrow(/not valid UTF-8/);
  });

  test('a socket directory in the host part or in ?host=', () => {
    expect(parseDsn('postgres://u@%2Fvar%2Frun%2Fpostgresql:5433/d')).toMatchObject({
      host: '/var/run/postgresql',
      port: 5433,
    });
    expect(parseDsn('postgres://u@/d?host=/tmp&port=5434')).toMatchObject({
      host: '/tmp',
      port: 5434,
    });
  });

  test('no PG* variable or $USER fills in what the DSN leaves out', () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      PGHOST: 'wrong-host',
      PGPORT: '1',
      PGUSER: 'wrong_user',
      PGDATABASE: 'wrong_db',
      PGPASSWORD: 'wrong',
      PGSSLMODE: 'verify-full',
      PGOPTIONS: '-c work_mem=1MB',
      PGAPPNAME: 'wrong',
      USER: 'wrong_user',
    });
    try {
      const target = parseDsn('postgres://');
      expect(target).toMatchObject({
        host: 'localhost',
        port: 5432,
        password: undefined,
        options: undefined,
        applicationName: undefined,
        sslmode: 'prefer',
      });
      const osUser = userInfo().username;
      expect(target.user).toBe(osUser);
      expect(target.database).toBe(osUser);
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
    }
  });

  test.each([
    ['ssl', 'postgres://u@h/d?ssl=true', /unsupported DSN parameter "ssl".*sslmode=require/],
    ['target_session_attrs', 'postgres://u@h/d?target_session_attrs=any', /"target_session_attrs"/],
    ['channel_binding', 'postgres://u@h/d?channel_binding=require', /"channel_binding"/],
    ['sslmode=no-verify', 'postgres://u@h/d?sslmode=no-verify', /sslmode=no-verify.*"require"/],
    ['a host list', 'postgres://u@h1,h2/d', /host lists are not supported/],
    ['a host list in ?host=', 'postgres://u@/d?host=a,b', /host lists are not supported/],
    [
      'TLS over a socket',
      'postgres://u@/d?host=/tmp&sslmode=require',
      /cannot protect a Unix socket/,
    ],
    ['a bad ?port=', 'postgres://u@h/d?port=70000', /bad port 70000 \(in \?port=\)/],
  ])('%s is refused, naming it', (_, dsn, message) => {
    expect(() => parseDsn(dsn)).toThrow(TypeError);
    expect(() => parseDsn(dsn)).toThrow(message);
  });

  test('a refused parameter never shows the password', () => {
    expect(() => parseDsn('postgres://u:s3cr3t-sentinel@h/d?pgbouncer=true')).toThrow(
      /unsupported DSN parameter "pgbouncer"/,
    );
    expect(() => parseDsn('postgres://u:s3cr3t-sentinel@h/d?pgbouncer=true')).not.toThrow(/s3cr3t/);
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
    expect(() => parseDsn('postgres://u:s3cr3t-sentinel@h:99999/d')).toThrow(/bad port 99999/);
    expect(() => parseDsn('postgres://u:s3cr3t-sentinel@h:99999/d')).not.toThrow(/s3cr3t/);
  });
});
