/**
 * The preset's pure parts, from source (no database, no build): server checks, the realm bridge,
 * describeLive's skip stand-in, store factory resolution, the preset's paths.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vm from 'vm';
import { DatabaseError } from '../../src/driver/errors';
import type { Connection, QueryParam } from '../../src/driver/port';
import { describeLive, LiveSkippedError } from '../../src/index';
import type { LiveContext } from '../../src/jest/test/live-context';
import { LiveRequiredError } from '../../src/jest/test/live-required-error';
import { liveTestCount } from '../../src/jest/handoff';
import { adoptError, adoptValue, bridgeConnection } from '../../src/jest/worker/realm';
import { checkServer, MIN_SERVER_VERSION_NUM } from '../../src/live/server-check';
import { resolveStoreFactory } from '../../src/live/store-factory-path';

const REPO = path.resolve(__dirname, '..', '..');

describe('checkServer', () => {
  const ok = { database: 'ue_ci', versionNum: 150004, version: '15.4' };

  test('accepts the acknowledged database on a supported server', () => {
    expect(checkServer(ok, 'ue_ci')).toBeUndefined();
    expect(checkServer({ ...ok, versionNum: MIN_SERVER_VERSION_NUM }, 'ue_ci')).toBeUndefined();
  });

  test('refuses a connected database other than USER_ENGINE_LIVE_RESET, naming both', () => {
    const error = checkServer({ ...ok, database: 'prod' }, 'ue_ci');
    expect(error).toMatchObject({
      code: 'reset_database_mismatch',
      setting: 'USER_ENGINE_LIVE_RESET',
    });
    expect(error?.message).toContain('USER_ENGINE_LIVE_RESET="ue_ci"');
    expect(error?.message).toContain('"prod"');
    expect(error?.message).toContain('nothing was written');
  });

  test('refuses PostgreSQL 12 with the version named', () => {
    const error = checkServer({ ...ok, versionNum: 120017, version: '12.17' }, 'ue_ci');
    expect(error).toMatchObject({ code: 'server_too_old' });
    expect(error?.message).toContain('PostgreSQL 12.17');
  });

  test('refuses an unreadable version rather than guessing', () => {
    expect(checkServer({ ...ok, versionNum: Number.NaN }, 'ue_ci')).toMatchObject({
      code: 'server_too_old',
    });
  });
});

describe('realm bridge', () => {
  const foreign = vm.runInNewContext(`({
    date: new Date(86400000),
    row: { id: 'a', at: new Date(0), payload: { list: [1, { b: new Date(1000) }] } },
    error: Object.assign(new Error('boom'), { name: 'DatabaseError', code: 'database_error', sqlState: '23505' }),
    typeError: new TypeError('bad'),
  })`) as { date: Date; row: Record<string, unknown>; error: Error; typeError: Error };

  test('the values really are foreign', () => {
    expect(foreign.date instanceof Date).toBe(false);
    expect(foreign.error instanceof Error).toBe(false);
  });

  test('dates, arrays and plain objects are re-created in this realm', () => {
    const date = adoptValue(foreign.date);
    expect(date).toBeInstanceOf(Date);
    expect((date as Date).getTime()).toBe(86400000);
    const row = adoptValue(foreign.row) as { at: Date; payload: { list: [number, { b: Date }] } };
    expect(row.at).toBeInstanceOf(Date);
    expect(row.payload.list).toBeInstanceOf(Array);
    expect(row.payload.list[1].b).toBeInstanceOf(Date);
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect(row).toStrictEqual({
      id: 'a',
      at: new Date(0),
      payload: { list: [1, { b: new Date(1000) }] },
    });
  });

  test("driver errors become this realm's class of the same name, fields kept", () => {
    const error = adoptError(foreign.error);
    expect(error).toBeInstanceOf(DatabaseError);
    expect(error).toMatchObject({ message: 'boom', code: 'database_error', sqlState: '23505' });
    expect(adoptError(foreign.typeError)).toBeInstanceOf(TypeError);
  });

  test('values and errors of this realm pass through untouched', () => {
    const error = new DatabaseError('23505', 'dup');
    expect(adoptError(error)).toBe(error);
    expect(adoptValue('text')).toBe('text');
    const buffer = Buffer.from('x');
    expect(adoptValue(buffer)).toBe(buffer);
  });

  test('bridgeConnection adopts params one way and rows and errors the other', async () => {
    const seen: (readonly QueryParam[] | undefined)[] = [];
    const inner: Connection = {
      driver: 'pg',
      schema: 's',
      query: async <Row>(_sql: string, params?: readonly QueryParam[]) => {
        seen.push(params);
        if (params?.[0] === 'fail') throw foreign.error;
        return { rows: [foreign.row as Row], rowCount: 1 };
      },
      transaction: async (fn) => fn({ query: inner.query, savepoint: (f) => f(inner as never) }),
      close: async () => {
        throw new Error('must not be forwarded');
      },
    };
    const outbound = bridgeConnection(inner, 'worker');
    const sandboxDate = vm.runInNewContext('new Date(5)') as Date;
    await outbound.query('SELECT 1', [sandboxDate]);
    expect(seen[0]?.[0]).toBeInstanceOf(Date);

    const inbound = bridgeConnection(inner, 'sandbox');
    const { rows } = await inbound.query<{ at: Date }>('SELECT 1');
    expect(rows[0].at).toBeInstanceOf(Date);
    await expect(inbound.query('SELECT 1', ['fail'])).rejects.toBeInstanceOf(DatabaseError);
    const inTx = await inbound.transaction((scope) => scope.query<{ at: Date }>('SELECT 1'));
    expect(inTx.rows[0].at).toBeInstanceOf(Date);
    await expect(inbound.close()).resolves.toBeUndefined();
    expect(inbound.schema).toBe('s');
  });
});

describe('describeLive', () => {
  type Block = () => void;
  interface FakeDescribe {
    (name: string, fn: Block): void;
    skip(name: string, fn: Block): void;
  }

  interface FakeSandbox {
    /** USER_ENGINE_LIVE_REQUIRED as the test file would see it (default: unset). */
    required?: string;
    /** The run state globalSetup leaves for a live run (default: none). */
    runState?: string;
    /** What `expect.getState().testPath` says. */
    testPath?: string;
  }

  /**
   * Runs `body` with fake `describe`, `beforeEach` and `expect` globals and the given live global
   * and environment; the fakes record their calls (hooks run at once, as if a test started).
   */
  function withFakeDescribe(live: unknown, body: () => void, sandbox: FakeSandbox = {}): string[] {
    const calls: string[] = [];
    const fake = Object.assign((name: string, fn: Block) => (calls.push(`run ${name}`), fn()), {
      skip: (name: string, fn: Block) => (calls.push(`skip ${name}`), fn()),
    }) as FakeDescribe;
    const fakeBeforeEach = (fn: () => void) => (calls.push('beforeEach'), fn());
    const fakeExpect = { getState: () => ({ testPath: sandbox.testPath }) };
    const holder = globalThis as unknown as Record<string, unknown>;
    const keys = ['describe', 'beforeEach', 'expect', 'userEngineLive'] as const;
    const saved = keys.map((key) => holder[key]);
    const savedEnv = {
      required: process.env.USER_ENGINE_LIVE_REQUIRED,
      run: process.env.USER_ENGINE_LIVE_RUN,
    };
    const setEnv = (name: string, value: string | undefined) => {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    };
    setEnv('USER_ENGINE_LIVE_REQUIRED', sandbox.required);
    setEnv('USER_ENGINE_LIVE_RUN', sandbox.runState);
    Object.assign(holder, {
      describe: fake,
      beforeEach: fakeBeforeEach,
      expect: fakeExpect,
      userEngineLive: live,
    });
    try {
      body();
    } finally {
      keys.forEach((key, i) => (holder[key] = saved[i]));
      setEnv('USER_ENGINE_LIVE_REQUIRED', savedEnv.required);
      setEnv('USER_ENGINE_LIVE_RUN', savedEnv.run);
    }
    return calls;
  }

  test('live off: describe.skip, and the stand-in throws naming the property and the reason', () => {
    let standIn: LiveContext | undefined;
    const calls = withFakeDescribe(
      { enabled: false, reason: 'USER_ENGINE_LIVE_DSN is not set' },
      () => describeLive('block', (live) => (standIn = live)),
    );
    expect(calls).toEqual(['skip block']);
    expect(() => standIn!.store).toThrow(LiveSkippedError);
    expect(() => standIn!.reset).toThrow(/userEngineLive\.reset .*USER_ENGINE_LIVE_DSN is not set/);
    // An accidental await or inspection does not explode.
    expect((standIn as unknown as { then?: unknown }).then).toBeUndefined();
  });

  test('no preset at all: skipped with a reason naming the preset', () => {
    let standIn: LiveContext | undefined;
    withFakeDescribe(undefined, () => describeLive('block', (live) => (standIn = live)));
    expect(() => standIn!.store).toThrow(/preset "@user-engine\/jest-live"/);
  });

  test('live on: a plain describe fed with the live context, counting its tests', () => {
    const live = { enabled: true, schema: 'user_engine_live_abc_1' };
    let seen: unknown;
    const before = liveTestCount(globalThis);
    const calls = withFakeDescribe(live, () => describeLive('block', (l) => (seen = l)));
    // The block's first hook counts each test that starts live (the fake runs it once).
    expect(calls).toEqual(['run block', 'beforeEach']);
    expect(seen).toBe(live);
    expect(liveTestCount(globalThis)).toBe(before + 1);
  });

  describe('USER_ENGINE_LIVE_REQUIRED=1 and no live context', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ue-docblock-'));
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
    const file = (name: string, text: string) => {
      fs.writeFileSync(path.join(dir, name), text);
      return path.join(dir, name);
    };
    const thrown = (sandbox: FakeSandbox, live?: unknown): LiveRequiredError => {
      let error: unknown;
      const calls = withFakeDescribe(
        live,
        () => {
          try {
            describeLive('block', () => undefined);
          } catch (caught) {
            error = caught;
          }
        },
        { required: '1', ...sandbox },
      );
      expect(calls).toEqual([]); // nothing declared: the file fails instead
      expect(error).toBeInstanceOf(LiveRequiredError);
      return error as LiveRequiredError;
    };

    test('a @jest-environment docblock is named as the cause', () => {
      const testPath = file('a.test.js', '/**\n * @jest-environment node\n */\ntest();\n');
      const error = thrown({ testPath, runState: '{}' });
      expect(error.code).toBe('live_environment_inactive');
      expect(error.setting).toBe('USER_ENGINE_LIVE_REQUIRED');
      expect(error.message).toContain(`describeLive("block") in ${testPath}`);
      expect(error.message).toContain('docblock `@jest-environment node`');
    });

    test('a /* */ leading comment counts as a docblock, a later one does not', () => {
      const plain = file('b.test.js', '/* @jest-environment jsdom */\n');
      expect(thrown({ testPath: plain }).message).toContain('`@jest-environment jsdom`');
      const late = file('c.test.js', 'test();\n/** @jest-environment node */\n');
      expect(thrown({ testPath: late }).message).not.toContain('@jest-environment node');
    });

    test('a live run without this file in the preset environment: the testEnvironment setting', () => {
      const error = thrown({ runState: '{"runId":"x"}' });
      expect(error.message).toContain("runs in a test environment other than the preset's");
      expect(error.message).toContain('Fix: remove `testEnvironment`');
    });

    test('no live run at all: the preset is not in use', () => {
      const error = thrown({ testPath: path.join(dir, 'missing.test.js') });
      expect(error.message).toContain("the preset's test environment is not active here");
      expect(error.message).toContain("Fix: add `preset: '@user-engine/jest-live'`");
    });

    test('REQUIRED off (or malformed, which fails the run elsewhere): silent skip', () => {
      for (const required of [undefined, '0', 'false', 'yes']) {
        const calls = withFakeDescribe(undefined, () => describeLive('block', () => undefined), {
          required,
        });
        expect(calls).toEqual(['skip block']);
      }
    });

    test('a disabled live context (the preset skipping) is never escalated here', () => {
      const calls = withFakeDescribe(
        { enabled: false, reason: 'USER_ENGINE_LIVE_DSN is not set' },
        () => describeLive('block', () => undefined),
        { required: '1' },
      );
      expect(calls).toEqual(['skip block']);
    });
  });

  test('importing the entry point loads no driver and no store', () => {
    const loaded = Object.keys(require.cache).filter((file) =>
      /[\\/]node_modules[\\/](pg|postgres)[\\/]/.test(file),
    );
    expect(loaded).toEqual([]);
  });
});

