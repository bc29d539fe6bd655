/**
 * `jest --watchAll` through the built preset: every cycle reruns globalSetup and globalTeardown
 * (a new run id each time). Between cycles nothing may accumulate: no backend of ours, no run
 * schema, no ledger row. Cycles are triggered by touching a test file (Node's file watcher;
 * key presses need a TTY, which a child process does not have).
 */
import * as fs from 'fs';
import * as path from 'path';
import { assertBuilt, describeRun, removeProjects, startJest } from '../e2e/support/harness';
import { printMeasurements, record } from './support/bounds';
import {
  createTestDatabase,
  describeWithDatabase,
  type TestDatabase,
  type Leftovers,
} from '../support/database';
import { QUICK_TEST, faultsProject } from './support/project';

jest.setTimeout(120_000);

const CYCLES = 4;
const CYCLE_DONE = /Ran all test suites\./g;

/** A live file that logs the run id it ran under, so cycles can be told apart. */
const RUN_ID_TEST = `/* global test, expect */
const fs = require('fs');
const { describeLive } = require('@user-engine/jest-live');

describeLive('watched (live)', (live) => {
  test('records its run', async () => {
    fs.appendFileSync(process.env.FAULTS_RUN_LOG, live.runId + '\\n');
    await live.store.upsertUser({ email: 'watch@example.org', displayName: 'Watch' });
    expect((await live.recordCounts()).user_engine_users).toBe(1);
  });
});
`;

describeWithDatabase('watch mode', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    assertBuilt();
    db = await createTestDatabase('watch', { prefix: 'ue_faults_' });
  });
  afterAll(async () => {
    printMeasurements('preset: watch mode');
    removeProjects();
    await db?.drop();
  });

  test(`${CYCLES} --watchAll cycles leak no backend, schema or ledger row`, async () => {
    const project = faultsProject({
      tests: { 'watched.test.js': RUN_ID_TEST, 'quick.test.js': QUICK_TEST },
      // The harness writes its JSON result into the project; it must not trigger cycles itself.
      config: { watchPathIgnorePatterns: ['\\.json$', '\\.log$'] },
    });
    const runLog = path.join(project, 'runs.log');
    const started = startJest(project, {
      env: db.liveEnv({ FAULTS_RUN_LOG: runLog }),
      args: ['--watchAll', '--watchman=false', '--maxWorkers=2'],
      timeoutMs: 100_000,
    });
    let stderr = '';
    started.child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const cyclesDone = () => (stderr.match(CYCLE_DONE) ?? []).length;

    async function untilCycle(n: number): Promise<void> {
      const deadline = Date.now() + 30_000;
      while (cyclesDone() < n) {
        if (Date.now() > deadline) throw new Error(`cycle ${n} did not finish:\n${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }

    /** Leftovers once the cycle's teardown has had time to finish (it runs after the report). */
    async function atRest(): Promise<Leftovers> {
      const deadline = Date.now() + 5000;
      for (;;) {
        const left = await db.leftovers(0);
        const clean = left.backends === 0 && left.runSchemas.length === 0 && left.ledgerRows === 0;
        if (clean || Date.now() > deadline) return left;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }

    const rests: Leftovers[] = [];
    try {
      for (let cycle = 1; cycle <= CYCLES; cycle++) {
        await untilCycle(cycle);
        rests.push(await atRest());
        if (cycle < CYCLES) {
          fs.appendFileSync(path.join(project, 'tests', 'watched.test.js'), `// cycle ${cycle}\n`);
        }
      }
    } finally {
      started.kill('SIGTERM');
    }
    const run = await started.done;
    const runIds = fs.readFileSync(runLog, 'utf8').split('\n').filter(Boolean);
    record(
      `${CYCLES} cycles, run ids ${runIds.join(', ')}; at rest after each: ${JSON.stringify(rests)}`,
    );
    expect(new Set(runIds).size).toBe(CYCLES);
    expect(stderr).not.toMatch(/✕/);
    for (const rest of rests) {
      expect(rest).toEqual({ runSchemas: [], ledgerRows: 0, backends: 0 });
    }
    // SIGTERM ends watch mode without a teardown; the next run's collection covers that case. So
    // the process ends by that signal, or exits cleanly; any other end (a crash) fails here.
    const endedAsTold = run.signal === 'SIGTERM' || (!run.signal && run.code === 0);
    if (!endedAsTold) throw new Error(describeRun(run));
  });
});
