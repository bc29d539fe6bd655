/**
 * Run liveness by lease, through the built preset (child `jest`): every backend of a running run
 * is terminated mid-test while a second run starts and garbage-collects; and a run whose lease
 * is taken away mid-run. The first must keep its schemas (its heartbeat reconnects and renews
 * the lease), the second must fail clearly with `run_lease_lost`, never a misleading not-ready.
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
} from '../e2e/support/harness';
import { createTestDatabase, describeWithDatabase, type TestDatabase } from '../support/database';
import { PARKING_TEST, QUICK_TEST, faultsProject } from './support/project';
import { runIdOf } from '../support/run-schemas';

jest.setTimeout(180_000);

const LEASE_MS = 3000;

/**
 * Parks in a statement (whose session the harness kills), then waits for the harness to release
 * it: the run stays alive, with its schema, while a second run garbage-collects; afterwards the
 * store must work again on a reconnected session.
 */
const KILLED_SESSIONS_TEST = `/* global test, expect */
const fs = require('fs');
const { describeLive } = require('@user-engine/jest-live');
describeLive('lease (live)', (live) => {
  test('parked when its sessions are killed', async () => {
    await live.store.upsertUser({ email: 'parked@example.org', displayName: 'Parked' });
    fs.writeFileSync(process.env.FAULTS_PARK_MARKER, live.schema);
    await live.connection.query('SELECT pg_sleep(30)');
  });
  test('after the harness releases it, the store works again', async () => {
    while (!fs.existsSync(process.env.FAULTS_RELEASE)) await new Promise((r) => setTimeout(r, 100));
    await live.reset();
    await live.store.upsertUser({ email: 'after@example.org', displayName: 'After' });
    expect((await live.recordCounts()).user_engine_users).toBe(1);
  }, 90000);
});
`;

describeWithDatabase('run liveness by lease (preset)', () => {
  let db: TestDatabase;
  let canaries: string;

  beforeAll(async () => {
    assertBuilt();
    db = await createTestDatabase('lease', { prefix: 'ue_faults_' });
    await db.plantCanaries();
    canaries = await db.canarySnapshot();
  });
  afterAll(async () => {
    removeProjects();
    await db?.drop();
  });

  function project(tests: Record<string, string>): string {
    return faultsProject({
      tests,
      config: { testEnvironmentOptions: { userEngineLive: { leaseMs: LEASE_MS } } },
    });
  }

  test("every backend of a run terminated mid-test: another run's GC keeps its schemas; the run fails only the cut test", async () => {
    const dir = project({ 'killed.test.js': KILLED_SESSIONS_TEST });
    const marker = path.join(dir, 'parked.marker');
    const release = path.join(dir, 'release.marker');
    const first = startJest(dir, {
      env: db.liveEnv({ FAULTS_PARK_MARKER: marker, FAULTS_RELEASE: release }),
      timeoutMs: 150_000,
    });
    await waitForFile(marker, 60_000);
    const schema = fs.readFileSync(marker, 'utf8').trim();
    const runId = runIdOf(schema);
    expect(runId).not.toBe('');
    const killed = await db.query<{ n: number }>(
      `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1`,
      [`user-engine-live:${runId}`],
    );
    expect(killed[0].n).toBeGreaterThan(0);
    // Past the lease: only a heartbeat that reconnected keeps the run alive now.
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS + 1500));
    const second = await runJest(project({ 'quick.test.js': QUICK_TEST }), { env: db.liveEnv() });
    if (second.code !== 0) throw new Error(describeRun(second));
    expect(await db.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).toEqual([
      { '?column?': 1 },
    ]);
    const lease = await db.query<{ valid: boolean }>(
      'SELECT lease_expires_at > now() AS valid FROM user_engine_live.runs WHERE run_id = $1',
      [runId],
    );
    expect(lease).toEqual([{ valid: true }]);

    fs.writeFileSync(release, 'go');
    const run = await first.done;
    // The parked statement's session was killed: that test fails saying so; the next one passes
    // on a reconnected session; nothing claims the store is not ready, and the run ends cleanly
    // (its lease was never lost).
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/✕ parked when its sessions are killed/);
    expect(run.stderr).toMatch(/✓ after the harness releases it, the store works again/);
    expect(run.stderr).toMatch(/was lost|terminat/i);
    expect(run.stderr).not.toMatch(/not_ready|NotReadyError|lost its lease/);
    for (const r of [run, second]) expect(r.allOutput).not.toContain(SENTINEL_PASSWORD);
    expect(await db.leftovers(5000)).toEqual({ runSchemas: [], ledgerRows: 0, backends: 0 });
    expect(await db.canarySnapshot()).toBe(canaries);
  });

  test('a run whose lease is taken away mid-run fails with run_lease_lost at its next reset and at teardown', async () => {
    const dir = project({ 'a-park.test.js': PARKING_TEST, 'b-quick.test.js': QUICK_TEST });
    const marker = path.join(dir, 'parked.marker');
    const started = startJest(dir, {
      env: db.liveEnv({ FAULTS_PARK_MARKER: marker, FAULTS_PARK_SECONDS: '2' }),
      args: ['--maxWorkers=1'],
      timeoutMs: 120_000,
    });
    await waitForFile(marker, 60_000);
    const runId = runIdOf(fs.readFileSync(marker, 'utf8').trim());
    // As if another process had collected the run: its lease is gone.
    await db.query(
      `UPDATE user_engine_live.runs SET lease_expires_at = now() - interval '1 hour' WHERE run_id = $1`,
      [runId],
    );
    const run = await started.done;
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`run ${runId} lost its lease in the run ledger`);
    expect(run.stderr).not.toMatch(/NotReadyError|not_ready/);
    expect(run.allOutput).not.toContain(SENTINEL_PASSWORD);
    expect(await db.canarySnapshot()).toBe(canaries);
  });
});
