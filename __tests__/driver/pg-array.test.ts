import { parseArrayLiteral, postgresJsArrayTypes } from '../../src/driver/pg-array';
import { createConnection } from '../../src/driver';
import { describeLive, liveDsn } from '../postgres/support';

describe('parseArrayLiteral', () => {
  test.each<[string, unknown]>([
    ['{}', []],
    ['{1,2,3}', ['1', '2', '3']],
    ['{NULL,null,"NULL"}', [null, null, 'NULL']],
    ['{"a b","q\\"x","back\\\\slash",","}', ['a b', 'q"x', 'back\\slash', ',']],
    [
      '{{1,2},{3,4}}',
      [
        ['1', '2'],
        ['3', '4'],
      ],
    ],
    ['[0:1]={7,8}', ['7', '8']],
    ['{"{not nested}"}', ['{not nested}']],
  ])('%s', (literal, expected) => {
    expect(parseArrayLiteral(literal)).toEqual(expected);
  });

  test('rejects what is not an array literal', () => {
    expect(() => parseArrayLiteral('1,2')).toThrow(SyntaxError);
  });

  test('element parsers match pg: int4 numbers, int8 strings, bool, jsonb', () => {
    const types = Object.values(postgresJsArrayTypes());
    const byOid = (oid: number) => types.find((t) => t.from.includes(oid))!;
    expect(byOid(1007).parse('{1,NULL,-3}')).toEqual([1, null, -3]);
    expect(byOid(1016).parse('{9007199254740993}')).toEqual(['9007199254740993']);
    expect(byOid(1000).parse('{t,f}')).toEqual([true, false]);
    expect(byOid(3807).parse('{"{\\"a\\": 1}"}')).toEqual([{ a: 1 }]);
  });
});

describeLive('arrays read the same through both drivers (live)', () => {
  test('int4[], text[], bool[], int8[], nested and NULLs', async () => {
    const sql = `SELECT ARRAY[1, 2] AS ints, ARRAY['a b', 'c"d', NULL] AS texts,
                        ARRAY[true, false] AS bools, ARRAY[9007199254740993]::int8[] AS bigs,
                        ARRAY[[1, 2], [3, 4]] AS grid, '{}'::int4[] AS empty`;
    const results = [];
    for (const driver of ['pg', 'postgres'] as const) {
      const conn = await createConnection(liveDsn(), { driver, max: 1 });
      try {
        results.push((await conn.query(sql)).rows[0]);
      } finally {
        await conn.close();
      }
    }
    expect(results[0]).toEqual({
      ints: [1, 2],
      texts: ['a b', 'c"d', null],
      bools: [true, false],
      bigs: ['9007199254740993'],
      grid: [
        [1, 2],
        [3, 4],
      ],
      empty: [],
    });
    expect(results[1]).toEqual(results[0]);
  });
});
