import fc from 'fast-check';
import { InvalidInputError } from '../../src/store/errors';
import {
  LIMITS,
  compareCodePoints,
  emailKeyOf,
  encodeCursor,
  normalizeDisplayName,
  normalizeEmail,
  normalizeId,
  normalizeLink,
  normalizeListOptions,
  normalizeOutboxQuery,
  normalizePatch,
  normalizeProvider,
  normalizeRevision,
  normalizeStatus,
  normalizeSubject,
  normalizeUpsert,
  normalizeUpsertBatch,
} from '../../src/store/validation';

/** Runs `fn` and returns the InvalidInputError it throws; fails the test if it throws nothing. */
function invalid(fn: () => unknown): InvalidInputError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return error as InvalidInputError;
  }
  throw new Error('expected an InvalidInputError, nothing was thrown');
}

function expectInvalid(fn: () => unknown, field: string, reason: string): void {
  const error = invalid(fn);
  expect({ code: error.code, field: error.field, reason: error.reason }).toEqual({
    code: 'invalid_input',
    field,
    reason,
  });
  expect(error.message).toContain(field);
}

const UUID = '0f8fad5b-d9cb-469f-a165-70867728950e';
/** `n` code points, each outside the BMP, so `.length` is 2n: limits count code points. */
const astral = (n: number) => '\u{1F600}'.repeat(n);
const base64url = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

describe('LIMITS', () => {
  test('are the documented values and frozen', () => {
    expect(LIMITS).toEqual({
      emailMax: 254,
      displayNameMax: 200,
      providerMax: 64,
      subjectMax: 255,
      listDefault: 50,
      listMax: 500,
      outboxDefault: 100,
      outboxMax: 1000,
    });
    expect(Object.isFrozen(LIMITS)).toBe(true);
  });
});

describe('emailKeyOf', () => {
  test.each([
    ['Alice@Example.COM', 'alice@example.com'],
    ['already@lower.case', 'already@lower.case'],
    ['ÄLICE@EXAMPLE.COM', 'Älice@example.com'],
    ['STRASSE@ß.DE', 'strasse@ß.de'],
    ['İ@X.io', 'İ@x.io'],
    ['ΣΊΣΥΦΟΣ@x.io', 'ΣΊΣΥΦΟΣ@x.io'],
    ['Ｆ@x.io', 'Ｆ@x.io'],
    ['[\\]^_`{|}~@x.io', '[\\]^_`{|}~@x.io'],
  ])('%j -> %j (only ASCII A-Z is folded)', (email, key) => {
    expect(emailKeyOf(email)).toBe(key);
  });
});