describe('resolveStoreFactory', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ue-factory-'));
  fs.mkdirSync(path.join(root, 'test'));
  fs.writeFileSync(path.join(root, 'test', 'factory.ts'), 'export {};');
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  test('undefined means the built-in store', () => {
    expect(resolveStoreFactory(undefined, root, ['js'])).toBeUndefined();
  });

  test.each(['./test/factory.ts', './test/factory', '<rootDir>/test/factory', 'test/factory.ts'])(
    '%s resolves from rootDir, trying the module file extensions',
    (spec) => {
      expect(resolveStoreFactory(spec, root, ['js', 'ts'])).toBe(
        path.join(root, 'test', 'factory.ts'),
      );
    },
  );

  test('a missing module names the option and the path', () => {
    expect(() => resolveStoreFactory('./nope', root, ['js'])).toThrow(
      /testEnvironmentOptions\.userEngineLive\.storeFactory="\.\/nope" cannot be resolved/,
    );
  });
});

describe('jest-preset.js', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const preset = require(path.join(REPO, 'jest-preset.js')) as Record<string, unknown>;

  test('points at compiled files under dist/jest', () => {
    expect(preset).toEqual({
      testEnvironment: path.join(REPO, 'dist', 'jest', 'worker', 'environment.js'),
      globalSetup: path.join(REPO, 'dist', 'jest', 'parent', 'global-setup.js'),
      globalTeardown: path.join(REPO, 'dist', 'jest', 'parent', 'global-teardown.js'),
      setupFilesAfterEnv: [path.join(REPO, 'dist', 'jest', 'test', 'setup-store.js')],
    });
  });

  test('every entry has a source module that the build compiles', () => {
    for (const file of [
      'worker/environment',
      'parent/global-setup',
      'parent/global-teardown',
      'test/setup-store',
    ]) {
      expect(fs.existsSync(path.join(REPO, 'src', 'jest', `${file}.ts`))).toBe(true);
    }
  });
});
