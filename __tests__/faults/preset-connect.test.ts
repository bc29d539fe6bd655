/**
 * A live run through the built preset (a child `jest`) whose server cannot be had: unreachable,
 * closing every connection, never answering, answering the startup and then nothing, or holding
 * the ledger lock. Each run must fail on its own within its bound, say where and why, print no
 * password, run no test body and write nothing.
 */
import * as path from 'path';
import { Client } from 'pg';
import {
  SENTINEL_PASSWORD,
  assertBuilt,
  describeRun,
  removeProjects,
  runJest,
  type JestRun,
} from '../e2e/support/harness';
import { printMeasurements, record } from './support/bounds';
import { createTestDatabase, describeWithDatabase, type TestDatabase } from '../support/database';
import { QUICK_TEST, bodiesRun, faultsProject } from './support/project';
import {
  closedPort,
  startFaultProxy,
  type FaultProxy,
  type ProxyMode,
  upstreamOf,
} from './support/proxy';

jest.setTimeout(120_000);

const CONNECT_TIMEOUT_MS = 1000;
/** The preset's fixed bound on lock waits (src/jest/parent/run.ts). */
const PRESET_LOCK_TIMEOUT_MS = 5000;
const GRACE_MS = 1000;
/** Start-up jitter of a child Jest on a busy two-core machine, on top of the measured baseline. */
const JITTER_MS = 1000;

type Fault = 'closed port' | Extract<ProxyMode, 'refuse' | 'stall' | 'stall-after-startup'>;
const FAULTS: Fault[] = ['closed port', 'refuse', 'stall', 'stall-after-startup'];
const DRIVERS = ['pg', 'postgres'] as const;

describeWithDatabase('a live run whose server cannot be had', () => {
  let db: TestDatabase;
  let proxy: FaultProxy;
  let project: string;
  let canaries: string;
  /** A whole successful live run through the proxy: Jest start-up, connect, one test, teardown. */
  let baselineMs: number;

  beforeAll(async () => {
    assertBuilt();
    db = await createTestDatabase('preset_connect', { prefix: 'ue_faults_' });
    await db.plantCanaries();
    canaries = await db.canarySnapshot();
    proxy = await startFaultProxy(upstreamOf(db.dsn));
    project = faultsProject({
      tests: { 'quick.test.js': QUICK_TEST },
      config: {
        testEnvironmentOptions: { userEngineLive: { connectTimeoutMs: CONNECT_TIMEOUT_MS } },
      },
    });
    const runs: number[] = [];
    for (const driver of DRIVERS) {
      const run = await runJest(project, {
        env: db.liveEnv({ USER_ENGINE_LIVE_DRIVER: driver }, proxy.dsnVia(db.dsn)),
      });
      if (run.code !== 0) throw new Error(`baseline run failed: ${describeRun(run)}`);
      runs.push(run.durationMs);
    }
    baselineMs = Math.max(...runs);
    record(`baseline: a passing live run takes ${runs.join(' / ')} ms (pg / postgres)`);
  });

  afterEach(() => {
    proxy.mode = 'reset';
    proxy.cut();
    proxy.mode = 'pass';
  });

  afterAll(async () => {
    printMeasurements('preset: server cannot be had');
    removeProjects();
    await proxy?.close();
    await db?.drop();
  });

  /** The run, or a description of why there is none (the harness killed it). */
  async function runOrKilled(env: Record<string, string>, limitMs: number) {
    try {
      return await runJest(project, { env, timeoutMs: limitMs });
    } catch (error) {
      return `${(error as Error).message.split('\n')[0]} (killed)`;
    }
  }

  async function expectNothingWritten(): Promise<void> {
    const left = await db.leftovers(3000);
    expect(left.runSchemas).toEqual([]);
    expect(left.ledgerRows).toBe(0);
    expect(left.backends).toBe(0);
    expect(await db.canarySnapshot()).toBe(canaries);
  }

  function expectFailedClosed(run: JestRun | string, boundMs: number, log: string): JestRun {
    if (typeof run === 'string') throw new Error(`expected a failure within ${boundMs} ms: ${run}`);
    expect({ code: run.code, withinBound: run.durationMs <= boundMs }).toEqual({
      code: 1,
      withinBound: true,
    });
    expect(run.allOutput).not.toContain(SENTINEL_PASSWORD);
    expect(bodiesRun(log)).toEqual([]);
    return run;
  }

  describe.each(DRIVERS)('driver %s', (driver) => {
    test.each(FAULTS)(
      '%s: fails within baseline + connectTimeoutMs + 1 s, naming host, port, database and cause',
      async (fault) => {
        let dsn: string;
        let port: number;
        if (fault === 'closed port') {
          port = await closedPort();
          const url = new URL(db.dsn);
          url.port = String(port);
          dsn = url.toString();
        } else {
          proxy.mode = fault;
          port = proxy.port;
          dsn = proxy.dsnVia(db.dsn);
        }
        const bound = baselineMs + CONNECT_TIMEOUT_MS + GRACE_MS + JITTER_MS;
        const log = path.join(project, `bodies-${driver}-${fault.replace(/\W/g, '-')}.log`);
        const run = await runOrKilled(
          db.liveEnv({ USER_ENGINE_LIVE_DRIVER: driver, FAULTS_BODY_LOG: log }, dsn),
          bound + 4000,
        );
        record(
          `${driver}, ${fault}: ${typeof run === 'string' ? run : `exit ${run.code} after ${run.durationMs} ms`} (bound ${bound} ms)`,
        );
        const failed = expectFailedClosed(run, bound, log);
        const message = failed.stderr;
        expect(message).toContain(`could not connect to PostgreSQL at 127.0.0.1:${port}`);
        expect(message).toContain(`database "${db.name}"`);
        expect(message).toMatch(/user "postgres": \S+/);
        await expectNothingWritten();
      },
    );
  });

  test('a session holding the ledger: fails after the preset lock timeout, naming the ledger and the run', async () => {
    const holder = new Client({
      connectionString: db.dsn,
      application_name: 'user-engine-live:zzzzzzzzz9',
    });
    await holder.connect();
    try {
      // The ledger exists since the baseline runs.
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE user_engine_live.runs IN ACCESS EXCLUSIVE MODE');
      const { rows } = await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      const bound = baselineMs + PRESET_LOCK_TIMEOUT_MS + GRACE_MS + JITTER_MS;
      const log = path.join(project, 'bodies-ledger-lock.log');
      const run = await runOrKilled(db.liveEnv({ FAULTS_BODY_LOG: log }), bound + 4000);
      record(
        `ledger locked by another run: ${typeof run === 'string' ? run : `exit ${run.code} after ${run.durationMs} ms`} (bound ${bound} ms)`,
      );
      const failed = expectFailedClosed(run, bound, log);
      expect(failed.stderr).toContain(
        'waiting for a lock on the ledger table "user_engine_live"."runs"',
      );
      expect(failed.stderr).toContain(`live run zzzzzzzzz9`);
      expect(failed.stderr).toContain(`backend pid ${rows[0].pid}`);
    } finally {
      await holder.end();
    }
    await expectNothingWritten();
  });
});