describe('normalizeEmail', () => {
  test.each([
    ['a@b', 'a@b', 'a@b'],
    ['  Alice@Example.com\t\n', 'Alice@Example.com', 'alice@example.com'],
    ['\u00a0Bob@X.io\u2003', 'Bob@X.io', 'bob@x.io'],
    ['Élodie@Exemple.FR', 'Élodie@Exemple.FR', 'Élodie@exemple.fr'],
    [`${'a'.repeat(252)}@b`, `${'a'.repeat(252)}@b`, `${'a'.repeat(252)}@b`],
    [`${astral(252)}@b`, `${astral(252)}@b`, `${astral(252)}@b`],
  ])('accepts %j as %j with key %j', (input, email, emailKey) => {
    expect(normalizeEmail(input)).toEqual({ email, emailKey });
  });

  test.each<[string, unknown, string]>([
    ['a number', 42, 'not_a_string'],
    ['null', null, 'not_a_string'],
    ['undefined', undefined, 'not_a_string'],
    ['a String object', new String('a@b'), 'not_a_string'],
    ['a lone high surrogate', 'a\uD800@b.io', 'lone_surrogate'],
    ['a lone low surrogate', 'a@b.io\uDC00', 'lone_surrogate'],
    ['a NUL character', 'a\u0000@b.io', 'nul_character'],
    ['an empty string', '', 'empty'],
    ['only whitespace', ' \t\n ', 'empty'],
    ['255 characters', `${'a'.repeat(253)}@b`, 'too_long'],
    ['255 astral code points', `${astral(253)}@b`, 'too_long'],
    ['a control character', 'a\u0007@b.io', 'control_character'],
    ['DEL', 'a\u007f@b.io', 'control_character'],
    ['an inner tab', 'a\tb@c.io', 'control_character'],
    ['a C1 control', 'a\u0085b@c.io', 'control_character'],
    ['an inner space', 'a b@c.io', 'whitespace'],
    ['an inner no-break space', 'a\u00a0b@c.io', 'whitespace'],
    ['an inner em space', 'a@b\u2003c.io', 'whitespace'],
    ['no at sign', 'alice.example.com', 'not_one_at_sign'],
    ['two at signs', 'a@b@c.io', 'not_one_at_sign'],
    ['an empty local part', '@example.com', 'empty_part'],
    ['an empty domain', 'alice@', 'empty_part'],
    ['only an at sign', '@', 'empty_part'],
  ])('rejects %s', (_label, input, reason) => {
    expectInvalid(() => normalizeEmail(input), 'email', reason);
  });

  test('checks the trimmed value against the length limit', () => {
    const email = `${'a'.repeat(252)}@b`;
    expect(normalizeEmail(`   ${email}   `).email).toBe(email);
  });

  test('names the field it was given', () => {
    expectInvalid(() => normalizeEmail('nope', 'patch.email'), 'patch.email', 'not_one_at_sign');
  });
});

describe('normalizeDisplayName', () => {
  test.each([
    ['Alice', 'Alice'],
    ['  Alice Smith \n', 'Alice Smith'],
    ['Zoë 😀', 'Zoë 😀'],
    ['line\nbreak', 'line\nbreak'],
    ['x'.repeat(200), 'x'.repeat(200)],
    [astral(200), astral(200)],
  ])('accepts %j as %j', (input, expected) => {
    expect(normalizeDisplayName(input)).toBe(expected);
  });

  test.each<[string, unknown, string]>([
    ['a number', 1, 'not_a_string'],
    ['null', null, 'not_a_string'],
    ['a lone surrogate', 'Al\uDFFFice', 'lone_surrogate'],
    ['a NUL character', 'Al\u0000ice', 'nul_character'],
    ['an empty string', '', 'empty'],
    ['only whitespace', '   ', 'empty'],
    ['201 characters', 'x'.repeat(201), 'too_long'],
    ['201 astral code points', astral(201), 'too_long'],
  ])('rejects %s', (_label, input, reason) => {
    expectInvalid(() => normalizeDisplayName(input), 'displayName', reason);
  });
});

describe('normalizeStatus', () => {
  test.each(['active', 'suspended'])('accepts %j', (status) => {
    expect(normalizeStatus(status)).toBe(status);
  });

  test.each<unknown>(['Active', 'SUSPENDED', 'deleted', '', ' active', undefined, null, 1])(
    'rejects %j',
    (status) => {
      expectInvalid(() => normalizeStatus(status), 'status', 'unknown_status');
    },
  );
});

describe('normalizeProvider', () => {
  test.each(['google', 'github.com', 'azure-ad_v2', '0', 'a'.repeat(64)])('accepts %j', (p) => {
    expect(normalizeProvider(p)).toBe(p);
  });

  test.each<[unknown, string]>([
    [7, 'not_a_string'],
    ['go\uD800', 'lone_surrogate'],
    ['go\u0000', 'nul_character'],
    ['', 'bad_format'],
    ['a'.repeat(65), 'bad_format'],
    ['Google', 'bad_format'],
    ['my provider', 'bad_format'],
    [' google', 'bad_format'],
    ['a/b', 'bad_format'],
    ['göögle', 'bad_format'],
  ])('rejects %j (%s)', (input, reason) => {
    expectInvalid(() => normalizeProvider(input), 'provider', reason);
  });
});

