/**
 * A live run killed with SIGKILL mid-run (CLI and workers, like an OOM kill or a cancelled CI
 * job) leaves its schemas behind; the next run collects them, and only them.
 */
import * as path from 'path';
import {
  assertBuilt,
  describeRun,
  prepareProject,
  removeProjects,
  runJest,
  SENTINEL_PASSWORD,
  startJest,
  waitForFile,
} from './support/harness';
import { createTestDatabase, describeWithDatabase, type TestDatabase } from '../support/database';

jest.setTimeout(180_000);

describeWithDatabase('recovery after a killed run', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    assertBuilt();
    db = await createTestDatabase('crash', { prefix: 'ue_e2e_' });
    await db.plantCanaries();
  });
  afterAll(async () => {
    removeProjects();
    await db?.drop();
  });

  test("the next run drops the killed run's schemas and ledger rows", async () => {
    const canaries = await db.canarySnapshot();
    const project = prepareProject('provider');
    const marker = path.join(project, 'hang-marker.txt');
    const doomed = startJest(project, {
      env: db.liveEnv({ E2E_HANG_MARKER: marker, E2E_LEASE_MS: '5000' }),
      args: ['--maxWorkers=2'],
      timeoutMs: 170_000,
    });
    await waitForFile(marker, 120_000);
    const before = await db.leftovers();
    expect(before.runSchemas.length).toBeGreaterThan(0);
    expect(before.ledgerRows).toBeGreaterThan(0);

    doomed.kill('SIGKILL');
    const killed = await doomed.done;
    expect(killed.signal).toBe('SIGKILL');
    // Killed means no teardown: the worker schemas are still there. Fresh schemas (`_f<n>`) may
    // have come or gone in the other worker between the two looks; each one left is in the ledger.
    const orphaned = await db.leftovers();
    const workerSchemas = (names: string[]) => names.filter((name) => !/_f[0-9]+$/.test(name));
    expect(workerSchemas(orphaned.runSchemas)).toEqual(workerSchemas(before.runSchemas));
    expect(workerSchemas(orphaned.runSchemas).length).toBeGreaterThan(0);
    expect(orphaned.ledgerRows).toBeGreaterThanOrEqual(orphaned.runSchemas.length);
    expect(orphaned.backends).toBe(0);
    // Its lease (5 s) runs out; the next run (same 5 s grace) collects it once 10 s have passed.
    await new Promise((resolve) => setTimeout(resolve, 10_500));

    const next = await runJest(prepareProject('provider'), {
      env: db.liveEnv({ E2E_LEASE_MS: '5000' }),
      args: ['--maxWorkers=2'],
      timeoutMs: 150_000,
    });
    if (next.code !== 0) throw new Error(describeRun(next));
    expect(next.json?.numFailedTests).toBe(0);
    for (const run of [killed, next]) expect(run.allOutput).not.toContain(SENTINEL_PASSWORD);
    expect(await db.leftovers()).toEqual({ runSchemas: [], ledgerRows: 0, backends: 0 });
    expect(await db.canarySnapshot()).toBe(canaries);
  });
});
