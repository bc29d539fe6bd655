/** The summary reporter of `npm run conformance`: its lines, from run state and Jest's results. */
import SummaryReporter, {
  summaryLines,
  type RunResultsLike,
} from '../../src/jest/parent/summary-reporter';
import { RUN_STATE_ENV, clearRunState, writeRunState } from '../../src/jest/handoff';

const RESULTS: RunResultsLike = {
  numPassedTests: 429,
  numFailedTests: 2,
  numPendingTests: 60,
  numTodoTests: 1,
  numTotalTestSuites: 2,
  numRuntimeErrorTestSuites: 0,
};

const STATE = {
  runId: 'abcdefghij',
  driver: 'pg' as const,
  serverVersion: '15.4',
  redactedDsn: 'postgres://u:***@db.example:5432/ci',
};

describe('summaryLines', () => {
  test('server, driver, workers; the counts line; the wall time', () => {
    expect(
      summaryLines({
        state: STATE,
        embedded: false,
        workers: 2,
        label: 'conformance',
        results: RESULTS,
        wallMs: 12_345,
      }),
    ).toEqual([
      'user-engine-live: PostgreSQL 15.4 (postgres://u:***@db.example:5432/ci), driver pg, 2 workers',
      'conformance: 429 passed, 2 failed, 61 skipped',
      'wall time 12.3 s',
    ]);
  });

  test('embedded runs say so instead of the throwaway DSN; files that failed to run are counted', () => {
    const lines = summaryLines({
      state: STATE,
      embedded: true,
      workers: 1,
      label: 'conformance',
      results: { ...RESULTS, numRuntimeErrorTestSuites: 1 },
      wallMs: 999,
    });
    expect(lines[0]).toBe('user-engine-live: PostgreSQL 15.4 (embedded), driver pg, 1 worker');
    expect(lines).toContain('1 test file(s) failed to run');
    expect(lines.at(-1)).toBe('wall time 1.0 s');
  });

  test('without run state (live tests skipped) the counts are still printed', () => {
    const lines = summaryLines({
      state: undefined,
      embedded: false,
      workers: 2,
      label: 'x',
      results: RESULTS,
      wallMs: 0,
    });
    expect(lines[0]).toMatch(/^user-engine-live: no live run/);
    expect(lines[1]).toBe('x: 429 passed, 2 failed, 61 skipped');
  });
});

describe('SummaryReporter', () => {
  const saved = { ...process.env };
  let written: string[];
  let spy: jest.SpyInstance;

  beforeEach(() => {
    written = [];
    spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
  });

  afterEach(() => {
    spy.mockRestore();
    clearRunState(process.env);
    for (const key of ['JEST_WORKER_ID', 'USER_ENGINE_LIVE_DSN']) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  });

  test('reads the run state globalSetup left in process.env and prints the summary once', () => {
    delete process.env.JEST_WORKER_ID;
    const reporter = new SummaryReporter({ maxWorkers: 2 });
    writeRunState(process.env, STATE);
    reporter.onRunStart();
    reporter.onRunComplete(undefined, RESULTS);
    expect(written).toHaveLength(1);
    const lines = written[0].trimEnd().split('\n');
    expect(lines[0]).toBe(
      'user-engine-live: PostgreSQL 15.4 (postgres://u:***@db.example:5432/ci), driver pg, 2 workers',
    );
    expect(lines[1]).toMatch(/^conformance: \d+ passed, \d+ failed, \d+ skipped$/);
    expect(lines[2]).toMatch(/^wall time \d+\.\d s$/);
  });

  test('an in-band run (JEST_WORKER_ID set in this process during the run) counts 1 worker', () => {
    delete process.env.JEST_WORKER_ID;
    const reporter = new SummaryReporter({ maxWorkers: 4 }, { label: 'suite' });
    process.env.JEST_WORKER_ID = '1';
    reporter.onRunComplete(undefined, RESULTS);
    expect(written[0]).toContain(', 1 worker\n');
    expect(written[0]).toContain('suite: 429 passed');
  });

  test('a malformed run state does not break the summary', () => {
    process.env[RUN_STATE_ENV] = '{not json';
    const reporter = new SummaryReporter({ maxWorkers: 2 });
    reporter.onRunStart();
    reporter.onRunComplete(undefined, RESULTS);
    expect(written[0]).toMatch(/^user-engine-live: no live run/);
  });
});
