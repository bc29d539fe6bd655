import fc from 'fast-check';
import { InvalidArgumentError } from '../../src/live/errors';
import {
  applicationName,
  freshSchemaName,
  isFreshSchemaName,
  isRunId,
  isRunSchemaName,
  newRunId,
  qualifiedName,
  quoteIdent,
  runIdOfApplicationName,
  runIdOfSchema,
  workerSchemaName,
} from '../../src/live/isolation';
import {
  ledgerLockKey,
  lockKeyOf,
  resetFunctionLockKey,
  schemaLockKey,
} from '../../src/live/lock-keys';

describe('run ids', () => {
  it('are 10 characters of [a-z0-9] and do not repeat', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const id = newRunId();
      expect(id).toMatch(/^[a-z0-9]{10}$/);
      ids.add(id);
    }
    expect(ids.size).toBe(2000);
  });

  it('use every character of the alphabet', () => {
    const seen = new Set(Array.from({ length: 300 }, () => newRunId()).join(''));
    expect(seen.size).toBe(36);
  });

  it('isRunId accepts only the exact shape', () => {
    expect(isRunId('abcdefghij')).toBe(true);
    expect(isRunId('0123456789')).toBe(true);
    for (const bad of [
      'ABCDEFGHIJ',
      'abcdefghi',
      'abcdefghijk',
      'abcde_ghij',
      'abcdefghi\n',
      7,
      null,
    ]) {
      expect(isRunId(bad)).toBe(false);
    }
  });
});

describe('worker schema names', () => {
  it('are user_engine_live_<runId>_<workerId>', () => {
    expect(workerSchemaName('abcdefghij', 1)).toBe('user_engine_live_abcdefghij_1');
    expect(workerSchemaName('abcdefghij', '12')).toBe('user_engine_live_abcdefghij_12');
  });

  it('reject a bad run id or worker id, naming the argument', () => {
    expect(() => workerSchemaName('ABCDEFGHIJ', 1)).toThrow(/invalid runId/);
    expect(() => workerSchemaName('abcdefghij', '01')).toThrow(/invalid workerId/);
    expect(() => workerSchemaName('abcdefghij', -1)).toThrow(/invalid workerId/);
    expect(() => workerSchemaName('abcdefghij', 1.5)).toThrow(/invalid workerId/);
    expect(() => workerSchemaName('abcdefghij', '1; DROP')).toThrow(InvalidArgumentError);
  });

  it('isRunSchemaName is a strict match, not a LIKE pattern', () => {
    expect(isRunSchemaName('user_engine_live_abcdefghij_1')).toBe(true);
    expect(isRunSchemaName('user_engine_live_abcdefghij_999999')).toBe(true);
    for (const bad of [
      'user_engineXlive_abcdefghij_1', // `_` is a LIKE wildcard; not here
      'user_engine_liveXabcdefghij_1',
      'user_engine_live_x',
      'user_engine_live_abcdefghij',
      'user_engine_live_abcdefghij_',
      'user_engine_live_abcdefghij_01',
      'user_engine_live_abcdefghij_1000000',
      'user_engine_live_ABCDEFGHIJ_1',
      'User_engine_live_abcdefghij_1',
      'user_engine_live_abcdefghij_1\n',
      'user_engine_live_abcdefghij_1 ',
      'xuser_engine_live_abcdefghij_1',
      'user_engine_live_abcdefghij_1_2',
      'public',
      '',
    ]) {
      expect(isRunSchemaName(bad)).toBe(false);
    }
    expect(isRunSchemaName(undefined)).toBe(false);
  });

  it('round-trip: every generated name passes, and carries its run id', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z0-9]{10}$/),
        fc.integer({ min: 0, max: 999999 }),
        (runId, worker) => {
          const name = workerSchemaName(runId, worker);
          return isRunSchemaName(name) && runIdOfSchema(name) === runId && name.length <= 63;
        },
      ),
    );
  });

  it('fresh schemas are <worker schema>_f<n>, and nothing looser passes', () => {
    expect(freshSchemaName('abcdefghij', 1, 1)).toBe('user_engine_live_abcdefghij_1_f1');
    expect(freshSchemaName('abcdefghij', '12', 999999)).toBe(
      'user_engine_live_abcdefghij_12_f999999',
    );
    expect(() => freshSchemaName('abcdefghij', 1, 0)).toThrow(/invalid n/);
    expect(() => freshSchemaName('abcdefghij', 1, 1000000)).toThrow(/invalid n/);
    expect(() => freshSchemaName('abcdefghij', 1, 1.5)).toThrow(/invalid n/);
    expect(() => freshSchemaName('abcdefghij', '01', 1)).toThrow(/invalid workerId/);
    expect(() => freshSchemaName('ABCDEFGHIJ', 1, 1)).toThrow(/invalid runId/);
    expect(isRunSchemaName('user_engine_live_abcdefghij_1_f1')).toBe(true);
    expect(isFreshSchemaName('user_engine_live_abcdefghij_1_f1')).toBe(true);
    expect(isFreshSchemaName('user_engine_live_abcdefghij_1')).toBe(false);
    expect(runIdOfSchema('user_engine_live_abcdefghij_0_f7')).toBe('abcdefghij');
    for (const bad of [
      'user_engine_live_abcdefghij_1_f0',
      'user_engine_live_abcdefghij_1_f01',
      'user_engine_live_abcdefghij_1_f',
      'user_engine_live_abcdefghij_1_f1000000',
      'user_engine_live_abcdefghij_1_F1',
      'user_engine_live_abcdefghij_1_f1_f2',
      'user_engine_live_abcdefghij_1_x1',
      'user_engine_live_abcdefghij_f1',
      'user_engine_live_abcdefghij_01_f1',
      'user_engine_live_abcdefghij_1_f1\n',
      'user_engine_live_abcdefghij_1Xf1',
    ]) {
      expect(isRunSchemaName(bad)).toBe(false);
      expect(isFreshSchemaName(bad)).toBe(false);
    }
  });

  it('round-trip: every fresh name passes, carries its run id and fits a PostgreSQL name', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z0-9]{10}$/),
        fc.integer({ min: 0, max: 999999 }),
        fc.integer({ min: 1, max: 999999 }),
        (runId, worker, n) => {
          const name = freshSchemaName(runId, worker, n);
          return isFreshSchemaName(name) && runIdOfSchema(name) === runId && name.length <= 63;
        },
      ),
    );
  });

  it('runIdOfSchema is undefined for anything else', () => {
    expect(runIdOfSchema('user_engineXlive_abcdefghij_1')).toBeUndefined();
    expect(runIdOfSchema('public')).toBeUndefined();
  });
});

