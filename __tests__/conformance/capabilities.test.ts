/**
 * The suite's own wiring: which specs a provider's options switch off (and how they are named),
 * the store lifecycle around the specs, and option checking. The registration is observed through
 * a recording `SuiteApi`; one child Jest run confirms real Jest reports the same skips.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  CAPABILITY_NAMES,
  ConformanceOptionsError,
  DEFAULT_TIMEOUT_MS,
  listConformanceSpecs,
  type ConformanceOptions,
  type SpecRequirement,
} from '../../src/conformance';
import { registerConformance, skippedName, type SuiteApi } from '../../src/conformance/register';
import type { UserEngineStore } from '../../src/store/contract';
import { InMemoryUserEngineStore } from '../../src/store/memory/in-memory-store';

type Hook = () => Promise<void>;
type HookKind = 'beforeAll' | 'beforeEach' | 'afterEach' | 'afterAll';

interface Recorded {
  tests: Array<{ path: string[]; name: string; skipped: boolean; timeout?: number }>;
  hooks: Array<{ kind: HookKind; path: string[]; fn: Hook; timeout: number }>;
}

function record(options: ConformanceOptions, name = 'Store'): Recorded {
  const out: Recorded = { tests: [], hooks: [] };
  const path: string[] = [];
  const hook =
    (kind: HookKind) =>
    (fn: Hook, timeout: number): void => {
      out.hooks.push({ kind, path: [...path], fn, timeout });
    };
  const api: SuiteApi = {
    describe(title, fn) {
      path.push(title);
      fn();
      path.pop();
    },
    test: (testName, _fn, timeout) =>
      out.tests.push({ path: [...path], name: testName, skipped: false, timeout }),
    skip: (testName) => out.tests.push({ path: [...path], name: testName, skipped: true }),
    beforeAll: hook('beforeAll'),
    beforeEach: hook('beforeEach'),
    afterEach: hook('afterEach'),
    afterAll: hook('afterAll'),
  };
  registerConformance(name, options, api);
  return out;
}

const memory: ConformanceOptions = {
  createStore: () => new InMemoryUserEngineStore(),
  createFreshStore: async () => ({ store: new InMemoryUserEngineStore(), dispose: async () => {} }),
};

const catalogue = listConformanceSpecs();

function requiring(requirement: SpecRequirement): string[] {
  return catalogue.filter((s) => s.requires.includes(requirement)).map((s) => s.name);
}

function skippedNames(rec: Recorded): string[] {
  return rec.tests.filter((t) => t.skipped).map((t) => t.name);
}

describe('spec catalogue', () => {
  test('holds at least 60 specs', () => {
    expect(catalogue.length).toBeGreaterThanOrEqual(60);
  });

  test('names are unique within each group', () => {
    const full = catalogue.map((s) => `${s.group} › ${s.name}`);
    expect(new Set(full).size).toBe(full.length);
  });

  test.each([...CAPABILITY_NAMES, 'freshStore' as const])('%s gates at least one spec', (req) => {
    expect(requiring(req).length).toBeGreaterThan(0);
  });

  test('covers every group named in the brief', () => {
    expect([...new Set(catalogue.map((s) => s.group))]).toEqual([
      'readiness & migration',
      'upsert',
      'batch upsert',
      'get/find',
      'update',
      'delete',
      'list & pagination',
      'identities',
      'outbox',
      'record counts',
      'transactions & savepoints',
      'validation',
      'every rule on every path',
      'edges',
      'concurrency',
    ]);
  });
});

describe('registration against capabilities', () => {
  test('with every capability and a fresh store nothing is skipped', () => {
    const rec = record(memory);
    expect(skippedNames(rec)).toEqual([]);
    expect(rec.tests.map((t) => t.name)).toEqual(catalogue.map((s) => s.name));
    expect(rec.tests.map((t) => t.path)).toEqual(catalogue.map((s) => ['Store', s.group]));
  });

  test.each(CAPABILITY_NAMES)('%s: false skips exactly the specs that need it', (capability) => {
    const rec = record({ ...memory, capabilities: { [capability]: false } });
    expect(skippedNames(rec)).toEqual(
      requiring(capability).map((n) => `${n} [skipped: store declares ${capability}: false]`),
    );
    expect(rec.tests).toHaveLength(catalogue.length);
  });

  test('without createFreshStore exactly the freshStore specs are skipped', () => {
    const rec = record({ createStore: memory.createStore });
    expect(skippedNames(rec)).toEqual(
      requiring('freshStore').map(
        (n) => `${n} [skipped: no createFreshStore given (capability freshStore)]`,
      ),
    );
  });

  test('an explicit true or undefined capability skips nothing', () => {
    const rec = record({
      ...memory,
      capabilities: { savepoints: true, concurrentWriters: undefined },
    });
    expect(skippedNames(rec)).toEqual([]);
  });

  test('every test gets the default timeout unless one is given', () => {
    expect(new Set(record(memory).tests.map((t) => t.timeout))).toEqual(
      new Set([DEFAULT_TIMEOUT_MS]),
    );
    const custom = record({ ...memory, timeoutMs: 1234 });
    expect(new Set(custom.tests.map((t) => t.timeout))).toEqual(new Set([1234]));
    expect(new Set(custom.hooks.map((h) => h.timeout))).toEqual(new Set([1234]));
  });

  test('skippedName appends the reason in brackets', () => {
    expect(skippedName('rolls back a savepoint', 'store declares savepoints: false')).toBe(
      'rolls back a savepoint [skipped: store declares savepoints: false]',
    );
  });
});

/** Runs the recorded hooks of one kind, in registration order. */
async function run(rec: Recorded, kind: HookKind): Promise<void> {
  for (const h of rec.hooks.filter((x) => x.kind === kind)) await h.fn();
}