describe('normalizeSubject', () => {
  test.each([
    ['12345', '12345'],
    [' padded ', ' padded '],
    ['Mixed/Case:αβγ', 'Mixed/Case:αβγ'],
    ['s'.repeat(255), 's'.repeat(255)],
    [astral(255), astral(255)],
  ])('accepts %j unchanged', (input, expected) => {
    expect(normalizeSubject(input)).toBe(expected);
  });

  test.each<[unknown, string]>([
    [12345, 'not_a_string'],
    ['sub\uDBFF', 'lone_surrogate'],
    ['sub\u0000', 'nul_character'],
    ['', 'empty'],
    ['s'.repeat(256), 'too_long'],
    [astral(256), 'too_long'],
  ])('rejects %j (%s)', (input, reason) => {
    expectInvalid(() => normalizeSubject(input), 'subject', reason);
  });
});

describe('normalizeId', () => {
  test.each([
    [UUID, UUID],
    [UUID.toUpperCase(), UUID],
    ['00000000-0000-0000-0000-000000000000', '00000000-0000-0000-0000-000000000000'],
  ])('accepts %j as %j', (input, expected) => {
    expect(normalizeId(input)).toBe(expected);
  });

  test.each<[unknown, string]>([
    [42, 'not_a_string'],
    [`${UUID}\uD800`, 'lone_surrogate'],
    [`${UUID}\u0000`, 'nul_character'],
    ['', 'not_a_uuid'],
    ['not-a-uuid', 'not_a_uuid'],
    [`{${UUID}}`, 'not_a_uuid'],
    [` ${UUID}`, 'not_a_uuid'],
    [UUID.replace(/-/g, ''), 'not_a_uuid'],
    [UUID.replace('0', 'g'), 'not_a_uuid'],
  ])('rejects %j (%s)', (input, reason) => {
    expectInvalid(() => normalizeId(input), 'id', reason);
  });

  test('names the field it was given', () => {
    expectInvalid(() => normalizeId('x', 'userId'), 'userId', 'not_a_uuid');
  });
});

describe('normalizeRevision', () => {
  test.each([1, 2, 1000, Number.MAX_SAFE_INTEGER])('accepts %p', (n) => {
    expect(normalizeRevision(n)).toBe(n);
  });

  test.each<unknown>([0, -1, 1.5, NaN, Infinity, 2 ** 53, '1', null, undefined, 1n])(
    'rejects %p',
    (value) => {
      expectInvalid(() => normalizeRevision(value), 'expectedRevision', 'not_a_positive_integer');
    },
  );
});

describe('normalizeUpsert', () => {
  test('a non-object is not_an_object on the prefix without its final dot', () => {
    expectInvalid(() => normalizeUpsert(null as never), 'input', 'not_an_object');
    expectInvalid(() => normalizeUpsert(7 as never, 'inputs[3].'), 'inputs[3]', 'not_an_object');
    expectInvalid(
      () => normalizeUpsert(7 as never, 'batch.inputs[3].'),
      'batch.inputs[3]',
      'not_an_object',
    );
  });

  test('trims, derives the key and keeps an omitted status undefined', () => {
    expect(normalizeUpsert({ email: ' Ann@X.io ', displayName: ' Ann ' })).toEqual({
      email: 'Ann@X.io',
      emailKey: 'ann@x.io',
      displayName: 'Ann',
      status: undefined,
    });
    expect(normalizeUpsert({ email: 'a@b', displayName: 'A', status: 'suspended' }).status).toBe(
      'suspended',
    );
  });

  test.each<[string, unknown, string, string]>([
    ['null', null, 'input', 'not_an_object'],
    ['a string', 'a@b', 'input', 'not_an_object'],
    ['a bad email', { email: 'x', displayName: 'A' }, 'email', 'not_one_at_sign'],
    ['a missing name', { email: 'a@b' }, 'displayName', 'not_a_string'],
    [
      'a bad status',
      { email: 'a@b', displayName: 'A', status: 'gone' },
      'status',
      'unknown_status',
    ],
    [
      'an explicit null status',
      { email: 'a@b', displayName: 'A', status: null },
      'status',
      'unknown_status',
    ],
  ])('rejects %s', (_label, input, field, reason) => {
    expectInvalid(() => normalizeUpsert(input as never), field, reason);
  });

  test('checks email before displayName before status', () => {
    expectInvalid(
      () => normalizeUpsert({ email: '', displayName: '', status: 'x' } as never),
      'email',
      'empty',
    );
    expectInvalid(
      () => normalizeUpsert({ email: 'a@b', displayName: '', status: 'x' } as never),
      'displayName',
      'empty',
    );
  });

  test('prefixes field names', () => {
    expectInvalid(
      () => normalizeUpsert({ email: 'x', displayName: 'A' }, 'p.'),
      'p.email',
      'not_one_at_sign',
    );
  });
});

