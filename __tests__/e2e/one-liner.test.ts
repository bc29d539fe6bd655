/**
 * `runStoreConformance(name, factory)`, the one line of a provider test file, in a provider
 * project with nothing but the preset: the whole shared suite runs live (readiness/migration specs
 * included, on fresh schemas from the same factory), a factory that opens its own client gets a
 * usable `{ dsn, schema, driver }` and every client it opens is closed, capabilities declared on
 * the factory skip exactly their specs with the reason, and without a DSN everything skips.
 */
import {
  assertBuilt,
  describeRun,
  prepareProject,
  removeProjects,
  runJest,
  SENTINEL_PASSWORD,
  titles,
} from './support/harness';
import { listConformanceSpecs } from '../../src/conformance';
import { createTestDatabase, describeWithDatabase, type TestDatabase } from '../support/database';

jest.setTimeout(300_000);

const BLOCKS = ['store on the given connection', 'store on its own client', 'single-writer store'];

describeWithDatabase('runStoreConformance(name, factory) in a provider project', () => {
  let db: TestDatabase;
  let project: string;

  beforeAll(async () => {
    assertBuilt();
    db = await createTestDatabase('oneliner', { prefix: 'ue_ergo_' });
    project = prepareProject('oneliner');
  });
  afterAll(async () => {
    removeProjects();
    await db?.drop();
  });

  test('live under REQUIRED: the full suite for each factory, nothing left behind', async () => {
    const run = await runJest(project, {
      env: db.liveEnv({ USER_ENGINE_LIVE_REQUIRED: '1' }),
      timeoutMs: 280_000,
    });
    if (run.code !== 0 || !run.json?.success) throw new Error(describeRun(run));
    expect(run.json.numTotalTestSuites).toBe(3);
    const passed = titles(run, 'passed');
    for (const block of BLOCKS) {
      const readiness = passed.filter((name) => name.startsWith(`${block} readiness & migration`));
      expect({ block, readiness: readiness.length >= 24 }).toEqual({ block, readiness: true });
      expect({ block, all: passed.filter((n) => n.startsWith(block)).length > 200 }).toEqual({
        block,
        all: true,
      });
    }
    expect(passed).toContain('the factory was called for the worker schema and for fresh schemas');
    // Exactly the specs needing concurrent writers are skipped, and only for the single-writer
    // store, each naming the capability.
    const needWriters = listConformanceSpecs()
      .filter((spec) => spec.requires.includes('concurrentWriters'))
      .map(
        (spec) =>
          `single-writer store ${spec.group} ${spec.name} [skipped: store declares concurrentWriters: false]`,
      );
    expect(needWriters.length).toBeGreaterThan(5);
    expect(titles(run, 'pending').sort()).toEqual(needWriters.sort());
    expect(run.allOutput).not.toContain(SENTINEL_PASSWORD);
    expect(await db.leftovers()).toEqual({ runSchemas: [], ledgerRows: 0, backends: 0 });
  });

  test('without a DSN: every spec is skipped, silently', async () => {
    const run = await runJest(project, {});
    if (run.code !== 0) throw new Error(describeRun(run));
    expect(run.json?.numPassedTests).toBe(0);
    expect(run.json?.numPendingTests).toBe(run.json?.numTotalTests);
    expect(run.json?.numTotalTests).toBeGreaterThan(700);
    expect(run.stderr).not.toContain('user-engine-live');
  });
});
