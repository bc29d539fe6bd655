/**
 * Faults in the middle of a live run through the built preset (a child `jest`): the connection
 * is cut (and the server stays away), the server stops answering, or the user presses Ctrl-C.
 * The affected tests must fail saying so, Jest must exit on its own within its bound, and the run
 * must leave nothing behind once the next run has cleaned up.
 */
import * as fs from 'fs';
import * as path from 'path';
import {
  SENTINEL_PASSWORD,
  assertBuilt,
  describeRun,
  removeProjects,
  runJest,
  startJest,
  waitForFile,
  type JestRun,
  type StartedJest,
} from '../e2e/support/harness';
import { printMeasurements, record } from './support/bounds';
import { createTestDatabase, describeWithDatabase, type TestDatabase } from '../support/database';
import { PARKING_TEST, QUICK_TEST, faultsProject } from './support/project';
import { startFaultProxy, type FaultProxy, upstreamOf } from './support/proxy';

jest.setTimeout(120_000);

/** How long Jest may take to exit on its own after a cut. */
const EXIT_AFTER_CUT_MS = 10_000;
const STATEMENT_TIMEOUT_MS = 2000;
const GRACE_MS = 1000;
/** Long enough for the fault to land mid-statement, short enough for its backend to end soon. */
const PARK_SECONDS = '2';
const DRIVERS = ['pg', 'postgres'] as const;
/**
 * The runs' lease: a run that dies mid-test stops renewing it, and the next run (same lease, so
 * the same grace) collects its schemas once it has been expired that long.
 */
const LEASE_MS = 4000;

interface Finished {
  run: JestRun | undefined;
  /** ms from the fault to Jest's exit, or to the harness giving up. */
  exitMs: number;
  killed: string | undefined;
}

async function finish(started: StartedJest, faultAt: number): Promise<Finished> {
  try {
    const run = await started.done;
    return { run, exitMs: Date.now() - faultAt, killed: undefined };
  } catch (error) {
    return {
      run: undefined,
      exitMs: Date.now() - faultAt,
      killed: (error as Error).message.split('\n')[0],
    };
  }
}

/**
 * How the default reporter printed a test (`✓ title (12 ms)`). Read from stderr rather than the
 * JSON file: Jest writes no JSON when globalTeardown fails, which a cut makes it do.
 */
function reported(run: JestRun, title: string): { status: string; ms: number | undefined } {
  for (const line of run.stderr.split('\n')) {
    const match = /^\s*([✓✕○])\s(.*?)(?:\s\((\d+) ms\))?$/.exec(line);
    if (match && match[2] === title) {
      const status = match[1] === '✓' ? 'passed' : match[1] === '✕' ? 'failed' : 'skipped';
      return { status, ms: match[3] === undefined ? undefined : Number(match[3]) };
    }
  }
  return { status: 'not reported', ms: undefined };
}