describe('store lifecycle', () => {
  test('with reset: created and migrated once, reset before each test, closed once', async () => {
    const store = new InMemoryUserEngineStore();
    const calls: string[] = [];
    const rec = record({
      createStore: () => {
        calls.push('create');
        return store;
      },
      reset: async (s) => {
        expect(s).toBe(store);
        calls.push('reset');
      },
      closeStore: async (s) => {
        expect(s).toBe(store);
        calls.push('close');
      },
    });
    await run(rec, 'beforeAll');
    expect((await store.readiness()).ready).toBe(true);
    for (let i = 0; i < 3; i++) {
      await run(rec, 'beforeEach');
      await run(rec, 'afterEach');
    }
    await run(rec, 'afterAll');
    expect(calls).toEqual(['create', 'reset', 'reset', 'reset', 'close']);
  });

  test('without reset: a new migrated store per test, closed after it', async () => {
    const created: UserEngineStore[] = [];
    const closed: UserEngineStore[] = [];
    const rec = record({
      createStore: async () => {
        const s = new InMemoryUserEngineStore();
        created.push(s);
        return s;
      },
      closeStore: async (s) => void closed.push(s),
    });
    expect(rec.hooks.filter((h) => h.kind === 'beforeAll')).toEqual([]);
    for (let i = 0; i < 2; i++) {
      await run(rec, 'beforeEach');
      expect((await created[i].readiness()).ready).toBe(true);
      await run(rec, 'afterEach');
    }
    expect(closed).toEqual(created);
    expect(created).toHaveLength(2);
  });

  test('without closeStore the store is closed with store.close()', async () => {
    const store = new InMemoryUserEngineStore();
    const close = jest.spyOn(store, 'close');
    const rec = record({ createStore: () => store });
    await run(rec, 'beforeEach');
    await run(rec, 'afterEach');
    expect(close).toHaveBeenCalledTimes(1);
  });
});

describe('option checking', () => {
  test.each<[string, string, unknown]>([
    ['a missing createStore', 'options.createStore', {}],
    ['a non-function reset', 'options.reset', { createStore: () => null, reset: 5 }],
    [
      'an unknown capability',
      'options.capabilities.tx',
      { createStore: () => null, capabilities: { tx: true } },
    ],
    [
      'a non-boolean capability',
      'options.capabilities.savepoints',
      { createStore: () => null, capabilities: { savepoints: 'no' } },
    ],
    ['a zero timeout', 'options.timeoutMs', { createStore: () => null, timeoutMs: 0 }],
  ])('%s is rejected naming %s', (_label, setting, options) => {
    expect(() => record(options as ConformanceOptions)).toThrow(ConformanceOptionsError);
    expect(() => record(options as ConformanceOptions)).toThrow(
      expect.objectContaining({ setting }),
    );
  });

  test('an empty suite name is rejected', () => {
    expect(() => record(memory, ' ')).toThrow(expect.objectContaining({ setting: 'name' }));
  });
});

interface JestJson {
  numTotalTests: number;
  testResults: Array<{ assertionResults: Array<{ title: string; status: string }> }>;
}

describe('under real Jest', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'conformance-capabilities-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('switched-off capabilities are reported as skipped tests with the reason', () => {
    const root = resolve(__dirname, '../..');
    writeFileSync(
      join(dir, 'skips.test.js'),
      `const { runStoreConformance } = require(${JSON.stringify(join(root, 'src/conformance'))});
const { InMemoryUserEngineStore } = require(${JSON.stringify(join(root, 'src/store/memory/in-memory-store'))});
runStoreConformance('Child', {
  createStore: () => new InMemoryUserEngineStore(),
  capabilities: { savepoints: false, concurrentWriters: false },
});
`,
    );
    const config = {
      rootDir: root,
      roots: [dir],
      testMatch: ['**/skips.test.js'],
      testEnvironment: 'node',
      transform: {
        '^.+\\.ts$': ['ts-jest', { tsconfig: join(root, 'tsconfig.json'), diagnostics: false }],
      },
    };
    const child = spawnSync(
      process.execPath,
      [require.resolve('jest/bin/jest'), '--ci', '--json', '--config', JSON.stringify(config)],
      { cwd: root, encoding: 'utf8', timeout: 150_000 },
    );
    expect(child.error).toBeUndefined();
    let report: JestJson;
    try {
      report = JSON.parse(child.stdout) as JestJson;
    } catch {
      throw new Error(`child jest printed no JSON report; its stderr:\n${child.stderr}`);
    }
    const results = report.testResults.flatMap((r) => r.assertionResults);
    const skipped = results.filter((r) => r.status === 'pending').map((r) => r.title);
    const expected = catalogue.flatMap((s) => {
      const missing = s.requires.map((req) =>
        req === 'freshStore'
          ? 'no createFreshStore given (capability freshStore)'
          : `store declares ${req}: false`,
      );
      return missing.length ? [`${s.name} [skipped: ${missing.join('; ')}]`] : [];
    });
    expect(skipped).toEqual(expected);
    expect(report.numTotalTests).toBe(catalogue.length);
  }, 180_000);
});
