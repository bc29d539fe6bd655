import { quoteIdentifier, startupOptions } from '../../src/driver/session-settings';

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
});
