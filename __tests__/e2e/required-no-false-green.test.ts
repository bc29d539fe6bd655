/**
 * USER_ENGINE_LIVE_REQUIRED=1 leaves no false green: every way a provider's live block can end up
 * not running live (its testEnvironment set after the preset, a `@jest-environment` docblock,
 * describeLive in a project without the preset, no live test executed at all) fails the run with
 * a message naming the cause and the fix. Without REQUIRED the same projects skip silently.
 * Each case is the real Jest CLI on a fixture provider project (fixtures/required).
 */
import {
  assertBuilt,
  describeRun,
  prepareProject,
  removeProjects,
  runJest,
  SENTINEL_PASSWORD,
  titles,
  type JestRun,
} from './support/harness';
import { createTestDatabase, describeWithDatabase, type TestDatabase } from '../support/database';

jest.setTimeout(180_000);

type Config = 'preset' | 'override' | 'no-preset';

describeWithDatabase('USER_ENGINE_LIVE_REQUIRED: no false green', () => {
  let db: TestDatabase;
  let project: string;

  beforeAll(async () => {
    assertBuilt();
    db = await createTestDatabase('required', { prefix: 'ue_ergo_' });
    project = prepareProject('required');
  });
  afterAll(async () => {
    removeProjects();
    await db?.drop();
  });

  function run(config: Config, files: string, required: boolean): Promise<JestRun> {
    return runJest(project, {
      args: ['--config', `${config}.config.js`],
      env: db.liveEnv({
        E2E_FILES: files,
        ...(required ? { USER_ENGINE_LIVE_REQUIRED: '1' } : {}),
      }),
    });
  }

  function expectExit(result: JestRun, code: number): void {
    if (result.code !== code) {
      throw new Error(`expected exit ${code}\n${describeRun(result)}`);
    }
    expect(result.allOutput).not.toContain(SENTINEL_PASSWORD);
  }

  /** The failure message of one test file (the "Test suite failed to run" text). */
  function fileMessage(result: JestRun, file: string): string {
    const entry = result.json?.testResults.find((r) => r.name.endsWith(`/tests/${file}.test.js`));
    if (!entry) throw new Error(`no result for ${file}\n${describeRun(result)}`);
    return entry.message;
  }

  test('control: the preset as documented passes under REQUIRED, its live tests run', async () => {
    const result = await run('preset', 'live,plain', true);
    expectExit(result, 0);
    expect(titles(result, 'passed')).toEqual(
      expect.arrayContaining([
        'live block writes through the live store',
        'live block reads the server version',
        'plain test, no database',
      ]),
    );
    expect(result.json?.numPendingTests).toBe(0);
    expect(result.stderr).not.toContain('USER_ENGINE_LIVE_REQUIRED');
    // '@user-engine/jest-live/summary-reporter', as docs/provider-setup.md shows it.
    expect(result.stdout).toMatch(/^user-engine-live: PostgreSQL \d+/m);
    expect(result.stdout).toContain('required: 3 passed, 0 failed, 0 skipped');
  });

  test('a @jest-environment docblock fails its file under REQUIRED, naming the docblock', async () => {
    const result = await run('preset', 'live,docblock', true);
    expectExit(result, 1);
    const message = fileMessage(result, 'docblock');
    expect(message).toContain('LiveRequiredError');
    expect(message).toContain('describeLive("docblock block")');
    expect(message).toContain("docblock `@jest-environment node` replaces the preset's");
    expect(message).toContain('Fix: remove that docblock line');
    expect(message).toContain('unset USER_ENGINE_LIVE_REQUIRED');
    // The other file still ran live, and the run as a whole had live tests.
    expect(titles(result, 'passed')).toContain('live block writes through the live store');
    expect(result.stderr).not.toContain('no live test ran');
  });

  test('without REQUIRED the docblock file skips silently', async () => {
    const result = await run('preset', 'live,docblock', false);
    expectExit(result, 0);
    expect(titles(result, 'pending')).toEqual(['docblock block would need the live store']);
    expect(result.stderr).not.toContain('USER_ENGINE_LIVE_REQUIRED');
  });

  test('testEnvironment after the preset fails under REQUIRED: the file and the whole run', async () => {
    const result = await run('override', 'live,plain', true);
    expectExit(result, 1);
    // globalTeardown throws too, so Jest writes no JSON: the file's failure is read from stderr.
    expect(result.json).toBeUndefined();
    expect(result.stderr).toMatch(/FAIL tests\/live\.test\.js\s+● Test suite failed to run/);
    expect(result.stderr).toContain('describeLive("live block")');
    expect(result.stderr).toContain("runs in a test environment other than the preset's");
    expect(result.stderr).toContain('Fix: remove `testEnvironment`');
    // globalTeardown: not one file ran in the preset's environment.
    expect(result.stderr).toContain('globalTeardown');
    expect(result.stderr).toContain('no live test ran in this run');
    expect(result.stderr).toContain("no test file ran in the preset's test environment");
  });

  test('without REQUIRED the overridden environment skips silently', async () => {
    const result = await run('override', 'live,plain', false);
    expectExit(result, 0);
    expect(result.json?.numPendingTests).toBe(2);
    expect(result.json?.numPassedTests).toBe(1);
    expect(result.stderr).not.toContain('USER_ENGINE_LIVE_REQUIRED');
  });

  test('describeLive in a project without the preset fails under REQUIRED', async () => {
    const result = await run('no-preset', 'live', true);
    expectExit(result, 1);
    const message = fileMessage(result, 'live');
    expect(message).toContain("the preset's test environment is not active here");
    expect(message).toContain("Fix: add `preset: '@user-engine/jest-live'`");
  });

  test('without REQUIRED a project without the preset skips silently', async () => {
    const result = await run('no-preset', 'live', false);
    expectExit(result, 0);
    expect(result.json?.numPendingTests).toBe(2);
    expect(result.stderr).not.toContain('USER_ENGINE_LIVE_REQUIRED');
  });

  test('a run with zero live tests fails under REQUIRED, in globalTeardown', async () => {
    const result = await run('preset', 'plain', true);
    expectExit(result, 1);
    expect(result.stderr).toContain('Got error running globalTeardown');
    expect(result.stderr).toContain(
      "USER_ENGINE_LIVE_REQUIRED=1, but no live test ran in this run: 1 test file(s) ran in the preset's test environment",
    );
    expect(result.stderr).toContain('Fix: declare live tests with describeLive');
    // The run still cleaned up after itself before failing.
    expect(await db.leftovers()).toEqual({ runSchemas: [], ledgerRows: 0, backends: 0 });
  });

  test('a -t filter that selects no live test fails under REQUIRED; passes without', async () => {
    const none = await runJest(project, {
      args: ['--config', 'preset.config.js', '-t', 'plain test'],
      env: db.liveEnv({ E2E_FILES: 'live,plain', USER_ENGINE_LIVE_REQUIRED: '1' }),
    });
    expectExit(none, 1);
    expect(none.stderr).toContain('no live test ran in this run');
    const silent = await runJest(project, {
      args: ['--config', 'preset.config.js', '-t', 'plain test'],
      env: db.liveEnv({ E2E_FILES: 'live,plain' }),
    });
    expectExit(silent, 0);
  });
});