describe('normalizeUpsertBatch', () => {
  test('an empty batch is valid', () => {
    expect(normalizeUpsertBatch([])).toEqual([]);
  });

  test('keeps input order', () => {
    const batch = normalizeUpsertBatch([
      { email: 'b@x.io', displayName: 'B' },
      { email: 'a@x.io', displayName: 'A' },
    ]);
    expect(batch.map((n) => n.emailKey)).toEqual(['b@x.io', 'a@x.io']);
  });

  test('rejects a non-array', () => {
    expectInvalid(() => normalizeUpsertBatch({} as never), 'inputs', 'not_an_array');
  });

  test('names the position of a bad item', () => {
    expectInvalid(
      () =>
        normalizeUpsertBatch([
          { email: 'a@x.io', displayName: 'A' },
          { email: 'b@x.io', displayName: 'B' },
          { email: 'c@x.io', displayName: ' ' },
        ]),
      'inputs[2].displayName',
      'empty',
    );
    const error = invalid(() => normalizeUpsertBatch([null as never]));
    expect(error.reason).toBe('not_an_object');
    expect(error.field).toMatch(/^inputs\[0\]/);
  });

  test.each([
    ['the same email', 'a@x.io', 'a@x.io'],
    ['emails differing in ASCII case', 'Ann@X.io', 'ann@x.IO'],
    ['emails differing in surrounding space', 'a@x.io', '  a@x.io '],
  ])('rejects %s as duplicate_in_batch naming both positions', (_label, first, second) => {
    const error = invalid(() =>
      normalizeUpsertBatch([
        { email: first, displayName: 'A' },
        { email: 'other@x.io', displayName: 'O' },
        { email: second, displayName: 'B' },
      ]),
    );
    expect([error.field, error.reason]).toEqual(['inputs[2].email', 'duplicate_in_batch']);
    expect(error.message).toContain('inputs[0]');
  });

  test('emails differing in non-ASCII case are different keys', () => {
    expect(
      normalizeUpsertBatch([
        { email: 'Ä@x.io', displayName: 'A' },
        { email: 'ä@x.io', displayName: 'B' },
      ]),
    ).toHaveLength(2);
  });
});

describe('normalizePatch', () => {
  test('an empty patch normalizes to nothing', () => {
    expect(normalizePatch({})).toEqual({});
    expect(normalizePatch({ email: undefined, displayName: undefined })).toEqual({});
  });

  test('normalizes each given field', () => {
    expect(normalizePatch({ email: ' B@X.io ', displayName: ' B ', status: 'suspended' })).toEqual({
      email: { email: 'B@X.io', emailKey: 'b@x.io' },
      displayName: 'B',
      status: 'suspended',
    });
  });

  test.each<[unknown, string, string]>([
    [null, 'patch', 'not_an_object'],
    [3, 'patch', 'not_an_object'],
    [{ email: 'nope' }, 'patch.email', 'not_one_at_sign'],
    [{ email: null }, 'patch.email', 'not_a_string'],
    [{ displayName: '' }, 'patch.displayName', 'empty'],
    [{ status: 'gone' }, 'patch.status', 'unknown_status'],
  ])('rejects %j', (patch, field, reason) => {
    expectInvalid(() => normalizePatch(patch as never), field, reason);
  });
});

