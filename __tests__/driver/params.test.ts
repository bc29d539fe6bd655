import { toTextParam, toTextParams } from '../../src/driver/params';

describe('query parameters become PostgreSQL text', () => {
  test.each([
    ['a string', 'héllo', 'héllo'],
    ['null', null, null],
    ['an integer', 42, '42'],
    ['a fraction', -1.5, '-1.5'],
    ['true', true, 'true'],
    ['false', false, 'false'],
    ['a Date (as UTC ISO)', new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6)), '2024-01-02T03:04:05.006Z'],
    ['an empty array', [], '{}'],
    [
      'an array with NULL, quotes and backslashes',
      ['a', null, 'b"c\\d', 1, true],
      '{"a",NULL,"b\\"c\\\\d","1","true"}',
    ],
    ['JSON text (left alone)', '{"x":[1]}', '{"x":[1]}'],
  ])('%s', (_, value, expected) => {
    expect(toTextParam(value as never, 1)).toBe(expected);
  });

  test('undefined is refused, naming the position', () => {
    expect(() => toTextParams(['a', undefined as never])).toThrow(/\$2 is undefined/);
  });

  test('an invalid Date is refused', () => {
    expect(() => toTextParam(new Date(NaN), 3)).toThrow(/\$3 is an invalid Date/);
  });

  test('objects are refused rather than stringified', () => {
    expect(() => toTextParam({ a: 1 } as never, 1)).toThrow(/\$1: unsupported object/);
  });

  test('no parameters is an empty list', () => {
    expect(toTextParams(undefined)).toEqual([]);
  });
});
