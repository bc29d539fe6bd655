import {
  parseStartupOptions,
  quoteIdentifier,
  setLocalStatements,
  startupOptions,
  validateSessionSettings,
} from '../../src/driver/session-settings';

describe('session settings', () => {
  test('identifiers are double-quoted with embedded quotes doubled', () => {
    expect(quoteIdentifier('ue_test_1')).toBe('"ue_test_1"');
    expect(quoteIdentifier('we"ird name')).toBe('"we""ird name"');
  });

  test('startup options escape spaces and backslashes of values', () => {
    expect(startupOptions({ search_path: '"a b\\c"' })).toBe('-c search_path="a\\ b\\\\c"');
    expect(startupOptions({ search_path: '"x"', statement_timeout: '5' })).toBe(
      '-c search_path="x" -c statement_timeout=5',
    );
  });

  test('libpq options parse into settings, escapes undone', () => {
    expect(parseStartupOptions('-c work_mem=5MB  -clock_timeout=1s --statement-timeout=0')).toEqual(
      {
        work_mem: '5MB',
        lock_timeout: '1s',
        statement_timeout: '0',
      },
    );
    expect(parseStartupOptions('-c search_path=a\\ b,c -c x.y=back\\\\slash')).toEqual({
      search_path: 'a b,c',
      'x.y': 'back\\slash',
    });
    // What startupOptions writes, parseStartupOptions reads back.
    const settings = { search_path: '"a b\\c"', 'my.flag': 'on' };
    expect(parseStartupOptions(startupOptions(settings))).toEqual(settings);
    expect(parseStartupOptions(undefined)).toEqual({});
  });

  test.each(['-d 5', '-c', '-c =1', '-c 1x=2', 'work_mem=5MB'])(
    'options %j are refused: only settings can be bound',
    (text) => {
      expect(() => parseStartupOptions(text)).toThrow(/only settings can be passed in options/);
    },
  );

  test('sessionSettings: names checked, own options refused, values must be strings', () => {
    expect(validateSessionSettings({ lock_timeout: '1s', 'ext.flag': 'on' })).toEqual({
      lock_timeout: '1s',
      'ext.flag': 'on',
    });
    expect(() => validateSessionSettings({ 'bad name': '1' })).toThrow(
      /not a PostgreSQL setting name/,
    );
    expect(() => validateSessionSettings({ 'x; DROP': '1' })).toThrow(
      /not a PostgreSQL setting name/,
    );
    expect(() => validateSessionSettings({ search_path: 'x' })).toThrow(/options\.schema/);
    expect(() => validateSessionSettings({ statement_timeout: '1' })).toThrow(/statementTimeoutMs/);
    expect(() => validateSessionSettings({ work_mem: 5 })).toThrow(/must be a string/);
    expect(() => validateSessionSettings(['x'])).toThrow(/must be an object/);
  });

  test('SET LOCAL of a default_transaction_* setting also sets the running transaction', () => {
    expect(setLocalStatements({ default_transaction_isolation: 'serializable' })).toBe(
      `SET LOCAL default_transaction_isolation = 'serializable'; SET LOCAL transaction_isolation = 'serializable'`,
    );
  });

  test('SET LOCAL statements quote values as literals and keep the quoted search_path', () => {
    expect(setLocalStatements({ lock_timeout: "1's", search_path: '"my ""s"""' })).toBe(
      `SET LOCAL lock_timeout = '1''s'; SET LOCAL search_path = "my ""s"""`,
    );
  });
});