describe('normalizeLink', () => {
  test('normalizes the user id and keeps provider and subject as given', () => {
    expect(
      normalizeLink({ userId: UUID.toUpperCase(), provider: 'github', subject: ' S ' }),
    ).toEqual({ userId: UUID, provider: 'github', subject: ' S ' });
  });

  test.each<[unknown, string, string]>([
    [null, 'input', 'not_an_object'],
    [{ userId: 'x', provider: 'github', subject: 's' }, 'userId', 'not_a_uuid'],
    [{ userId: UUID, provider: 'GitHub', subject: 's' }, 'provider', 'bad_format'],
    [{ userId: UUID, provider: 'github', subject: '' }, 'subject', 'empty'],
  ])('rejects %j', (input, field, reason) => {
    expectInvalid(() => normalizeLink(input as never), field, reason);
  });
});

describe('cursors and normalizeListOptions', () => {
  test('defaults', () => {
    expect(normalizeListOptions()).toEqual({ limit: 50, afterKey: null });
    expect(normalizeListOptions({})).toEqual({ limit: 50, afterKey: null });
    expect(normalizeListOptions({ after: null })).toEqual({ limit: 50, afterKey: null });
  });

  test.each([1, 50, 500])('accepts limit %p', (limit) => {
    expect(normalizeListOptions({ limit }).limit).toBe(limit);
  });

  test.each<unknown>([0, -1, 501, 2.5, NaN, '10', null])('rejects limit %p', (limit) => {
    expectInvalid(() => normalizeListOptions({ limit } as never), 'limit', 'out_of_range');
  });

  test.each(['a@b', 'Ä@x.io', '\u{1F600}@x.io', '\uFFFF@x', 'quote"back\\slash@x'])(
    'a cursor round-trips the key %j',
    (key) => {
      const cursor = encodeCursor(key);
      expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(normalizeListOptions({ after: cursor }).afterKey).toBe(key);
    },
  );

  test('cursors round-trip any well-formed key', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary' }).filter((k) => !k.includes('\u0000')),
        (key) => normalizeListOptions({ after: encodeCursor(key) }).afterKey === key,
      ),
    );
  });

  test.each<[string, unknown]>([
    ['an empty string', ''],
    ['a number', 7],
    ['non-base64url characters', 'abc+/='],
    ['base64url of non-JSON', base64url('not json')],
    ['JSON that is not an object', base64url('"a@b"')],
    ['JSON null', base64url('null')],
    ['another version', base64url(JSON.stringify({ v: 2, k: 'a@b' }))],
    ['a missing key', base64url(JSON.stringify({ v: 1 }))],
    ['a non-string key', base64url(JSON.stringify({ v: 1, k: 5 }))],
    ['a key with a lone surrogate', base64url('{"v":1,"k":"a\\ud800"}')],
    ['a key with NUL', base64url('{"v":1,"k":"a\\u0000"}')],
  ])('rejects a cursor that is %s', (_label, after) => {
    expectInvalid(() => normalizeListOptions({ after } as never), 'after', 'malformed_cursor');
  });

  test('rejects options that are not an object', () => {
    expectInvalid(() => normalizeListOptions(null as never), 'options', 'not_an_object');
  });
});

describe('normalizeOutboxQuery', () => {
  test('defaults', () => {
    expect(normalizeOutboxQuery()).toEqual({ afterSequence: 0, limit: 100 });
    expect(normalizeOutboxQuery({})).toEqual({ afterSequence: 0, limit: 100 });
  });

  test('accepts the bounds', () => {
    expect(normalizeOutboxQuery({ afterSequence: 0, limit: 1 })).toEqual({
      afterSequence: 0,
      limit: 1,
    });
    expect(normalizeOutboxQuery({ afterSequence: 12, limit: 1000 })).toEqual({
      afterSequence: 12,
      limit: 1000,
    });
  });

  test.each<unknown>([-1, 1.5, NaN, '3', 2 ** 53])('rejects afterSequence %p', (value) => {
    expectInvalid(
      () => normalizeOutboxQuery({ afterSequence: value } as never),
      'afterSequence',
      'out_of_range',
    );
  });

  test.each<unknown>([0, 1001, 2.5, '10'])('rejects limit %p', (limit) => {
    expectInvalid(() => normalizeOutboxQuery({ limit } as never), 'limit', 'out_of_range');
  });

  test('rejects a query that is not an object', () => {
    expectInvalid(() => normalizeOutboxQuery(null as never), 'query', 'not_an_object');
  });
});