describe('quoteIdent', () => {
  it('always double-quotes and doubles embedded quotes', () => {
    expect(quoteIdent('users')).toBe('"users"');
    expect(quoteIdent('Mixed Case')).toBe('"Mixed Case"');
    expect(quoteIdent('a"b')).toBe('"a""b"');
    expect(quoteIdent('"; DROP SCHEMA public CASCADE; --')).toBe(
      '"""; DROP SCHEMA public CASCADE; --"',
    );
    expect(qualifiedName('s"x', 't')).toBe('"s""x"."t"');
  });

  it('rejects what PostgreSQL cannot name', () => {
    expect(() => quoteIdent('')).toThrow(/invalid identifier/);
    expect(() => quoteIdent('a\u0000b')).toThrow(/NUL/);
  });

  it('output is one quoted token for any input: unquoting gives the input back', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }).filter((s) => !s.includes('\u0000')),
        (name) => {
          const quoted = quoteIdent(name);
          const inner = quoted.slice(1, -1);
          // No lone quote inside: every `"` comes in a pair, so the token cannot end early.
          return (
            quoted.startsWith('"') &&
            quoted.endsWith('"') &&
            inner.replace(/""/g, '').indexOf('"') === -1 &&
            inner.replace(/""/g, '"') === name
          );
        },
      ),
    );
  });
});

describe('application names and lock keys', () => {
  it('application_name carries the run id', () => {
    expect(applicationName('abcdefghij')).toBe('user-engine-live:abcdefghij');
    expect(runIdOfApplicationName('user-engine-live:abcdefghij')).toBe('abcdefghij');
    expect(runIdOfApplicationName('user-engine-live:doctor')).toBeUndefined();
    expect(runIdOfApplicationName(null)).toBeUndefined();
    expect(() => applicationName('nope')).toThrow(/invalid runId/);
  });

  it('lock keys are stable non-negative int4 values in distinct namespaces', () => {
    expect(lockKeyOf('abcdefghij')).toBe(lockKeyOf('abcdefghij'));
    // FNV-1a 32 of "a" is 0xe40c292c; masked to 31 bits.
    expect(lockKeyOf('a')).toBe(0xe40c292c & 0x7fffffff);
    fc.assert(
      fc.property(fc.string(), (s) => {
        const k = lockKeyOf(s);
        return Number.isInteger(k) && k >= 0 && k <= 0x7fffffff;
      }),
    );
    const namespaces = new Set([
      resetFunctionLockKey('x').namespace,
      schemaLockKey('x').namespace,
      ledgerLockKey('user_engine_live').namespace,
    ]);
    expect(namespaces.size).toBe(3);
    for (const ns of namespaces) expect(ns).toBeLessThanOrEqual(0x7fffffff);
  });
});