describeWithDatabase('faults in the middle of a live run', () => {
  let db: TestDatabase;
  let proxy: FaultProxy;
  let canaries: string;

  beforeAll(async () => {
    assertBuilt();
    db = await createTestDatabase('midrun', { prefix: 'ue_faults_' });
    await db.plantCanaries();
    canaries = await db.canarySnapshot();
    proxy = await startFaultProxy(upstreamOf(db.dsn));
  });
  afterEach(() => {
    proxy.cut();
    proxy.mode = 'pass';
  });
  afterAll(async () => {
    printMeasurements('preset: faults mid-run');
    removeProjects();
    await proxy?.close();
    await db?.drop();
  });

  function parkingProject(options: Record<string, unknown> = {}): string {
    return faultsProject({
      tests: { 'park.test.js': PARKING_TEST },
      config: {
        testTimeout: 30_000,
        testEnvironmentOptions: {
          userEngineLive: { connectTimeoutMs: 1000, leaseMs: LEASE_MS, ...options },
        },
      },
    });
  }

  /** Starts a run through the proxy and resolves once the parked test sits in its statement. */
  async function startParked(project: string, env: Record<string, string>): Promise<StartedJest> {
    const marker = path.join(project, 'parked.marker');
    const started = startJest(project, {
      env: db.liveEnv(
        {
          FAULTS_PARK_MARKER: marker,
          FAULTS_PARK_SECONDS: PARK_SECONDS,
          ...env,
        },
        proxy.dsnVia(db.dsn),
      ),
      timeoutMs: 60_000,
    });
    let exited: JestRun | Error | undefined;
    started.done.then(
      (run) => (exited = run),
      (error: Error) => (exited = error),
    );
    // Polled here rather than with the harness's waitForFile, which cannot stop early.
    const deadline = Date.now() + 30_000;
    while (!fs.existsSync(marker) && exited === undefined && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (!fs.existsSync(marker)) {
      started.kill('SIGKILL');
      const why =
        exited === undefined
          ? 'no test parked within 30 s'
          : exited instanceof Error
            ? exited.message
            : describeRun(exited);
      throw new Error(`the run never parked in its statement:\n${why}`);
    }
    // Let the statement reach the server.
    await new Promise((resolve) => setTimeout(resolve, 200));
    return started;
  }

  /** The next ordinary run (direct, no proxy) passes and leaves nothing of either run behind. */
  async function expectNextRunCleansUp(): Promise<void> {
    proxy.cut();
    // The dead run renewed its lease at the latest when it died: expiry plus grace, and a margin.
    await new Promise((resolve) => setTimeout(resolve, 2 * LEASE_MS + 500));
    const next = await runJest(
      faultsProject({
        tests: { 'quick.test.js': QUICK_TEST },
        config: { testEnvironmentOptions: { userEngineLive: { leaseMs: LEASE_MS } } },
      }),
      { env: db.liveEnv() },
    );
    if (next.code !== 0) throw new Error(describeRun(next));
    expect(await db.leftovers(5000)).toEqual({ runSchemas: [], ledgerRows: 0, backends: 0 });
    expect(await db.canarySnapshot()).toBe(canaries);
  }

  describe.each(DRIVERS)('driver %s', (driver) => {
    test('connection cut mid-test, server gone: the test says so, Jest exits within 10 s, the next run cleans up', async () => {
      const started = await startParked(parkingProject(), { USER_ENGINE_LIVE_DRIVER: driver });
      const cutAt = Date.now();
      proxy.cut();
      proxy.mode = 'reset';
      const { run, exitMs, killed } = await finish(started, cutAt);
      record(
        `${driver} cut mid-test: ${killed ?? `exit ${run?.code}`} ${exitMs} ms after the cut; left ${JSON.stringify(await db.leftovers(0))}`,
      );
      if (!run) throw new Error(`Jest did not exit on its own after the cut: ${killed}`);
      expect(exitMs).toBeLessThanOrEqual(EXIT_AFTER_CUT_MS);
      expect(run.code).toBe(1);
      expect(reported(run, 'before the fault').status).toBe('passed');
      expect(reported(run, 'parked when the fault hits').status).toBe('failed');
      expect(run.stderr).toMatch(
        new RegExp(
          `connection to PostgreSQL at 127\\.0\\.0\\.1:${proxy.port}, database "${db.name}", user "postgres" was lost`,
        ),
      );
      expect(run.allOutput).not.toContain(SENTINEL_PASSWORD);
      await expectNextRunCleansUp();
    });

    test('server stops answering mid-test: bounded by statementTimeoutMs, not by the test timeout; Jest exits on its own', async () => {
      const started = await startParked(
        parkingProject({ statementTimeoutMs: STATEMENT_TIMEOUT_MS }),
        { USER_ENGINE_LIVE_DRIVER: driver },
      );
      const frozenAt = Date.now();
      proxy.freeze();
      const { run, exitMs, killed } = await finish(started, frozenAt);
      const parked = run ? reported(run, 'parked when the fault hits') : undefined;
      record(
        `${driver} stall mid-test: ${killed ?? `exit ${run?.code}`} ${exitMs} ms after the stall; parked test ${parked?.status} after ${parked?.ms} ms`,
      );
      if (!run || !parked)
        throw new Error(`Jest did not exit on its own after the stall: ${killed}`);
      expect(parked.status).toBe('failed');
      expect(run.stderr).not.toMatch(/Exceeded timeout/);
      expect(run.stderr).toMatch(/timeout|timed out|was lost/i);
      expect(parked.ms ?? Infinity).toBeLessThanOrEqual(STATEMENT_TIMEOUT_MS + GRACE_MS + 1000);
      expect(exitMs).toBeLessThanOrEqual(STATEMENT_TIMEOUT_MS + EXIT_AFTER_CUT_MS);
      await expectNextRunCleansUp();
    });
  });

  test('Ctrl-C (SIGINT to the process group) mid-run: Jest stops at once, and the next run drops what it left', async () => {
    const project = faultsProject({
      tests: { 'park.test.js': PARKING_TEST, 'quick.test.js': QUICK_TEST },
      config: { testEnvironmentOptions: { userEngineLive: { leaseMs: LEASE_MS } } },
    });
    const marker = path.join(project, 'parked.marker');
    const started = startJest(project, {
      env: db.liveEnv({ FAULTS_PARK_MARKER: marker, FAULTS_PARK_SECONDS: PARK_SECONDS }),
      args: ['--maxWorkers=2'],
      timeoutMs: 60_000,
    });
    await waitForFile(marker, 30_000);
    const during = await db.leftovers(0);
    expect(during.runSchemas.length).toBeGreaterThan(0);
    const interruptedAt = Date.now();
    started.kill('SIGINT');
    const { run, exitMs, killed } = await finish(started, interruptedAt);
    const after = await db.leftovers(5000);
    record(
      `SIGINT mid-run: ${killed ?? `exit ${run?.code} (${run?.signal})`} ${exitMs} ms after; left by the run itself ${JSON.stringify(after)}`,
    );
    if (!run) throw new Error(`Jest did not stop after SIGINT: ${killed}`);
    expect(exitMs).toBeLessThanOrEqual(EXIT_AFTER_CUT_MS);
    // Teardown does not run on SIGINT (Jest has no handler): the schemas wait for the next run,
    // which collects them once the interrupted run's lease has expired (no session survives).
    expect(after.backends).toBe(0);
    await expectNextRunCleansUp();
  });
});