describe('compareCodePoints', () => {
  test.each([
    ['a', 'a', 0],
    ['', '', 0],
    ['', 'a', -1],
    ['a', 'ab', -1],
    ['b', 'ab', 1],
    ['B', 'a', -1],
    ['z', 'é', -1],
    ['\uFFFF', '\u{1F600}', -1],
    ['\uE000', '\u{10000}', -1],
    ['\u{1F600}', '\u{1F601}', -1],
    ['x\uFFFF', 'x\u{1F600}', -1],
  ])('compare(%j, %j) = %p', (a, b, expected) => {
    expect(compareCodePoints(a, b)).toBe(expected);
    expect(compareCodePoints(b, a)).toBe(-expected || 0);
  });

  test('differs from UTF-16 code-unit order where it must', () => {
    expect('\uFFFF' < '\u{1F600}').toBe(false);
    expect(compareCodePoints('\uFFFF', '\u{1F600}')).toBeLessThan(0);
  });

  test('is lexicographic order on code points for any strings, lone surrogates included', () => {
    const units = fc
      .array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 8 })
      .map((codes) => String.fromCharCode(...codes));
    const anyString = fc.oneof(units, fc.string({ unit: 'binary', maxLength: 8 }));
    const reference = (a: string, b: string): number => {
      const x = Array.from(a, (c) => c.codePointAt(0) as number);
      const y = Array.from(b, (c) => c.codePointAt(0) as number);
      for (let i = 0; i < Math.min(x.length, y.length); i++)
        if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
      return Math.sign(x.length - y.length);
    };
    fc.assert(
      fc.property(anyString, anyString, (a, b) => compareCodePoints(a, b) === reference(a, b)),
      { numRuns: 2000 },
    );
  });
});

describe('the message states the rule that was broken', () => {
  test.each<[string, () => unknown, string]>([
    ['email too long', () => normalizeEmail(`${'a'.repeat(253)}@b`), 'at most 254 characters'],
    ['name too long', () => normalizeDisplayName('x'.repeat(201)), 'at most 200 characters'],
    ['unknown status', () => normalizeStatus('gone'), 'expected active or suspended'],
    ['bad provider', () => normalizeProvider('Google'), '1-64 characters of [a-z0-9._-]'],
    ['subject too long', () => normalizeSubject('s'.repeat(256)), 'at most 255 characters'],
    ['list limit', () => normalizeListOptions({ limit: 501 }), 'an integer from 1 to 500'],
    ['outbox limit', () => normalizeOutboxQuery({ limit: 0 }), 'an integer from 1 to 1000'],
    ['afterSequence', () => normalizeOutboxQuery({ afterSequence: -1 }), 'a non-negative integer'],
  ])('%s', (_name, fn, detail) => {
    const error = invalid(fn);
    expect(error.message).toBe(`invalid ${error.field}: ${error.reason} (${detail})`);
  });
});

describe('non-object and non-string shapes', () => {
  test.each([['x'], [7], [true]])('normalizeLink(%j) is not_an_object on input', (input) => {
    expectInvalid(() => normalizeLink(input as never), 'input', 'not_an_object');
  });

  test('a String object holding a valid cursor is malformed_cursor', () => {
    const after = new String(encodeCursor('a@x.io'));
    expectInvalid(() => normalizeListOptions({ after } as never), 'after', 'malformed_cursor');
  });
});
